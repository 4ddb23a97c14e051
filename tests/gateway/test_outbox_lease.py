"""Outbox claims are leases: an in-flight message blocks its chat and returns if its worker dies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from bot.gateway.outbox import Outbox, add_messages
from bot.store import models as m
from bot.tickets import TicketService


def test_claimed_rows_block_their_chat_until_sent_or_expired(sqlite_service: TicketService) -> None:
    sessions = sqlite_service.sessions
    with sessions() as session, session.begin():
        add_messages(session, "telegram", "42", [{"text": "satu"}])
        add_messages(session, "telegram", "42", [{"text": "dua"}])
        add_messages(session, "telegram", "7", [{"text": "lain"}])
    outbox = Outbox(sessions)

    first = outbox.claim_batches()
    assert sorted((b[0].chat_id, b[0].payload["text"]) for b in first) == [("42", "satu"), ("7", "lain")]
    # In flight: neither the same row nor the chat's next message is handed to another worker.
    assert outbox.claim_batches() == []

    with sessions() as session, session.begin():  # the worker holding "satu" died: its lease runs out
        session.execute(update(m.OutboxMessage).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
    again = outbox.claim_batches()
    assert [(b[0].chat_id, b[0].payload["text"], b[0].attempts) for b in again if b[0].chat_id == "42"] == [
        ("42", "satu", 2)
    ]

    outbox.mark_sent([b[0].id for b in again])
    with sessions() as session, session.begin():
        session.execute(update(m.OutboxMessage).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert [b[0].payload["text"] for b in outbox.claim_batches()] == ["dua"]
