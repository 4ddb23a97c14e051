"""Reliability, the fast part (runs in `make test`): a small load, a gateway SIGKILL mid-processing, privacy.

Six citizens (three on Telegram, three on LINE) file two complaints each through the real gateway,
Rasa server and action server processes; the gateway is SIGKILLed while it is processing a message
and started again. Afterwards every invariant of the suite must hold (see checks.py), and no log
line or admin message may carry an unmasked NIK or phone number. The long runs are in
test_reliability_long.py (`make reliability`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PG_URL
from tests.reliability.cluster import SharedSchema
from tests.reliability.privacy import scan_text
from tests.reliability.report import write_markdown
from tests.reliability.scenario import Fault, run

CITIZENS = 6
COMPLAINTS = 2


@pytest.mark.integration
def test_load_with_a_gateway_sigkill_loses_and_repeats_nothing(tmp_path: Path, pg_ok: bool) -> None:
    if not pg_ok:
        pytest.skip("PostgreSQL is needed (several processes share the ticket store)")
    schema = SharedSchema(PG_URL).create()
    try:
        result = run(
            "fast",
            tmp_path / "run",
            schema.url,
            citizens=CITIZENS,
            complaints=COMPLAINTS,
            faults=[Fault("kill", "gateway-1", at=0.4, down=1.0, mid_processing=True)],
            turn_timeout=180,
        )
    finally:
        schema.drop()
    figures = result.figures()
    (tmp_path / "figures.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    assert figures["problems"] == []
    assert figures["tickets"] == CITIZENS * COMPLAINTS
    assert figures["duplicates"] == 0 and figures["lost"] == 0
    assert figures["faults_injected"] == 1
    assert figures["turn_timeouts"] == 0
    assert result.final_answered == CITIZENS  # no conversation stuck after the restart
    assert figures["http_5xx"] == 0  # a dead gateway refuses connections; it never answers 5xx
    # The privacy scan really looked: all three processes' logs, the admin chats, typed NIKs and phones.
    assert {p.name for p in (tmp_path / "run" / "logs").glob("*.log")} >= {
        "rasa-1.log",
        "actions-1.log",
        "gateway-1.log",
    }
    assert figures["log_lines_scanned"] > 100 and figures["admin_messages_scanned"] >= CITIZENS * COMPLAINTS
    assert figures["privacy_findings"] == 0


NIK = "3372051234560001"


@pytest.mark.parametrize(
    "line",
    [
        f"INFO processed inbound 7 from telegram:1: NIK {NIK}",
        "Traceback ...\n  psycopg.errors.X: value '3372 0512 3456 0001' rejected",
        "hp 0812-3456-7890",
        "hubungi +62 812 3456 7890",
        "wa 081234567890",
    ],
)
def test_the_privacy_scan_finds_unmasked_numbers(line: str) -> None:
    findings = scan_text(line, "log", {NIK, "081234567890"})
    assert findings and all(f.ours for f in findings)
    assert NIK not in str(findings[0]) and "081234567890" not in str(findings[0])  # the report does not leak


@pytest.mark.parametrize(
    "line",
    [
        "NIK ************0001 hp 0812****890",  # the masks themselves
        "NIK 3372********0001",
        "confidence 0.08123456789",  # a fraction, not a phone number
        "chat telegram:7100000012 update 912345678 group -1007200000003",
        "ticket ADU-K7X3M9P lat -7.561230 lon 110.834560",
    ],
)
def test_the_privacy_scan_ignores_masks_and_ids(line: str) -> None:
    assert scan_text(line, "log", set()) == []


def test_report_lists_each_run(tmp_path: Path) -> None:
    figures = {
        "name": "demo",
        "profile": "default (1 Rasa, 1 action, 1 gateway)",
        "citizens": 2,
        "complaints_each": 1,
        "messages_sent": 12,
        "webhook_deliveries": 13,
        "acknowledged": 12,
        "not_acknowledged_resent": 1,
        "answers": 12,
        "tickets": 2,
        "tickets_expected": 2,
        "admin_posts": 4,
        "outbox_rows": 30,
        "faults_injected": 1,
        "faults": [{"fault": "SIGKILL gateway-1", "complaints_done_before": 1, "back_healthy_after_s": 3.0}],
        "duplicates": 0,
        "lost": 0,
        "http_5xx": 0,
        "http_5xx_outside_faults": 0,
        "statuses": {"line:200": 6},
        "service_down_notices": 0,
        "retry_save_prompts": 0,
        "complaints_restarted": 0,
        "turn_timeouts": 0,
        "final_check_answered": 2,
        "privacy_findings": 0,
        "log_lines_scanned": 100,
        "admin_messages_scanned": 6,
        "turn_s": {"p50": 1.0, "p95": 2.0, "max": 3.0},
        "durations_s": {"total": 75.0},
        "problems": [],
        "ok": True,
        "machine": {"cpu": "test cpu", "cores": 2, "ram_gb": 4.0, "os": "Linux", "load_avg_at_end": [1.0]},
        "finished_at": "2026-01-01 00:00:00 UTC",
    }
    (tmp_path / "demo.json").write_text(json.dumps(figures))
    text = write_markdown(tmp_path, tmp_path / "reliability.md")
    assert "| demo | default (1 Rasa, 1 action, 1 gateway) | 2 × 1 | 12 |" in text
    assert "| SIGKILL gateway-1 | 1 | 3.0 s |" in text
    assert "1 min 15 s" in text and "test cpu, 2 cores" in text


def test_the_daily_digest_is_told_apart_from_ticket_posts() -> None:
    """A digest lists codes of open tickets; counted as posts it would read as duplicates every working day."""
    from bot.texts import render
    from tests.reliability.checks import DIGEST_PREFIXES

    header = render("sla_digest_header", opd="Dinas Lingkungan Hidup", date="Senin, 7 Desember 2026")
    quiet = render("sla_digest_no_changes", opd="DLH", date="7 Desember", open=2, overdue=0)
    assert header.startswith(DIGEST_PREFIXES) and quiet.startswith(DIGEST_PREFIXES)
    assert not render("relay_citizen_message", code="ADU-ABCDEFG", sender="(anonim)", text="x").startswith(
        DIGEST_PREFIXES
    )
