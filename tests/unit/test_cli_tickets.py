"""`aduan tickets …` for an operator: header, dates, markers, clear Indonesian errors, help texts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from bot import cli, config
from bot.tickets import NewTicket, TicketService


@pytest.fixture
def svc(sqlite_service: TicketService, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TicketService]:
    monkeypatch.setenv("ADUAN_DATABASE_URL", sqlite_url)
    config.get_settings.cache_clear()
    yield sqlite_service
    config.get_settings.cache_clear()


def run(*args: str):
    return CliRunner().invoke(cli.main, list(args))


def test_list_has_header_dates_and_markers(svc: TicketService) -> None:
    late = svc.create_ticket(
        NewTicket("web", "u1", "u1", "banjir setinggi lutut", "bencana", anonymous=True),
        now=datetime.now(UTC) - timedelta(days=30),
    )
    secret = svc.create_ticket(NewTicket("web", "u2", "u2", "pungli di loket", "pelayanan_aparatur", confidential=True))
    result = run("tickets", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["KODE", "DIBUAT", "STATUS", "KATEGORI"]
    late_line = next(line for line in lines if late.code in line)
    assert "TERLAMBAT" in late_line and "ANONIM" in late_line
    assert (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%d")[:7] in late_line
    secret_line = next(line for line in lines if secret.code in line)
    assert "RAHASIA" in secret_line and "pungli" not in secret_line


def test_unknown_opd_and_status_are_errors_in_indonesian(svc: TicketService) -> None:
    bad_opd = run("tickets", "list", "--opd", "nope")
    assert bad_opd.exit_code != 0 and "OPD 'nope' tidak dikenal" in bad_opd.output and "dpupr" in bad_opd.output
    t = svc.create_ticket(NewTicket("web", "u1", "u1", "sampah", "lingkungan"))
    bad_status = run("tickets", "set-status", t.code, "selesei")
    assert bad_status.exit_code != 0
    assert "Status 'selesei' tidak dikenal" in bad_status.output and "is not a valid" not in bad_status.output
    assert run("tickets", "list", "--opd", "dlh").exit_code == 0


def test_show_hides_anonymous_reporter_in_history(svc: TicketService) -> None:
    t = svc.create_ticket(NewTicket("telegram", "42", "42", "jalan rusak", "infrastruktur", anonymous=True))
    text = run("tickets", "show", t.code).output
    as_json = json.loads(run("tickets", "show", t.code, "--json").output)
    assert "telegram:42" not in text and "warga (anonim)" in text
    assert all("42" not in e["actor"] for e in as_json["events"])


def test_subcommands_have_help_and_set_status_lists_statuses() -> None:
    for group, command in (("tickets", "list"), ("tickets", "show"), ("tickets", "set-status"), ("opd", "list")):
        out = run(group, "--help").output
        line = next(line for line in out.splitlines() if line.strip().startswith(command))
        assert len(line.split()) > 1, f"{group} {command} has no help text"
    out = run("tickets", "set-status", "--help").output
    for status in ("baru", "didisposisikan", "diproses", "selesai", "ditutup", "ditolak"):
        assert status in out
