"""Retention purge: old message logs and idle Rasa conversations go, recent ones and tickets stay."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from bot.gateway.inbox import Inbound, Inbox
from bot.gateway.outbox import add_messages
from bot.retention import purge
from bot.store import models as m
from bot.tickets import NewTicket, TicketService

NOW = datetime(2026, 6, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=100)
RECENT = NOW - timedelta(days=10)


def _message(service: TicketService, ext: str, when: datetime, status: str = "done", sent: bool = True) -> None:
    inbox = Inbox(service.sessions)
    inbound_id = inbox.store(Inbound("web", ext, "s1", "s1", "text", "halo"))
    with service.sessions() as session, session.begin():
        session.get(m.InboundMessage, inbound_id).received_at = when
        session.get(m.InboundMessage, inbound_id).status = status
        add_messages(session, "web", "s1", [{"text": "balasan"}], inbound_id=inbound_id)
        for row in session.scalars(select(m.OutboxMessage).where(m.OutboxMessage.inbound_id == inbound_id)):
            row.created_at = when
            row.status = "sent" if sent else "pending"


def _tracker(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), timestamp FLOAT)"))
        rows = [("idle", OLD), ("idle", OLD + timedelta(days=1)), ("active", OLD), ("active", RECENT)]
        for i, (sender, when) in enumerate(rows, start=1):
            conn.execute(text("INSERT INTO events VALUES (:i, :s, :t)"), {"i": i, "s": sender, "t": when.timestamp()})
    engine.dispose()


def _count(service: TicketService, model: type) -> int:
    with service.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_purge_old_logs_and_idle_conversations(service: TicketService, db_url: str) -> None:
    service.create_ticket(NewTicket("web", "s1", "s1", "sampah numpuk", "lingkungan"))
    _message(service, "old", OLD)
    _message(service, "old-unsent", OLD, sent=False)  # its reply still waits: both stay
    _message(service, "old-pending", OLD, status="pending")
    _message(service, "recent", RECENT)
    _tracker(db_url)

    dry = purge(service.sessions, db_url, 90, now=NOW, dry_run=True)
    # the pending message's reply was sent long ago: that row goes, the message itself stays queued
    assert (dry.inbound, dry.outbox, dry.tracker_conversations, dry.tracker_events) == (1, 2, 1, 2)
    assert _count(service, m.InboundMessage) == 4

    report = purge(service.sessions, db_url, 90, now=NOW)
    assert (report.inbound, report.outbox, report.tracker_conversations, report.tracker_events) == (1, 2, 1, 2)
    with service.sessions() as session:
        left = set(session.scalars(select(m.InboundMessage.external_id)))
    assert left == {"old-unsent", "old-pending", "recent"}
    assert _count(service, m.Ticket) == 1
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM events WHERE sender_id = 'active'")).scalar() == 2
        assert conn.execute(text("SELECT COUNT(*) FROM events")).scalar() == 2
    engine.dispose()
    assert purge(service.sessions, db_url, 90, now=NOW).inbound == 0


def test_missing_tracker_store_is_not_created(sqlite_service: TicketService, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    assert purge(sqlite_service.sessions, url, 90).tracker_events == 0
    assert not (tmp_path / "none.db").exists()


def test_cli_purge_dry_run(sqlite_url: str, monkeypatch, tmp_path: Path) -> None:
    from bot import cli, config

    monkeypatch.setenv("ADUAN_DATABASE_URL", sqlite_url)
    monkeypatch.setattr(config, "VAR_DIR", tmp_path / "var")
    config.get_settings.cache_clear()
    try:
        from bot.store.migrate import upgrade

        upgrade(sqlite_url)
        result = CliRunner().invoke(cli.main, ["retention", "purge", "--dry-run", "--days", "30"])
        assert result.exit_code == 0, result.output
        assert "Akan dihapus" in result.output and "0 pesan masuk" in result.output
        bad = CliRunner().invoke(cli.main, ["retention", "purge", "--days", "0"])
        assert bad.exit_code != 0
    finally:
        config.get_settings.cache_clear()


def test_data_files_are_owner_only(tmp_path: Path, monkeypatch) -> None:
    from bot import config

    var = tmp_path / "var"
    monkeypatch.setattr(config, "VAR_DIR", var)
    path = config.owner_only_file(var / "aduan.db")
    assert stat.S_IMODE(os.stat(var).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o644)
    config.owner_only_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_daily_hook_purges_after_the_callers_transaction(sqlite_service: TicketService, sqlite_url: str) -> None:
    """The scheduler holds a write transaction while it calls the hook; the purge must not deadlock."""
    import threading

    from bot.config import Settings
    from bot.retention import daily_hook

    _message(sqlite_service, "old", OLD)
    settings = Settings(_env_file=None, ADUAN_DATABASE_URL=sqlite_url, ADUAN_RETENTION_DAYS=30)
    hook = daily_hook(settings)
    with sqlite_service.sessions() as session, session.begin():
        session.add(m.Handoff(channel="web", user_id="x", text="lock holder"))
        session.flush()  # the write lock is held, like the scheduler's sla_actions row
        assert "30" in hook(NOW)
    for thread in threading.enumerate():
        if thread.name == "retention-purge":
            thread.join(60)
    assert _count(sqlite_service, m.InboundMessage) == 0
