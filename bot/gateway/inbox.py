"""Inbound messages: stored (de-duplicated) before a webhook or poll is acknowledged.

A row stays `pending` until the processor has handed it to Rasa and written the replies to the
outbox in the same transaction, so a crash after the acknowledgement loses nothing.
Claims are leases (`next_attempt_at` moved forward), so a crashed worker's row is picked up again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.gateway.worker import lock_pending
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

    @property
    def user_id(self) -> str:
        return self.sender_id.partition(":")[2]


def _now() -> datetime:
    return datetime.now(UTC)


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
                    text=msg.text,
                    payload=msg.payload,
                )
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            return None

    def claim(self, limit: int = 20) -> list[Claimed]:
        """Lease the oldest due message of each sender whose earlier messages are all done."""
        now = _now()
        with self.sessions() as session, session.begin():
            rows = lock_pending(session, m.InboundMessage, limit * 5)
            seen: set[str] = set()
            claimed: list[Claimed] = []
            for row in rows:
                if row.sender_id in seen:
                    continue
                seen.add(row.sender_id)  # later messages of this sender wait for this one
                if row.next_attempt_at > now or len(claimed) >= limit:
                    continue
                row.next_attempt_at = now + LEASE
                row.attempts += 1
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
                    )
                )
            return claimed


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


def finish(session: Session, inbound_id: int, payload: dict[str, Any] | None = None, *, done: bool = True) -> None:
    """Mark progress inside the caller's transaction (the one that also writes the outbox rows)."""
    values: dict[str, Any] = {"last_error": None}
    if payload is not None:
        values["payload"] = payload
    if done:
        values.update(status="done", processed_at=_now())
    session.execute(update(m.InboundMessage).where(m.InboundMessage.id == inbound_id).values(**values))
