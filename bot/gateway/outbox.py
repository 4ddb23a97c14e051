"""Outbound delivery: rows written with their cause, delivered once, retried with backoff.

Rows of one chat go out in order; rows caused by the same inbound message go as one batch, so
LINE can answer them with a single reply token. A channel's `RetryLater` (Telegram 429
`retry_after`) postpones the batch without counting as a failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.gateway.worker import PollingWorker, lock_pending
from bot.masking import mask_text
from bot.store import models as m

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(minutes=10)


class RetryLater(Exception):
    """The channel asked us to wait (rate limit) or is briefly unavailable."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry after {seconds}s")
        self.seconds = seconds


class PermanentFailure(Exception):
    """The message can never be delivered (blocked bot, bad chat id): do not retry."""


@dataclass(frozen=True)
class OutMessage:
    id: int
    channel: str
    chat_id: str
    payload: dict[str, Any]
    inbound_id: int | None
    attempts: int
    created_at: datetime


class ChannelSender(Protocol):
    async def send(self, chat_id: str, messages: list[OutMessage]) -> None:
        """Deliver the batch in order or raise RetryLater / PermanentFailure / any error (retried)."""


def _now() -> datetime:
    return datetime.now(UTC)


def add_messages(
    session: Session,
    channel: str,
    chat_id: str,
    payloads: list[dict[str, Any]],
    *,
    inbound_id: int | None = None,
    ticket_id: int | None = None,
) -> None:
    """Queue messages inside the caller's transaction."""
    for payload in payloads:
        session.add(
            m.OutboxMessage(
                channel=channel, chat_id=chat_id, payload=payload, inbound_id=inbound_id, ticket_id=ticket_id
            )
        )


class Outbox:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def claim_batches(self, limit: int = 20) -> list[list[OutMessage]]:
        """Lease the next due batch of each chat (rows from the same inbound message, in order)."""
        now = _now()
        with self.sessions() as session, session.begin():
            rows = lock_pending(session, m.OutboxMessage, limit * 10)
            batches: dict[tuple[str, str], list[m.OutboxMessage]] = {}
            blocked: set[tuple[str, str]] = set()
            for row in rows:
                key = (row.channel, row.chat_id)
                if key in blocked:
                    continue
                batch = batches.get(key)
                if batch is None:
                    if row.next_attempt_at > now or len(batches) >= limit:
                        blocked.add(key)  # keep the chat's order: nothing after a waiting row
                        continue
                    batches[key] = [row]
                elif row.inbound_id is not None and row.inbound_id == batch[0].inbound_id:
                    batch.append(row)
                else:
                    blocked.add(key)
            out: list[list[OutMessage]] = []
            for batch in batches.values():
                for row in batch:
                    # A lease, as in the inbox: the row stays pending but not due, so it blocks its
                    # chat while in flight and comes back by itself if this worker dies.
                    row.next_attempt_at = now + LEASE
                    row.attempts += 1
                out.append(
                    [
                        OutMessage(r.id, r.channel, r.chat_id, dict(r.payload), r.inbound_id, r.attempts, r.created_at)
                        for r in batch
                    ]
                )
            return out

    def mark_sent(self, ids: list[int]) -> None:
        with self.sessions() as session, session.begin():
            session.execute(
                update(m.OutboxMessage).where(m.OutboxMessage.id.in_(ids)).values(status="sent", sent_at=_now())
            )

    def reschedule(self, ids: list[int], delay: timedelta, error: str, *, give_up: bool = False) -> None:
        with self.sessions() as session, session.begin():
            session.execute(
                update(m.OutboxMessage)
                .where(m.OutboxMessage.id.in_(ids))
                .values(
                    status="failed" if give_up else "pending",
                    next_attempt_at=_now() + delay,
                    last_error=mask_text(error)[:2000],
                )
            )


class OutboxWorker(PollingWorker):
    """Delivers claimed batches through the channel senders; wakes on `notify()` or every second."""

    def __init__(self, outbox: Outbox, senders: Mapping[str, ChannelSender], poll_interval: float = 1.0) -> None:
        self.outbox = outbox
        self.senders = senders
        super().__init__(poll_interval)

    async def run_once(self) -> int:
        batches = await asyncio.to_thread(self.outbox.claim_batches)
        await asyncio.gather(*(self._deliver(batch) for batch in batches))
        return len(batches)

    async def _deliver(self, batch: list[OutMessage]) -> None:
        first = batch[0]
        sender = self.senders.get(first.channel)
        if sender is None:
            ids = [msg.id for msg in batch]
            await asyncio.to_thread(
                self.outbox.reschedule, ids, timedelta(0), f"no sender for channel {first.channel}", give_up=True
            )
            return
        # Batch senders (LINE) take the rows together; others go one by one, each marked when sent,
        # so a failure half-way never repeats what already arrived.
        groups = [batch] if getattr(sender, "batch", True) else [[msg] for msg in batch]
        for index, group in enumerate(groups):
            remaining = [msg.id for g in groups[index:] for msg in g]
            try:
                await sender.send(first.chat_id, group)
            except RetryLater as exc:
                logger.warning("outbox %s: %s, waiting %.1fs", remaining, exc, exc.seconds)
                await asyncio.to_thread(self.outbox.reschedule, remaining, timedelta(seconds=exc.seconds), str(exc))
                return
            except PermanentFailure as exc:
                logger.error("outbox %s undeliverable: %s", remaining, exc)
                await asyncio.to_thread(self.outbox.reschedule, remaining, timedelta(0), str(exc), give_up=True)
                return
            except Exception as exc:
                delay = min(timedelta(seconds=2**first.attempts), MAX_BACKOFF)
                give_up = first.attempts >= MAX_ATTEMPTS
                logger.warning("outbox %s failed (attempt %d): %s", remaining, first.attempts, exc)
                await asyncio.to_thread(
                    self.outbox.reschedule, remaining, delay, f"{type(exc).__name__}: {exc}", give_up=give_up
                )
                return
            await asyncio.to_thread(self.outbox.mark_sent, [msg.id for msg in group])
