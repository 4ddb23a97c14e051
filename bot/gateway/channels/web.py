"""The local web chat: the page posts messages and polls for answers (channel `web`).

Delivery is the page picking its rows up, so the sender has nothing to push.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.gateway.inbox import Inbound, Inbox
from bot.gateway.outbox import OutMessage
from bot.store import models as m

CHANNEL = "web"
PUBLIC_KEYS = ("text", "buttons", "image")


class WebChannel:
    batch = True

    def __init__(self, inbox: Inbox, sessions: sessionmaker[Session], on_inbound: Callable[[], None]) -> None:
        self.inbox = inbox
        self.sessions = sessions
        self.on_inbound = on_inbound

    async def send(self, chat_id: str, messages: list[OutMessage]) -> None:
        """Nothing to push: the page fetches its rows."""

    async def receive(self, session_id: str, message_id: str | None, text: str | None, payload: str | None) -> bool:
        kind, data = ("postback", {"data": payload}) if payload else ("text", {})
        inbound = Inbound(
            channel=CHANNEL,
            external_id=message_id or uuid.uuid4().hex,
            user_id=session_id,
            chat_id=session_id,
            kind=kind,
            text=text or payload,
            payload=data,
        )
        stored = await asyncio.to_thread(self.inbox.store, inbound) is not None
        if stored:
            self.on_inbound()
        return stored

    def replies(self, session_id: str, after: int) -> list[dict[str, Any]]:
        with self.sessions() as session:
            rows = session.scalars(
                select(m.OutboxMessage)
                .where(
                    m.OutboxMessage.channel == CHANNEL,
                    m.OutboxMessage.chat_id == session_id,
                    m.OutboxMessage.id > after,
                )
                .order_by(m.OutboxMessage.id)
                .limit(50)
            ).all()
            return [{"id": r.id, **{k: r.payload[k] for k in PUBLIC_KEYS if k in r.payload}} for r in rows]
