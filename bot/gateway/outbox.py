"""Outbound delivery: rows written with their cause, delivered once, retried with backoff.

Rows of one chat go out in order; rows caused by the same inbound message go as one batch, so
LINE can answer them with a single reply token. A channel's `RetryLater` (Telegram 429
`retry_after`) postpones the batch without counting as a failure.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.gateway.worker import PollingWorker, lock_due_heads
from bot.masking import mask_text
from bot.store import models as m

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(minutes=10)
MAX_BATCH = 20


class RetryLater(Exception):
    """The channel asked us to wait (rate limit) or is briefly unavailable."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry after {seconds}s")
        self.seconds = seconds


class TopicGone(Exception):
    """The ticket's forum topic was deleted: forget it, so the next attempt creates a new one."""


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
    """Claims so far including this one (waits asked for by the channel do not count)."""
    created_at: datetime
    lease: str | None = None


@dataclass
class Delivery:
    """How a batch went out ("send"; LINE "reply" or "push") and the channel's ids of the messages
    each outbox row became, so replies to them can be mapped back to their ticket."""

    via: str = "send"
    ids: dict[int, list[str]] = field(default_factory=dict)


class ChannelSender(Protocol):
    async def send(self, chat_id: str, messages: list[OutMessage]) -> Delivery | None:
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
    """Queue messages inside the caller's transaction (a payload's `_ticket_id` ties that row to a ticket)."""
    for payload in payloads:
        row_ticket = payload.get("_ticket_id", ticket_id)
        payload = {k: v for k, v in payload.items() if k != "_ticket_id"}
        session.add(
            m.OutboxMessage(
                channel=channel, chat_id=chat_id, payload=payload, inbound_id=inbound_id, ticket_id=row_ticket
            )
        )


class Outbox:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def claim_batches(self, limit: int = 20) -> list[list[OutMessage]]:
        """Lease the next due batch of each chat (its head row plus following rows of the same inbound message)."""
        now = _now()
        token = str(uuid.uuid4())
        with self.sessions() as session, session.begin():
            heads = lock_due_heads(session, m.OutboxMessage, ("channel", "chat_id"), now, limit)
            out: list[list[OutMessage]] = []
            for head in heads:
                batch = [head]
                if head.inbound_id is not None:
                    following = session.scalars(
                        select(m.OutboxMessage)
                        .where(
                            m.OutboxMessage.channel == head.channel,
                            m.OutboxMessage.chat_id == head.chat_id,
                            m.OutboxMessage.status == "pending",
                            m.OutboxMessage.id > head.id,
                        )
                        .order_by(m.OutboxMessage.id)
                        .limit(MAX_BATCH)
                        .with_for_update()
                    ).all()
                    for row in following:
                        if row.inbound_id != head.inbound_id:
                            break
                        batch.append(row)
                for row in batch:
                    # A lease: the row stays pending but not due, so it blocks its chat while in
                    # flight and comes back by itself if this worker dies. The token proves ownership.
                    row.next_attempt_at = now + LEASE
                    row.lease_token = token
                    row.attempts += 1  # counted at claim, so a worker that crashes mid-send still counts
                out.append([_out(r, token) for r in batch])
            return out

    def mark_sent(
        self, ids: list[int], lease: str | None = None, via: str | None = None, refs: dict[int, list[str]] | None = None
    ) -> bool:
        """Finish rows this worker still holds; False when the lease was lost (another worker took over).

        `refs` (outbox id -> the channel's message ids) are recorded for rows about a ticket, in the
        same commit, so an admin's reply to any of those messages finds its ticket.
        """
        with self.sessions() as session, session.begin():
            stmt = update(m.OutboxMessage).where(m.OutboxMessage.id.in_(ids), m.OutboxMessage.status == "pending")
            if lease is not None:
                stmt = stmt.where(m.OutboxMessage.lease_token == lease)
            done = session.execute(stmt.values(status="sent", sent_at=_now(), via=via, lease_token=None)).rowcount
            if done == len(ids) and refs:
                rows = session.scalars(select(m.OutboxMessage).where(m.OutboxMessage.id.in_(list(refs)))).all()
                for row in rows:
                    conversation = (row.payload or {}).get("_conversation")
                    if row.ticket_id is None and conversation is None:
                        continue
                    for message_id in dict.fromkeys(refs[row.id]):
                        session.add(
                            m.MessageRef(
                                channel=row.channel,
                                chat_id=row.chat_id,
                                message_id=str(message_id),
                                ticket_id=row.ticket_id,
                                conversation_id=conversation,
                                outbox_id=row.id,
                            )
                        )
        if done != len(ids):
            logger.warning("outbox %s: lease lost before marking sent (%d of %d)", ids, done, len(ids))
        return done == len(ids)

    def reschedule(
        self,
        ids: list[int],
        delay: timedelta,
        error: str,
        *,
        give_up: bool = False,
        lease: str | None = None,
        count_attempt: bool = True,
    ) -> None:
        """Back to the queue after `delay` (a counted failure unless the channel only asked us to wait)."""
        with self.sessions() as session, session.begin():
            stmt = update(m.OutboxMessage).where(m.OutboxMessage.id.in_(ids), m.OutboxMessage.status == "pending")
            if lease is not None:
                stmt = stmt.where(m.OutboxMessage.lease_token == lease)
            values: dict[str, Any] = {
                "status": "failed" if give_up else "pending",
                "next_attempt_at": _now() + delay,
                "last_error": mask_text(error)[:2000],
                "lease_token": None,
            }
            if not count_attempt:  # the channel asked us to wait: not a failure
                values["attempts"] = m.OutboxMessage.attempts - 1
            session.execute(stmt.values(**values))

    def topic(self, channel: str, chat_id: str, ticket_id: int) -> int | None:
        with self.sessions() as session:
            return session.scalar(
                select(m.AdminTopic.thread_id).where(
                    m.AdminTopic.channel == channel,
                    m.AdminTopic.chat_id == chat_id,
                    m.AdminTopic.ticket_id == ticket_id,
                )
            )

    def save_topic(self, channel: str, chat_id: str, ticket_id: int, thread_id: int) -> None:
        with self.sessions() as session, session.begin():
            row = session.scalars(
                select(m.AdminTopic).where(
                    m.AdminTopic.channel == channel,
                    m.AdminTopic.chat_id == chat_id,
                    m.AdminTopic.ticket_id == ticket_id,
                )
            ).one_or_none()
            if row is None:
                session.add(m.AdminTopic(channel=channel, chat_id=chat_id, ticket_id=ticket_id, thread_id=thread_id))
            else:
                row.thread_id = thread_id

    def forget_topic(self, channel: str, chat_id: str, thread_id: int) -> None:
        with self.sessions() as session, session.begin():
            session.execute(
                delete(m.AdminTopic).where(
                    m.AdminTopic.channel == channel,
                    m.AdminTopic.chat_id == chat_id,
                    m.AdminTopic.thread_id == thread_id,
                )
            )

    def failed(self, limit: int = 100) -> list[m.OutboxMessage]:
        """Rows that were given up on, newest first (for `aduan outbox failed` and the koordinator)."""
        with self.sessions() as session:
            rows = session.scalars(
                select(m.OutboxMessage)
                .where(m.OutboxMessage.status == "failed")
                .order_by(m.OutboxMessage.id.desc())
                .limit(limit)
            ).all()
            session.expunge_all()
            return list(rows)

    def retry(self, ids: list[int]) -> int:
        """Put failed rows back in the queue (after the cause was fixed); returns how many."""
        with self.sessions() as session, session.begin():
            return session.execute(
                update(m.OutboxMessage)
                .where(m.OutboxMessage.id.in_(ids), m.OutboxMessage.status == "failed")
                .values(status="pending", attempts=0, next_attempt_at=_now(), last_error=None)
            ).rowcount


def _out(row: m.OutboxMessage, lease: str) -> OutMessage:
    return OutMessage(
        row.id, row.channel, row.chat_id, dict(row.payload), row.inbound_id, row.attempts, row.created_at, lease
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
        lease = first.lease
        sender = self.senders.get(first.channel)
        if sender is None:
            ids = [msg.id for msg in batch]
            await asyncio.to_thread(
                self.outbox.reschedule,
                ids,
                timedelta(0),
                f"no sender for channel {first.channel}",
                give_up=True,
                lease=lease,
            )
            return
        # Batch senders (LINE) take the rows together; others go one by one, each marked when sent,
        # so a failure half-way never repeats what already arrived.
        groups = [batch] if getattr(sender, "batch", True) else [[msg] for msg in batch]
        for index, group in enumerate(groups):
            remaining = [msg.id for g in groups[index:] for msg in g]
            try:
                for msg in group:
                    await self._place_in_topic(sender, msg)
                delivery = await sender.send(first.chat_id, group) or Delivery()
            except RetryLater as exc:
                logger.warning("outbox %s: %s, waiting %.1fs", remaining, exc, exc.seconds)
                await asyncio.to_thread(
                    self.outbox.reschedule,
                    remaining,
                    timedelta(seconds=exc.seconds),
                    str(exc),
                    lease=lease,
                    count_attempt=False,
                )
                return
            except TopicGone as exc:
                logger.warning("outbox %s: forum topic deleted, recreating: %s", remaining, exc)
                for msg in group:
                    if msg.payload.get("_thread_id"):
                        await asyncio.to_thread(
                            self.outbox.forget_topic, msg.channel, msg.chat_id, int(msg.payload["_thread_id"])
                        )
                await asyncio.to_thread(
                    self.outbox.reschedule, remaining, timedelta(0), str(exc), lease=lease, count_attempt=False
                )
                return
            except PermanentFailure as exc:
                logger.error("outbox %s undeliverable: %s", remaining, exc)
                await asyncio.to_thread(
                    self.outbox.reschedule, remaining, timedelta(0), str(exc), give_up=True, lease=lease
                )
                return
            except Exception as exc:
                attempts = first.attempts
                delay = min(timedelta(seconds=2**attempts), MAX_BACKOFF)
                give_up = attempts >= MAX_ATTEMPTS
                logger.warning("outbox %s failed (attempt %d): %s", remaining, attempts, exc)
                await asyncio.to_thread(
                    self.outbox.reschedule,
                    remaining,
                    delay,
                    f"{type(exc).__name__}: {exc}",
                    give_up=give_up,
                    lease=lease,
                )
                return
            await asyncio.to_thread(self.outbox.mark_sent, [msg.id for msg in group], lease, delivery.via, delivery.ids)

    async def _place_in_topic(self, sender: ChannelSender, msg: OutMessage) -> None:
        """Rows about a ticket for a forum group go into the ticket's own topic (created on first use)."""
        topic = msg.payload.get("_topic")
        if not topic or not hasattr(sender, "create_topic"):
            return
        ticket_id = int(topic["ticket_id"])
        thread = await asyncio.to_thread(self.outbox.topic, msg.channel, msg.chat_id, ticket_id)
        if thread is None:
            thread = await sender.create_topic(msg.chat_id, topic["name"])  # type: ignore[attr-defined]
            await asyncio.to_thread(self.outbox.save_topic, msg.channel, msg.chat_id, ticket_id, thread)
        msg.payload["_thread_id"] = thread
