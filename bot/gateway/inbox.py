"""Inbound messages: stored (de-duplicated) before a webhook or poll is acknowledged.

A row stays `pending` until the processor has handed it to Rasa and written the replies to the
outbox in the same transaction, so a crash after the acknowledgement loses nothing.
Claims are leases (`next_attempt_at` moved forward, a token to finish with), so a crashed worker's
row is picked up again and a late worker cannot finish a row someone else now holds. A message that
keeps failing is given up after a bounded number of attempts (`failed`) and the citizen is told.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.gateway.worker import lock_due_heads
from bot.masking import mask_at_rest, wants_callback
from bot.store import models as m

LEASE = timedelta(seconds=90)


@dataclass(frozen=True)
class Inbound:
    """A channel-neutral inbound message. `kind`: text, location, photo, postback, unsupported."""

    channel: str
    external_id: str
    user_id: str
    chat_id: str
    kind: str
    text: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def sender_id(self) -> str:
        return f"{self.channel}:{self.user_id}"


@dataclass(frozen=True)
class Claimed:
    id: int
    channel: str
    sender_id: str
    chat_id: str
    kind: str
    text: str | None
    payload: dict[str, Any]
    attempts: int
    lease: str | None = None

    @property
    def user_id(self) -> str:
        return self.sender_id.partition(":")[2]


def _now() -> datetime:
    return datetime.now(UTC)


def _masked_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Photo captions are free text too: stored with the same mask as the message text."""
    caption = payload.get("caption")
    if not isinstance(caption, str):
        return payload
    return {**payload, "caption": mask_at_rest(caption, keep_phone=wants_callback(caption))}


class Inbox:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def store(self, msg: Inbound) -> int | None:
        """Insert the message; None when this update/event id was already stored (a redelivery)."""
        msg = without_nul(msg)
        try:
            with self.sessions() as session, session.begin():
                row = m.InboundMessage(
                    channel=msg.channel,
                    external_id=msg.external_id,
                    sender_id=msg.sender_id,
                    chat_id=msg.chat_id,
                    kind=msg.kind,
                    text=mask_at_rest(msg.text, keep_phone=wants_callback(msg.text)),
                    payload=_masked_payload(msg.payload),
                )
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            return None

    def claim(self, limit: int = 20) -> list[Claimed]:
        """Lease the oldest message of each sender whose earlier messages are all done, if it is due."""
        now = _now()
        token = str(uuid.uuid4())
        with self.sessions() as session, session.begin():
            rows = lock_due_heads(session, m.InboundMessage, ("sender_id",), now, limit)
            claimed: list[Claimed] = []
            for row in rows:
                row.next_attempt_at = now + LEASE
                row.attempts += 1
                row.lease_token = token
                claimed.append(
                    Claimed(
                        row.id,
                        row.channel,
                        row.sender_id,
                        row.chat_id,
                        row.kind,
                        row.text,
                        dict(row.payload),
                        row.attempts,
                        token,
                    )
                )
            return claimed

    def failed(self, limit: int = 100) -> list[m.InboundMessage]:
        with self.sessions() as session:
            rows = session.scalars(
                select(m.InboundMessage)
                .where(m.InboundMessage.status == "failed")
                .order_by(m.InboundMessage.id.desc())
                .limit(limit)
            ).all()
            session.expunge_all()
            return list(rows)


def without_nul(msg: Inbound) -> Inbound:
    """The message minus U+0000, the one character PostgreSQL text and JSONB cannot hold.

    Left in, it fails the insert on every retry: the webhook answers 5xx forever and, in long
    polling, the update blocks every later one.
    """

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("\x00", "")
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return replace(
        msg,
        external_id=clean(msg.external_id),
        user_id=clean(msg.user_id),
        chat_id=clean(msg.chat_id),
        text=clean(msg.text),
        payload=clean(msg.payload),
    )


class LeaseLost(Exception):
    """Another worker claimed the message after this one's lease ran out; this worker must not finish it."""


def finish(
    session: Session,
    inbound_id: int,
    payload: dict[str, Any] | None = None,
    *,
    done: bool = True,
    lease: str | None = None,
) -> None:
    """Mark progress inside the caller's transaction (the one that also writes the outbox rows).

    With `lease`, raises LeaseLost (rolling the caller's transaction back, outbox rows included)
    when the row is no longer this worker's.
    """
    values: dict[str, Any] = {"last_error": None}
    if payload is not None:
        values["payload"] = payload
    if done:
        values.update(status="done", processed_at=_now(), lease_token=None)
    stmt = update(m.InboundMessage).where(m.InboundMessage.id == inbound_id, m.InboundMessage.status == "pending")
    if lease is not None:
        stmt = stmt.where(m.InboundMessage.lease_token == lease)
    if session.execute(stmt.values(**values)).rowcount != 1 and lease is not None:
        raise LeaseLost(inbound_id)
