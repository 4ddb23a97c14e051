"""`aduan sla tick --at …` and the gateway's periodic pass run the same scheduler."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner

from bot.cli import main
from bot.config import Settings, get_settings
from bot.gateway.app import Gateway
from bot.store import models as m
from bot.store.migrate import upgrade
from bot.tickets import NewTicket, TicketService
from tests.scheduler.conftest import at


def _ticket(url: str) -> str:
    upgrade(url)
    svc = TicketService.from_url(url)
    svc.sync_opds()
    with svc.sessions() as s, s.begin():
        s.add(m.AdminGroup(opd_id="dlh", channel="telegram", chat_id="-300"))
    t = svc.create_ticket(
        NewTicket("telegram", "5", "5", "sampah di TPS menumpuk seminggu", "lingkungan"), now=at("2026-12-21 09:00")
    )
    return t.code


def test_cli_tick_prints_one_line_per_action_and_is_idempotent(sqlite_url: str, monkeypatch) -> None:
    code = _ticket(sqlite_url)
    monkeypatch.setenv("ADUAN_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(main, ["sla", "tick", "--at", "2026-12-22T09:00"])  # local time without offset
        assert first.exit_code == 0, first.output
        lines = first.stdout.strip().splitlines()
        assert any(line.startswith("first_response_nudge") and code in line for line in lines)
        assert any(line.startswith("digest") for line in lines)
        again = runner.invoke(main, ["sla", "tick", "--at", "2026-12-22T09:00+07:00"])
        assert again.exit_code == 0 and again.stdout.strip() == ""
        bad = runner.invoke(main, ["sla", "tick", "--at", "besok pagi"])
        assert bad.exit_code != 0 and "ISO-8601" in bad.output
    finally:
        get_settings.cache_clear()


def test_gateway_runs_the_scheduler_as_a_periodic_task(sqlite_url: str) -> None:
    _ticket(sqlite_url)
    settings = Settings(_env_file=None, ADUAN_DATABASE_URL=sqlite_url, ADUAN_SLA_INTERVAL_SECONDS=3600)

    async def start_and_stop() -> list[str]:
        gateway = Gateway(settings)
        await gateway.start()
        names = [t.get_name() for t in gateway._tasks]
        await asyncio.sleep(0.5)
        await gateway.stop()
        return names

    assert "sla" in asyncio.run(start_and_stop())
    off = Settings(_env_file=None, ADUAN_DATABASE_URL=sqlite_url, ADUAN_SLA_INTERVAL_SECONDS=0)
    assert off.sla_interval_seconds == 0
