"""`aduan bench` and `aduan bench nlu` with small numbers against the session's real Rasa + action server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from bot.config import REPO_ROOT
from tests.integration.stack import APP_PYTHON, Stack, ensure_model


def _aduan(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(APP_PYTHON), "-m", "bot.cli", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_bench_five_citizens_through_telegram_and_bare_rasa(stack: Stack, tmp_path: Path) -> None:
    env = {
        "ADUAN_RASA_URL": stack.rasa_url,
        "ADUAN_ACTION_SERVER_URL": stack.action_url,
        "ADUAN_DATABASE_URL": stack.database_url,
    }
    result = _aduan(
        ["bench", "--use-running", "--citizens", "5", "--think", "0.2", "--report-dir", str(tmp_path)], env, 300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "ours/bare" in result.stdout

    [raw] = (tmp_path / "bench").glob("*-default.json")
    report = json.loads(raw.read_text())
    for run in ("ours", "bare_rasa"):
        figures = report[run]
        assert figures["completed"] == figures["conversations"] == 5, figures["error_samples"]
        assert figures["errors"] == 0
        assert figures["turns"] >= 5 * 6  # complaint, location, photo, privacy, confirmation, status check
        lat = figures["latency_ms"]
        assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
        assert figures["turns_per_s"] > 0
        # Every citizen was given a real ticket, filed through the action server.
        assert len(set(figures["ticket_codes"])) == 5
        for code in figures["ticket_codes"]:
            assert stack.tickets.get(code).status == "didisposisikan"
    assert report["ratios"]["p95"] > 0 and report["ratios"]["turns_per_s"] > 0
    assert set(report["peak_rss_mb"]) == {"rasa", "actions", "gateway"}
    assert all(mb > 10 for mb in report["peak_rss_mb"].values())

    table = (tmp_path / "bench.md").read_text()
    assert "| Aduan (Telegram fake → gateway → Rasa) | " in table and "| bare Rasa (REST channel) | " in table
    assert "peak RSS" in table and raw.name in table


def test_bench_nlu_reports_load_time_and_parse_latency(tmp_path: Path) -> None:
    ensure_model()
    result = _aduan(["bench", "nlu", "--messages", "30", "--report-dir", str(tmp_path)], {}, 600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [raw] = (tmp_path / "bench").glob("*-nlu.json")
    figures = json.loads(raw.read_text())
    assert figures["messages"] == 30 and figures["model_load_s"] > 0
    assert 0 < figures["parse_ms"]["p50"] <= figures["parse_ms"]["p95"]
