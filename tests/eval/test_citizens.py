"""The simulated citizen on its own (no stack): reading bot turns by meaning, answering, judging."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.evaluation.citizens import (
    CATEGORY,
    COMPLAINT,
    EDIT,
    FALLBACK,
    FORWARD,
    LOCATION,
    OTHER,
    PHOTO,
    PRIVACY,
    SUMMARY,
    BotMessage,
    BotTurn,
    Button,
    Conversation,
    classify,
    load_citizens,
    parse_citizen,
)
from bot.evaluation.conversations import assign_channels, judge
from bot.evaluation.report import percentile, summarize, write_report

CITIZENS = Path(__file__).parent / "citizens.yml"


def turn(*texts: str, buttons: tuple[str, ...] = ()) -> BotTurn:
    messages = [BotMessage(t) for t in texts]
    if buttons:
        messages[-1] = BotMessage(texts[-1], tuple(Button(b, f"/{b}") for b in buttons))
    return BotTurn(tuple(messages))


def citizen(**raw) -> Conversation:
    raw = {"id": "t", "say": "lampu jalan di gang mawar mati", "cat": "penerangan_jalan", "loc": "gg mawar"} | raw
    channel = raw.pop("_channel", "web")
    return Conversation(parse_citizen(raw, "free"), channel)


SUMMARY_TEXT = "Mohon periksa kembali ringkasan laporan Anda:\n📍 Lokasi: gg mawar\n📷 Foto: -\nSudah benar?"


# --- the data file ---------------------------------------------------------------------------------


def test_the_citizen_file_meets_the_brief() -> None:
    citizens = load_citizens(CITIZENS)
    groups = Counter(c.group for c in citizens)
    assert len(citizens) >= 200 and groups["cooperative"] >= 120 and groups["free"] >= 80
    categories = {r.category for c in citizens if c.group == "cooperative" for r in c.reports}
    assert len(categories) == 13
    free = [c for c in citizens if c.group == "free"]
    assert sum(c.question for c in free) >= 15
    assert sum(any(r.urgent for r in c.reports) for c in free) >= 8
    assert sum(len(c.reports) > 1 for c in free) >= 6
    assert sum("summary" in c.at for c in free) >= 10
    assert sum(any(r.share for r in c.reports) for c in citizens) >= 10
    assert all(c.channel == "telegram" for c in citizens if any(r.share for r in c.reports))


def test_unknown_category_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown category"):
        parse_citizen({"id": "x", "say": "halo", "cat": "sihir", "loc": "di sini"}, "free")


# --- reading the bot by meaning --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bot", "kind"),
    [
        (turn("Di mana lokasi kejadiannya? Sebutkan nama jalan."), LOCATION),
        (turn("Lokasinya di sebelah mana ya, Bu? Nama jalan atau patokan cukup."), LOCATION),
        (turn("Boleh kirim foto kondisinya?", buttons=("Lewati",)), PHOTO),
        (turn("Foto sudah kami terima, terima kasih 📷", "Bagaimana identitas Anda ditampilkan?"), PRIVACY),
        (turn("Mau nama ditampilkan?", buttons=("Biasa", "Anonim", "Rahasia")), PRIVACY),
        (turn(SUMMARY_TEXT, buttons=("✅ Kirim laporan", "✏️ Ubah", "❌ Batalkan")), SUMMARY),
        (turn("Bagian mana yang ingin diubah?", buttons=("Isi keluhan", "Kategori", "Lokasi")), EDIT),
        (turn("Keluhan ini paling sesuai dengan kategori apa?", buttons=("A", "B", "C")), CATEGORY),
        (turn("Baik, silakan ceritakan keluhannya: apa masalahnya?"), COMPLAINT),
        (turn("Belum ada jawabannya. Mau kami teruskan pertanyaan ini ke dinas?", buttons=("Ya", "Tidak")), FORWARD),
        (turn("Mohon maaf, saya belum menangkap maksudnya. Boleh diulang?"), FALLBACK),
        (turn("Akta kelahiran bisa diurus di Dukcapil dengan membawa surat keterangan lahir."), OTHER),
        (turn("Foto sudah kami terima, terima kasih 📷"), OTHER),
    ],
)
def test_questions_are_recognised_by_meaning(bot: BotTurn, kind: str) -> None:
    assert classify(bot) == kind


# --- answering ---------------------------------------------------------------------------------------------


def test_cooperative_citizen_types_location_skips_photo_clicks_privacy_and_confirms() -> None:
    conv = citizen(privacy="anonim")
    assert conv.start().text == "lampu jalan di gang mawar mati"
    assert conv.next(turn("Di mana lokasinya?")).text == "gg mawar"
    skip = conv.next(turn("Ada foto pendukung?", buttons=("Lewati",)))
    assert skip.kind == "click" and skip.button.title == "Lewati"
    privacy = conv.next(turn("Bagaimana identitas ditampilkan?", buttons=("Biasa", "Anonim (nama disembunyikan)")))
    assert privacy.button.title.startswith("Anonim")
    send = conv.next(turn(SUMMARY_TEXT, buttons=("✅ Kirim laporan", "✏️ Ubah")))
    assert send.button.title == "✅ Kirim laporan"
    assert conv.next(turn("Terima kasih 🙏 Kode laporan: ADU-K7X3M9P")) is None
    assert conv.ended == "done" and conv.codes == ["ADU-K7X3M9P"] and conv.sent == 5


def test_telegram_citizen_shares_location_and_sends_a_photo() -> None:
    conv = citizen(share=[-7.5, 110.8], loc=None, photo=True, _channel="telegram")
    conv.start()
    assert conv.next(turn("Di mana lokasinya?")).location == (-7.5, 110.8)
    assert conv.next(turn("Ada foto?", buttons=("Lewati",))).kind == "photo"


def test_typed_answers_replace_button_presses() -> None:
    conv = citizen(typed=True, privacy="rahasia", texts={"summary": "gak ada, kirim aja"})
    conv.start()
    conv.next(turn("Di mana lokasinya?"))
    assert conv.next(turn("Ada foto?", buttons=("Lewati",))).text == "gk ada fotonya min"
    assert conv.next(turn("Identitas?", buttons=("Biasa", "Anonim", "Rahasia"))).text == "rahasia ya"
    assert conv.next(turn(SUMMARY_TEXT, buttons=("✅ Kirim laporan",))).text == "gak ada, kirim aja"


def test_location_asked_again_gets_the_alternative_then_a_third_time_is_a_loop() -> None:
    conv = citizen(loc="rumah sy", loc_alt="Jl. Sumbing 3, Manahan")
    conv.start()
    assert conv.next(turn("Di mana lokasinya?")).text == "rumah sy"
    assert conv.next(turn("Lokasinya belum jelas, mohon sebutkan jalan?")).text == "Jl. Sumbing 3, Manahan"
    assert conv.next(turn("Di mana lokasinya?")) is None
    assert conv.ended == "loop" and conv.loops == 1


def test_turn_cap_stops_a_conversation_that_goes_nowhere() -> None:
    conv = Conversation(parse_citizen({"id": "c", "say": "x", "cat": "bansos", "loc": "y"}, "free"), "web", turn_cap=2)
    conv.start()
    conv.next(turn("Di mana lokasinya?"))
    assert conv.next(turn("Ada foto?", buttons=("Lewati",))) is None and conv.ended == "cap"


def test_correction_at_the_summary_goes_through_the_edit_menu() -> None:
    conv = citizen(
        at={"summary": "lokasinya salah, harusnya jl. pakubuwono"},
        fix={"location": "jl. pakubuwono, kauman"},
        fix_where=["pakubuwono"],
    )
    conv.start()
    conv.next(turn("Di mana lokasinya?"))
    conv.next(turn("Ada foto?", buttons=("Lewati",)))
    conv.next(turn("Identitas?", buttons=("Biasa", "Anonim")))
    assert conv.next(turn(SUMMARY_TEXT, buttons=("✅ Kirim laporan", "✏️ Ubah"))).text.startswith("lokasinya salah")
    # The bot did not apply it and shows the summary again: the citizen presses Ubah itself.
    assert conv.next(turn(SUMMARY_TEXT, buttons=("✅ Kirim laporan", "✏️ Ubah"))).button.title == "✏️ Ubah"
    assert conv.next(turn("Bagian mana yang ingin diubah?", buttons=("Kategori", "Lokasi"))).button.title == "Lokasi"
    assert conv.next(turn("Di mana lokasinya?")).text == "jl. pakubuwono, kauman"
    fixed = SUMMARY_TEXT.replace("gg mawar", "jl. pakubuwono, kauman")
    assert conv.next(turn(fixed, buttons=("✅ Kirim laporan", "✏️ Ubah"))).button.title == "✅ Kirim laporan"
    assert conv.citizen.expected[0].where == ("pakubuwono",)


def test_second_complaint_is_accepted_when_offered_and_never_retyped() -> None:
    raw = {"at": {"summary": "oh iya satu lg, lampu di gg kenanga jg mati"}}
    raw["more"] = [{"cat": "penerangan_jalan", "loc": "gg kenanga", "where": ["kenanga"]}]
    offered = citizen(**raw)
    offered.start()
    offered.next(turn(SUMMARY_TEXT, buttons=("✅ Kirim laporan",)))
    offered.next(turn(SUMMARY_TEXT, buttons=("✅ Kirim laporan",)))
    yes = offered.next(turn("Kode laporan: ADU-AAAAAAA. Lanjut laporkan lampu di gg kenanga?", buttons=("Ya", "Nanti")))
    assert yes.button.title == "Ya"
    assert offered.next(turn("Di mana lokasinya?")).text == "gg kenanga"

    dropped = citizen(**raw)
    dropped.start()
    dropped.next(turn(SUMMARY_TEXT, buttons=("✅ Kirim laporan",)))
    dropped.next(turn(SUMMARY_TEXT, buttons=("✅ Kirim laporan",)))
    assert dropped.next(turn("Terima kasih. Kode laporan: ADU-AAAAAAA")) is None


def test_a_question_that_starts_the_form_gets_a_protest_then_the_citizen_gives_up() -> None:
    conv = Conversation(parse_citizen({"id": "q", "say": "dukcapil buka jam berapa?", "ask": True}, "free"), "web")
    conv.start()
    assert "cuma mau nanya" in conv.next(turn("Di mana lokasi kejadiannya?")).text
    assert conv.next(turn("Di mana lokasi kejadiannya?")) is None
    assert conv.form_started and not conv.answered


def test_a_question_answered_or_forwarded() -> None:
    answered = Conversation(parse_citizen({"id": "q", "say": "dukcapil buka jam berapa?", "ask": True}, "free"), "web")
    answered.start()
    assert answered.next(turn("Dukcapil buka Senin–Jumat pukul 08.00–15.00.")) is None
    assert answered.answered
    raw = {"id": "q2", "say": "kapan bpnt cair?", "ask": True, "forward": True}
    forwarded = Conversation(parse_citizen(raw, "free"), "web")
    forwarded.start()
    offer = turn("Belum ada jawabannya. Mau kami teruskan pertanyaan ini ke Dinsos?", buttons=("Ya", "Tidak"))
    assert forwarded.next(offer).button.title == "Ya" and forwarded.answered


# --- judging from the tickets ------------------------------------------------------------------------------


def ticket(**fields) -> SimpleNamespace:
    base = {
        "code": "ADU-AAAAAAA",
        "category_id": "penerangan_jalan",
        "location_text": "Gg. Mawar RT 2",
        "latitude": None,
        "photos": (),
        "anonymous": False,
        "confidential": False,
    }
    return SimpleNamespace(**(base | fields))


def test_judge_checks_category_location_words_privacy_and_extra_tickets() -> None:
    conv = citizen(where=["mawar"], privacy="anonim")
    conv.start()
    conv.ended = "done"
    assert judge(conv, [ticket(anonymous=True)], "web").success
    wrong = judge(conv, [ticket(category_id="infrastruktur", location_text="jl. kenanga")], "web")
    assert not wrong.success and wrong.right_category == 0
    assert any("expected penerangan_jalan" in r for r in wrong.reasons)
    assert any("lacks ['mawar']" in r for r in wrong.reasons)
    assert any("privacy biasa" in r for r in wrong.reasons)
    extra = judge(conv, [ticket(anonymous=True), ticket(code="ADU-BBBBBBB", anonymous=True)], "web")
    assert "1 extra ticket(s) nobody asked for" in extra.reasons


def test_judge_urgent_and_photo_only_where_the_channel_can_send_one() -> None:
    conv = citizen(urgent=True, photo=True, cat="bencana")
    conv.start()
    on_web = judge(conv, [ticket(category_id="bencana")], "web")
    assert on_web.reasons == ["ADU-AAAAAAA: urgent=False, expected True"]
    on_tg = judge(conv, [ticket(category_id="bencana", urgent=True)], "telegram")
    assert on_tg.reasons == ["ADU-AAAAAAA: photo not stored"]


def test_judge_question_fails_when_a_complaint_ticket_is_filed() -> None:
    conv = Conversation(parse_citizen({"id": "q", "say": "syarat kk?", "ask": True}, "free"), "web")
    conv.start()
    conv.next(turn("Syarat KK baru: surat pengantar RT/RW dan buku nikah."))
    assert judge(conv, [], "web").success
    assert not judge(conv, [ticket()], "web").success
    assert judge(conv, [ticket(kind="informasi")], "web").success


# --- running plan and report ------------------------------------------------------------------------------


def test_channels_alternate_and_pinned_citizens_keep_theirs() -> None:
    citizens = load_citizens(CITIZENS)
    plan = assign_channels(citizens, ["web", "telegram"])
    assert len(plan) == len(citizens)
    assert {ch for c, ch in plan if c.channel == "telegram"} == {"telegram"}
    assert Counter(ch for _, ch in plan)["web"] > 80
    web_only = assign_channels(citizens, ["web"])
    assert len(web_only) == len(citizens) - sum(c.channel == "telegram" for c in citizens)


def test_report_figures_and_masked_transcripts(tmp_path: Path) -> None:
    good = citizen(where=["mawar"])
    good.start()
    good.next(turn("Kode laporan: ADU-AAAAAAA"))
    bad = citizen(say="nomer sy 081234567890, lampu mati")
    bad.start()
    bad.silent()
    outcomes = [judge(good, [ticket()], "web"), judge(bad, [], "telegram")]
    summary = write_report(outcomes, tmp_path / "conv.md", {"channels": ["web", "telegram"]})
    assert summary["overall"] == {"n": 2, "success": 1, "rate": 0.5}
    assert summary["by_channel"]["telegram"]["success"] == 0
    assert summary["right_category"] == {"expected_tickets": 2, "right": 1, "rate": 0.5}
    text = (tmp_path / "conv.md").read_text()
    assert "081234567890" not in text and "bot did not answer" in text
    assert "081234567890" not in (tmp_path / "conv.json").read_text()
    assert summarize(outcomes)["turns"] == {"median": 1.0, "p95": 1.0}
    assert summary["by_topic"] == {"penerangan_jalan": {"n": 2, "success": 1, "rate": 0.5}}
    assert "| penerangan_jalan | 50.0% (1/2) |" in text
    assert percentile([1, 2, 3, 4, 20], 95) == 20.0


def test_an_example_code_in_a_question_is_not_a_filed_ticket() -> None:
    ask = turn("Boleh kami minta kode laporannya? Contohnya ADU-K7X3M9P.", "Ada foto?")
    assert ask.codes() == []
    assert turn("Terima kasih 🙏 Kode laporan: ADU-K7X3M9P").codes() == ["ADU-K7X3M9P"]


def test_a_question_asker_greets_first_then_asks_when_invited() -> None:
    raw = {"id": "q", "say": ["halo min", "kip kuliah daftarnya kapan?"], "ask": True}
    conv = Conversation(parse_citizen(raw, "free"), "web")
    conv.start()
    invite = turn("Halo! Silakan ceritakan keluhan Bapak/Ibu, nanti saya bantu.")
    assert conv.next(invite).text == "kip kuliah daftarnya kapan?"
    assert not conv.form_started


def test_a_location_read_from_the_first_message_is_confirmed_not_retyped() -> None:
    conv = citizen(where=["mawar"])
    conv.start()
    ok = conv.next(turn("Lokasinya di Gang Mawar, sudah benar?", buttons=("Ya, benar", "Bukan")))
    assert ok.button.title == "Ya, benar"
    other = citizen(where=["mawar"])
    other.start()
    assert other.next(turn("Lokasinya di Jl. Kenanga, sudah benar?")).text == "gg mawar"


def test_an_offer_to_split_several_problems_is_accepted() -> None:
    conv = citizen(more=[{"cat": "lingkungan", "loc": "gg mawar"}])
    conv.start()
    assert conv.next(turn("Ada dua masalah. Mau dibuat laporan terpisah?")).text == "iya min, dipisah aja laporannya"


def test_asked_for_the_next_complaint_the_citizen_retells_the_second_problem() -> None:
    raw = {"at": {"summary": "oh iya satu lg, lampu di gg kenanga jg mati"}}
    raw["more"] = [{"cat": "penerangan_jalan", "loc": "gg kenanga"}]
    conv = citizen(**raw)
    conv.start()
    conv.next(turn(SUMMARY_TEXT, buttons=("✅ Kirim laporan",)))
    conv.next(turn(SUMMARY_TEXT, buttons=("✅ Kirim laporan",)))
    conv.next(turn("Kode laporan: ADU-AAAAAAA. Mau lanjut laporan berikutnya?"))
    assert conv.next(turn("Silakan ceritakan keluhannya.")).text == "oh iya satu lg, lampu di gg kenanga jg mati"
