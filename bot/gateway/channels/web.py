"""The local web chat (channel `web`): the page posts messages, photos and locations, and reads the
answers from a server-sent event stream (or by polling `GET /api/web/messages`).

Delivery is the page picking its rows up; the outbox worker's `send` only wakes the streams.
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
HISTORY_LIMIT = 300
INBOUND_LABELS = {"photo": "📷 Foto", "location": "📍 Lokasi"}


class WebChannel:
    batch = True

    def __init__(self, inbox: Inbox, sessions: sessionmaker[Session], on_inbound: Callable[[], None]) -> None:
        self.inbox = inbox
        self.sessions = sessions
        self.on_inbound = on_inbound
        self._waiters: dict[str, set[asyncio.Event]] = {}

    async def send(self, chat_id: str, messages: list[OutMessage]) -> None:
        """Nothing to push: the page fetches its rows; open event streams of that chat are woken."""
        for event in self._waiters.get(chat_id, ()):
            event.set()

    def waiter(self, chat_id: str) -> asyncio.Event:
        """An event set whenever new rows for `chat_id` are handed over; `release` it when done."""
        event = asyncio.Event()
        self._waiters.setdefault(chat_id, set()).add(event)
        return event

    def release(self, chat_id: str, event: asyncio.Event) -> None:
        waiters = self._waiters.get(chat_id)
        if waiters is not None:
            waiters.discard(event)
            if not waiters:
                del self._waiters[chat_id]

    async def receive(self, session_id: str, message_id: str | None, text: str | None, payload: str | None) -> bool:
        kind, data = ("postback", {"data": payload}) if payload else ("text", {})
        return await self._store(session_id, message_id, kind, text or payload, data)

    async def receive_photo(self, session_id: str, message_id: str | None, photo_ref: str) -> bool:
        return await self._store(session_id, message_id, "photo", None, {"photo_ref": photo_ref})

    async def receive_location(self, session_id: str, message_id: str | None, lat: float, lon: float) -> bool:
        return await self._store(session_id, message_id, "location", None, {"latitude": lat, "longitude": lon})

    async def _store(
        self, session_id: str, message_id: str | None, kind: str, text: str | None, payload: dict[str, Any]
    ) -> bool:
        inbound = Inbound(
            channel=CHANNEL,
            external_id=message_id or uuid.uuid4().hex,
            user_id=session_id,
            chat_id=session_id,
            kind=kind,
            text=text,
            payload=payload,
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

    def history(self, session_id: str) -> dict[str, Any]:
        """Both sides of the conversation, oldest first, and the last reply id (to continue the stream)."""
        with self.sessions() as session:
            inbound = session.scalars(
                select(m.InboundMessage)
                .where(m.InboundMessage.channel == CHANNEL, m.InboundMessage.chat_id == session_id)
                .order_by(m.InboundMessage.id.desc())
                .limit(HISTORY_LIMIT)
            ).all()
            outbound = session.scalars(
                select(m.OutboxMessage)
                .where(m.OutboxMessage.channel == CHANNEL, m.OutboxMessage.chat_id == session_id)
                .order_by(m.OutboxMessage.id.desc())
                .limit(HISTORY_LIMIT)
            ).all()
            # a reply is written after the message that caused it, so time order is conversation order
            items: list[tuple[Any, int, int, dict[str, Any]]] = []
            for row in inbound:
                text = INBOUND_LABELS.get(row.kind) or row.text or ""
                items.append((row.received_at, 0, row.id, {"side": "me", "kind": row.kind, "text": text}))
            for row in outbound:
                public = {k: row.payload[k] for k in PUBLIC_KEYS if k in row.payload}
                items.append((row.created_at, 1, row.id, {"side": "bot", "id": row.id, **public}))
            items.sort(key=lambda item: item[:3])
            last = max((row.id for row in outbound), default=0)
            return {"messages": [item[3] for item in items][-HISTORY_LIMIT:], "after": last}
