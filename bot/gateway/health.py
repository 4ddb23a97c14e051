"""What /healthz reports: can Rasa, the action server and the database do their jobs right now, and
how the delivery queues are doing (backlog age, give-ups, LINE pushes)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from bot.gateway.rasa_client import RasaClient
from bot.store import models as m


def _database_ok(sessions: sessionmaker[Session]) -> bool:
    try:
        with sessions() as session:
            session.execute(text("select 1"))
        return True
    except Exception:
        return False


def queue_report(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Backlog and give-ups of both queues, and LINE pushes (they cost money on paid plans).

    `oldest_due_seconds` is how long the oldest pending, due row has waited: it grows when the
    workers are stuck or too slow, while rows backing off on purpose do not count.
    """
    now = datetime.now(UTC)
    report: dict[str, Any] = {}
    with sessions() as session:
        for name, model in (("inbox", m.InboundMessage), ("outbox", m.OutboxMessage)):
            table: Any = model
            created = table.received_at if model is m.InboundMessage else table.created_at
            pending, oldest = session.execute(
                select(func.count(), func.min(created)).where(table.status == "pending")
            ).one()
            oldest_due = session.scalar(
                select(func.min(created)).where(table.status == "pending", table.next_attempt_at <= now)
            )
            failed = session.scalar(select(func.count()).where(table.status == "failed"))
            report[name] = {
                "pending": pending,
                "failed": failed,
                "oldest_pending_seconds": _age(oldest, now),
                "oldest_due_seconds": _age(oldest_due, now),
            }
        since = now - timedelta(days=1)
        pushes = session.execute(
            select(
                func.count(),
                func.count().filter(m.OutboxMessage.sent_at >= since),
            ).where(m.OutboxMessage.channel == "line", m.OutboxMessage.via == "push")
        ).one()
        report["line_pushes"] = {"total": pushes[0], "last_24h": pushes[1]}
    return report


def _age(when: datetime | None, now: datetime) -> float | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return round((now - when).total_seconds(), 1)


def _queues(sessions: sessionmaker[Session]) -> dict[str, Any] | None:
    try:
        return queue_report(sessions)
    except Exception:
        return None


def _media_ok(media_dir: Path | None) -> bool:
    """Photos are kept at intake: the media folder must exist and be writable by this process."""
    return media_dir is None or (media_dir.is_dir() and os.access(media_dir, os.W_OK | os.X_OK))


def tracker_store_ok(url: str) -> bool:
    """Rasa's conversation memory is readable: without it Rasa forgets every conversation.

    A SQLite file is opened read-write without being created (a missing file is a failure).
    """
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        parsed = parsed.set(database=f"file:{parsed.database}?mode=rw", query={"uri": "true"})
    elif parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = 3
    engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            conn.execute(text("select count(*) from events where 1 = 0"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def lock_store_ok(url: str) -> bool:
    """Rasa's Redis lock store answers: without it every Rasa server of the scaled profile refuses turns."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


async def health(
    rasa: RasaClient,
    sessions: sessionmaker[Session],
    media_dir: Path | None = None,
    tracker_url: str | None = None,
    lock_store_url: str | None = None,
) -> tuple[bool, dict[str, Any]]:
    """Healthy when every store is and at least one Rasa server can answer with its action server.

    With several Rasa servers (scaled profile) one being down is reported but not fatal: the
    gateway moves its senders to the others.
    """
    servers, db_ok, queues, media_ok, tracker_ok, lock_ok = await asyncio.gather(
        rasa.servers_report(),
        asyncio.to_thread(_database_ok, sessions),
        asyncio.to_thread(_queues, sessions),
        asyncio.to_thread(_media_ok, media_dir),
        asyncio.to_thread(tracker_store_ok, tracker_url) if tracker_url else asyncio.sleep(0, True),
        asyncio.to_thread(lock_store_ok, lock_store_url) if lock_store_url else asyncio.sleep(0, True),
    )
    serving = any(s["ok"] and s["action_server_ok"] for s in servers)
    report: dict[str, Any] = {
        "rasa": {"ok": any(s["ok"] for s in servers), "model": next((s["model"] for s in servers if s["ok"]), None)},
        "action_server": {"ok": any(s["action_server_ok"] for s in servers)},
        "database": {"ok": db_ok},
        "tracker_store": {"ok": tracker_ok},
        "media": {"ok": media_ok},
        "queues": queues,
    }
    if lock_store_url:
        report["lock_store"] = {"ok": lock_ok}
    if len(servers) > 1:
        report["rasa_servers"] = servers
    return serving and db_ok and tracker_ok and media_ok and lock_ok, report
