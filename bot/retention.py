"""Retention: message logs and Rasa conversations older than ADUAN_RETENTION_DAYS are deleted.

Tickets and their audit trail are records of the city and stay; what goes is the raw chatter
around them (UU 27/2022: keep personal data no longer than the purpose needs):
- inbound messages already processed (`done`/`failed`) and no longer referenced by an outbox row,
- outbox rows already `sent`,
- Rasa tracker conversations whose last event is older than the cutoff (a conversation is
  removed whole, never cut in the middle, so an active chat keeps its state).
The scheduler runs it daily (`daily_hook`, its `housekeeping`); `aduan retention purge [--dry-run]`
runs it by hand.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, and_, create_engine, delete, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.store import models as m

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    cutoff: datetime
    inbound: int
    outbox: int
    tracker_conversations: int
    tracker_events: int
    dry_run: bool


def purge(
    sessions: sessionmaker[Session],
    tracker_url: str | None,
    days: int,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete (or with `dry_run` only count) everything older than `days` days."""
    if days < 1:
        raise ValueError("retention must be at least 1 day")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    outbox_where = and_(m.OutboxMessage.status == "sent", m.OutboxMessage.created_at < cutoff)
    with sessions() as session, session.begin():
        outbox = session.scalar(select(func.count()).select_from(m.OutboxMessage).where(outbox_where)) or 0
        if not dry_run:
            session.execute(delete(m.OutboxMessage).where(outbox_where))
        still_referenced = select(m.OutboxMessage.inbound_id).where(m.OutboxMessage.inbound_id.is_not(None))
        if dry_run:  # rows about to go do not hold their inbound message back
            still_referenced = still_referenced.where(~outbox_where)
        inbound_where = and_(
            m.InboundMessage.status.in_(("done", "failed")),
            m.InboundMessage.received_at < cutoff,
            m.InboundMessage.id.not_in(still_referenced),
        )
        inbound = session.scalar(select(func.count()).select_from(m.InboundMessage).where(inbound_where)) or 0
        if not dry_run:
            session.execute(delete(m.InboundMessage).where(inbound_where))
    conversations, events = _purge_trackers(tracker_url, cutoff, dry_run) if tracker_url else (0, 0)
    return PurgeReport(cutoff, inbound, outbox, conversations, events, dry_run)


def _tracker_engine(url: str) -> Engine | None:
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    return create_engine(url, hide_parameters=True)


def _purge_trackers(url: str, cutoff: datetime, dry_run: bool) -> tuple[int, int]:
    """Rasa's SQL tracker store keeps one `events` row per event (`sender_id`, float `timestamp`)."""
    engine = _tracker_engine(url)
    if engine is None:
        return 0, 0
    try:
        if not inspect(engine).has_table("events"):
            return 0, 0
        stale = text(_STALE_SUBQUERY)
        params = {"cutoff": cutoff.timestamp()}
        with engine.begin() as conn:
            senders = [row[0] for row in conn.execute(stale, params)]
            if not senders:
                return 0, 0
            count_sql = f"SELECT COUNT(*) FROM events WHERE sender_id IN ({_STALE_SUBQUERY})"
            events = conn.execute(text(count_sql), params).scalar() or 0
            if not dry_run:
                conn.execute(text(f"DELETE FROM events WHERE sender_id IN ({_STALE_SUBQUERY})"), params)
            return len(senders), int(events)
    finally:
        engine.dispose()


_STALE_SUBQUERY = "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"


def daily_hook(settings: Settings) -> Callable[[datetime], str]:
    """The scheduler's `housekeeping` hook: purge with the configured retention, once a day.

    The scheduler calls it inside its own write transaction (recording that today's pass ran);
    on SQLite a second writer would wait on that lock, so the purge runs in a thread that starts
    right away and proceeds once the scheduler commits (busy timeout). Not a daemon thread: a
    one-shot `aduan sla tick` waits for it before exiting. Failures are logged, and tomorrow's
    pass purges again.
    """
    from bot.store.db import session_factory

    def hook(now: datetime) -> str:
        def run() -> None:
            try:
                report = purge(
                    session_factory(settings.sqlalchemy_url),
                    settings.tracker_store_url,
                    settings.retention_days,
                    now=now,
                )
                logger.info(
                    "retention: %d inbound, %d outbox, %d Rasa conversations (%d events) older than %s deleted",
                    report.inbound,
                    report.outbox,
                    report.tracker_conversations,
                    report.tracker_events,
                    report.cutoff.date().isoformat(),
                )
            except Exception:
                logger.exception("retention purge failed; it runs again with tomorrow's housekeeping")

        threading.Thread(target=run, name="retention-purge").start()
        return f"retention purge ({settings.retention_days} hari) dijalankan"

    return hook
