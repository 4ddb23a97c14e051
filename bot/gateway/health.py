"""What /healthz reports: can Rasa, the action server and the database do their jobs right now."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.gateway.rasa_client import RasaClient


def _database_ok(sessions: sessionmaker[Session]) -> bool:
    try:
        with sessions() as session:
            session.execute(text("select 1"))
        return True
    except Exception:
        return False


async def health(rasa: RasaClient, sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
    status, actions_ok, db_ok = await asyncio.gather(
        rasa.rasa_status(), rasa.action_server_up(), asyncio.to_thread(_database_ok, sessions)
    )
    model_loaded = bool(status and status.get("model_file"))
    report = {
        "rasa": {"ok": model_loaded, "model": (status or {}).get("model_file")},
        "action_server": {"ok": actions_ok},
        "database": {"ok": db_ok},
    }
    return model_loaded and actions_ok and db_ok, report
