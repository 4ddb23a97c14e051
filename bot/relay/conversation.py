"""A citizen talking with a petugas through the bot.

While a conversation is open the citizen's messages go to the admin chats of their ticket's OPD,
threaded to the ticket's earlier post, and the bot does not answer them (no bot and human talking
over each other). It opens on an admin's reply or the citizen's request for a person, and closes
by the admin's button, by the citizen (`/selesai`), or after 24 hours without messages. Functions
here run inside the caller's transaction, like bot/notify.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import notify
from bot.domain.categories import Taxonomy
from bot.domain.lifecycle import Status
from bot.masking import mask_text
from bot.store import models as m
from bot.texts import render

IDLE = timedelta(hours=24)
CLOSE_WORDS = frozenset({"/selesai", "/kembali", "/stop", "selesai bicara", "kembali ke bot", "/relay_close"})
OPEN_STATUSES = (Status.BARU.value, Status.DIDISPOSISIKAN.value, Status.DIPROSES.value, Status.SELESAI.value)


@dataclass(frozen=True)
class Opened:
    conversation_id: int
    created: bool


def _now() -> datetime:
    return datetime.now(UTC)


def active(session: Session, channel: str, user_id: str, now: datetime | None = None) -> m.RelayConversation | None:
    """The citizen's open conversation, closing it first when it has been idle for 24 hours."""
    now = now or _now()
    conv = session.scalars(
        select(m.RelayConversation)
        .where(
            m.RelayConversation.channel == channel,
            m.RelayConversation.user_id == user_id,
            m.RelayConversation.closed_at.is_(None),
        )
        .order_by(m.RelayConversation.id.desc())
        .limit(1)
    ).one_or_none()
    if conv is not None and conv.last_message_at <= now - IDLE:
        conv.closed_at, conv.closed_by = now, "sistem:idle-24h"
        return None
    return conv


def open_conversation(
    session: Session,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    ticket_id: int | None,
    opened_by: str,
    now: datetime | None = None,
) -> Opened:
    """Open (or keep open) the citizen's conversation; `created` tells whether to explain how to return."""
    now = now or _now()
    conv = active(session, channel, user_id, now)
    if conv is not None:
        conv.last_message_at = now
        if ticket_id is not None:
            conv.ticket_id = ticket_id
        return Opened(conv.id, False)
    conv = m.RelayConversation(
        channel=channel,
        user_id=user_id,
        chat_id=chat_id,
        ticket_id=ticket_id,
        opened_by=opened_by[:160],
        opened_at=now,
        last_message_at=now,
    )
    session.add(conv)
    session.flush()
    return Opened(conv.id, True)


def close(session: Session, conv: m.RelayConversation, by: str, now: datetime | None = None) -> None:
    conv.closed_at, conv.closed_by = now or _now(), by[:160]


def close_for_ticket(session: Session, ticket_id: int, by: str) -> m.RelayConversation | None:
    conv = session.scalars(
        select(m.RelayConversation)
        .where(m.RelayConversation.ticket_id == ticket_id, m.RelayConversation.closed_at.is_(None))
        .order_by(m.RelayConversation.id.desc())
        .limit(1)
    ).one_or_none()
    if conv is not None:
        close(session, conv, by)
    return conv


def latest_ticket(session: Session, channel: str, user_id: str) -> m.Ticket | None:
    """The citizen's most recent ticket that is still being handled (or just resolved)."""
    return session.scalars(
        select(m.Ticket)
        .join(m.Citizen)
        .where(m.Citizen.channel == channel, m.Citizen.external_user_id == user_id, m.Ticket.status.in_(OPEN_STATUSES))
        .order_by(m.Ticket.created_at.desc(), m.Ticket.id.desc())
        .limit(1)
    ).one_or_none()


def last_post_in(session: Session, ticket_id: int, channel: str, chat_id: str) -> str | None:
    """The newest bot message about the ticket in that admin chat, to thread a new one under it."""
    return session.scalar(
        select(m.MessageRef.message_id)
        .where(m.MessageRef.ticket_id == ticket_id, m.MessageRef.channel == channel, m.MessageRef.chat_id == chat_id)
        .order_by(m.MessageRef.id.desc())
        .limit(1)
    )


def ticket_for_message(session: Session, channel: str, chat_id: str, message_id: str) -> int | None:
    return session.scalar(
        select(m.MessageRef.ticket_id).where(
            m.MessageRef.channel == channel, m.MessageRef.chat_id == chat_id, m.MessageRef.message_id == message_id
        )
    )


def to_admins(
    session: Session,
    taxonomy: Taxonomy,
    ticket: m.Ticket | None,
    text: str,
    *,
    buttons: bool = True,
    conversation_id: int | None = None,
) -> list[m.OutboxMessage]:
    """A message for the petugas about `ticket`: its OPD's chats (threaded), else the koordinator's."""
    chats = notify.admin_chats(session, ticket.opd_id) if ticket is not None else []
    if not chats:
        chats = notify.coordinator_chats(session, taxonomy)
    rows = []
    for chat in chats:
        payload: dict = {"text": text}
        if conversation_id is not None:
            payload["_conversation"] = conversation_id  # a reply to this message reaches that citizen
        if ticket is not None:
            reply_to = last_post_in(session, ticket.id, chat.channel, chat.chat_id)
            if reply_to:
                payload["_reply_to"] = reply_to
            if buttons:
                payload["buttons"] = [
                    {"title": "Balas", "payload": f"adm:balas:{ticket.code}"},
                    {"title": "Tutup percakapan", "payload": f"adm:tutup:{ticket.code}"},
                ]
        if ticket is not None:
            label = taxonomy.get(ticket.category_id).label
            payload = notify.in_topic(chat, payload, ticket.code, label, ticket.id)
        rows.append(notify.queue(session, chat.channel, chat.chat_id, payload, ticket_id=ticket.id if ticket else None))
    return rows


def citizen_wrote(
    session: Session, taxonomy: Taxonomy, conv: m.RelayConversation, text: str, now: datetime | None = None
) -> None:
    """Forward the citizen's message to the petugas; the bot itself stays quiet."""
    conv.last_message_at = now or _now()
    ticket = session.get(m.Ticket, conv.ticket_id) if conv.ticket_id else None
    code = ticket.code if ticket else "-"
    sender = "(anonim)" if ticket is None or ticket.anonymous else f"{conv.channel}:{conv.user_id}"
    body = render("relay_citizen_message", code=code, sender=sender, text=mask_text(text))
    to_admins(session, taxonomy, ticket, body, conversation_id=conv.id)


def record_citizen_message(
    session: Session, conv: m.RelayConversation, channel: str, chat_id: str, message_id: str
) -> None:
    """The citizen's relayed message, by its channel id (once, even when the inbound row is retried)."""
    exists = session.scalar(
        select(m.MessageRef.id).where(
            m.MessageRef.channel == channel, m.MessageRef.chat_id == chat_id, m.MessageRef.message_id == message_id
        )
    )
    if exists is None:
        session.add(
            m.MessageRef(
                channel=channel,
                chat_id=chat_id,
                message_id=message_id,
                ticket_id=conv.ticket_id,
                conversation_id=conv.id,
            )
        )


def request_person(
    session: Session, taxonomy: Taxonomy, channel: str, user_id: str, chat_id: str, text: str
) -> tuple[str, str]:
    """`ask_human`: open a conversation about the citizen's latest ticket and tell the petugas.

    Returns (the citizen's answer, who was asked: "opd", "coordinator" or "none"). With no OPD
    chat registered the koordinator is asked and the citizen is told so honestly.
    """
    session.add(m.Handoff(channel=channel, user_id=user_id, text=mask_text(text)))
    ticket = latest_ticket(session, channel, user_id)
    opd_chats = notify.admin_chats(session, ticket.opd_id) if ticket is not None else []
    sender = "(anonim)" if ticket is not None and ticket.anonymous else f"{channel}:{user_id}"
    body = render("relay_person_requested", code=ticket.code if ticket else "-", sender=sender, text=mask_text(text))
    recipients = opd_chats or notify.coordinator_chats(session, taxonomy)
    if not recipients:
        # Nobody would read the citizen's messages: no conversation, and an honest answer.
        return render("relay_no_admin_chat"), "none"
    opened = open_conversation(
        session,
        channel=channel,
        user_id=user_id,
        chat_id=chat_id,
        ticket_id=ticket.id if ticket else None,
        opened_by=f"warga:{channel}:{user_id}",
    )
    to_admins(session, taxonomy, ticket, body, conversation_id=opened.conversation_id)
    if opd_chats and ticket is not None:
        return render("relay_opened_opd", opd=taxonomy.opds[ticket.opd_id].name, code=ticket.code), "opd"
    return render("relay_opened_coordinator"), "coordinator"
