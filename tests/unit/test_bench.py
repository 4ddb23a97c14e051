"""The benchmark's own logic: citizens follow what the bot asks; percentiles; the report keeps other sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.citizens import COMPLAINTS, Answer, Citizen, Outcome
from bench.load import BenchConfig, markers, percentile, served_turns, write_reports

PHOTO = Answer("Apakah ada foto pendukung?", [("Lewati", "/skip", 11)])
PRIVACY = Answer(
    "Bagaimana identitas Bapak/Ibu ditampilkan kepada petugas?",
    [
        ("Biasa", '/choose_privacy{"privacy":"biasa"}', 12),
        ("Anonim", '/choose_privacy{"privacy":"anonim"}', 12),
        ("Rahasia", '/choose_privacy{"privacy":"rahasia"}', 12),
    ],
)
SUMMARY = Answer("Mohon periksa kembali ringkasan laporan Anda: ... Lokasi: ...", [("✅ Kirim laporan", "/affirm", 13)])
CREATED = Answer("Terima kasih 🙏\n\n🔖 Kode laporan: ADU-K7X3M9P\n📅 Target penyelesaian: ...")
ASK_LOCATION = Answer("Di mana lokasi kejadiannya? Bisa juga kirim lokasi (share location) 📍")


@pytest.mark.parametrize("number", [0, 1, 2, 3])
def test_a_citizen_follows_the_complaint_flow_to_the_status_check(number: int) -> None:
    citizen = Citizen.make(number)
    assert citizen.first_move().text in COMPLAINTS
    location = citizen.next_move(ASK_LOCATION)
    if number % 2 == 0:
        assert location.kind == "location" and location.rasa_text().startswith("/share_location{")
    else:
        assert location.kind == "text" and location.text == citizen.address
    assert citizen.next_move(PHOTO).text == "/skip"
    privacy = citizen.next_move(PRIVACY)
    assert privacy.kind == "button" and citizen.privacy in privacy.text and privacy.message_id == 12
    assert citizen.next_move(SUMMARY).text == "/affirm"
    status = citizen.next_move(CREATED)
    assert "adu-k7x3m9p" in status.text.lower() and citizen.code == "ADU-K7X3M9P"
    assert citizen.next_move(Answer("Laporan ADU-K7X3M9P: Diteruskan ke OPD")) is None
    assert citizen.done


def test_a_category_question_is_answered_with_a_button() -> None:
    citizen = Citizen.make(5)
    ask = Answer("kategori apa?", [("Jalan", '/choose_category{"category":"infrastruktur"}', 3)])
    assert citizen.next_move(ask).text.startswith("/choose_category")


def test_a_citizen_gives_up_on_answers_it_cannot_follow() -> None:
    citizen = Citizen.make(4)
    odd = Answer("Halo! Ada yang bisa dibantu?")
    assert citizen.next_move(odd).text == citizen.complaint
    assert citizen.next_move(odd).text == citizen.complaint
    with pytest.raises(Outcome):
        citizen.next_move(odd)


def test_a_status_answer_without_the_code_is_an_error() -> None:
    citizen = Citizen.make(6)
    citizen.next_move(CREATED)
    with pytest.raises(Outcome):
        citizen.next_move(Answer("Maaf, laporan tidak ditemukan."))


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 95) == 3.0
    assert percentile([], 95) is None


def _report(when: str) -> dict:
    run = {
        "turns": 30,
        "conversations": 5,
        "completed": 5,
        "errors": 0,
        "turns_per_s": 4.0,
        "conversations_per_s": 0.7,
        "latency_ms": {"p50": 100.0, "p95": 200.0, "p99": 250.0},
    }
    return {
        "when": when,
        "machine": {"machine": "x86_64", "cpus": 2, "memory_gb": 24, "load_avg_at_start": [0.5, 0.5, 0.5]},
        "config": {"profile": "default", "citizens": 5, "think": 2.0, "saturate": False, "bare": "same"},
        "ours": run,
        "bare_rasa": {**run, "turns_per_s": 5.0},
        "ratios": {"p95": 1.0, "turns_per_s": 0.8},
        "peak_rss_mb": {"rasa": 870, "actions": 90, "gateway": 120},
        "peak_rss_total_mb": 1080,
        "cpu_ms_per_turn": {"rasa": 50.0},
    }


def test_the_report_replaces_only_its_own_section(tmp_path: Path) -> None:
    (tmp_path / "bench.md").write_text("# Benchmarks\n\n## Ticket store\n\nkept as is\n")
    first = write_reports(_report("2026-12-01T22:00:00+00:00"), tmp_path)
    second = write_reports(_report("2026-12-01T23:00:00+00:00"), tmp_path)
    text = (tmp_path / "bench.md").read_text()
    begin, end = markers(_report("2026-12-01T23:00:00+00:00"))
    assert "kept as is" in text and text.count(begin) == 1 and text.count(end) == 1
    assert second.name in text and first.name not in text
    assert first.exists() and second.exists()
    assert "| bare Rasa (REST channel) | 30 | 5/5 | 0 | 100.0 ms | 200.0 ms |" in text


def test_each_profile_and_load_keeps_its_own_section(tmp_path: Path) -> None:
    default = _report("2026-12-01T22:00:00+00:00")
    scaled = _report("2026-12-01T23:00:00+00:00")
    scaled["config"] = {**scaled["config"], "profile": "scaled"}
    write_reports(default, tmp_path)
    write_reports(scaled, tmp_path)
    text = (tmp_path / "bench.md").read_text()
    assert "## `aduan bench` (default profile)" in text and "## `aduan bench` (scaled profile)" in text


def test_cpu_per_turn_counts_only_the_turns_a_process_served() -> None:
    same = served_turns(BenchConfig(bare="same"), 30, 28)
    assert same == {"gateway": 30, "actions": 58, "rasa": 58, "bare_rasa": 28}
    assert served_turns(BenchConfig(bare="default"), 30, 28)["rasa"] == 30
