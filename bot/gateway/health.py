"""What /healthz reports: can Rasa, the action server and the database do their jobs right now."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from bot.gateway.rasa_client import RasaClient


def _database_ok(sessions: sessionmaker[Session]) -> bool:
    try:
        with sessions() as session:
            session.execute(text("select 1"))
        return True
    except Exception:
        return False


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


async def health(
    rasa: RasaClient, sessions: sessionmaker[Session], tracker_url: str | None = None
) -> tuple[bool, dict[str, Any]]:
    status, actions_ok, db_ok, tracker_ok = await asyncio.gather(
        rasa.rasa_status(),
        rasa.action_server_up(),
        asyncio.to_thread(_database_ok, sessions),
        asyncio.to_thread(tracker_store_ok, tracker_url) if tracker_url else asyncio.sleep(0, True),
    )
    model_loaded = bool(status and status.get("model_file"))
    report = {
        "rasa": {"ok": model_loaded, "model": (status or {}).get("model_file")},
        "action_server": {"ok": actions_ok},
        "database": {"ok": db_ok},
        "tracker_store": {"ok": tracker_ok},
    }
    return model_loaded and actions_ok and db_ok and tracker_ok, report
