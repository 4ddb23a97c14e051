"""Who is told what, through which chat: ticket events become outbox rows.

Every function here runs inside the caller's transaction, so a change and the messages it causes
commit together (or not at all). Texts come from data/messages.yml; the ticket service only calls in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.lifecycle import Status
from bot.store import models as m
from bot.texts import render

if TYPE_CHECKING:
    from bot.domain.categories import Taxonomy
    from bot.tickets import TicketView


def queue(
    session: Session, channel: str, chat_id: str, payload: dict[str, Any], *, ticket_id: int | None = None
) -> m.OutboxMessage:
    row = m.OutboxMessage(channel=channel, chat_id=chat_id, payload=payload, ticket_id=ticket_id)
    session.add(row)
    return row


def admin_chats(session: Session, opd_id: str) -> list[m.AdminGroup]:
    """The registered admin chats of one OPD."""
    return list(session.scalars(select(m.AdminGroup).where(m.AdminGroup.opd_id == opd_id).order_by(m.AdminGroup.id)))


def to_opd(
    session: Session, opd_id: str, payload: dict[str, Any], *, ticket_id: int | None = None
) -> list[m.OutboxMessage]:
    """One message to each registered chat of the OPD; [] when none is registered."""
    chats = admin_chats(session, opd_id)
    return [queue(session, g.channel, g.chat_id, dict(payload), ticket_id=ticket_id) for g in chats]


def to_coordinator(
    session: Session, taxonomy: Taxonomy, payload: dict[str, Any], *, ticket_id: int | None = None
) -> list[m.OutboxMessage]:
    return to_opd(session, taxonomy.coordinator_opd, payload, ticket_id=ticket_id)


def to_citizen(session: Session, view: TicketView, text: str, *, ticket_id: int | None = None) -> m.OutboxMessage:
    """Back to the chat the ticket came from."""
    return queue(session, view.channel, view.chat_id, {"text": text}, ticket_id=ticket_id)


def status_changed(
    session: Session, taxonomy: Taxonomy, view: TicketView, source: Status, note: str | None, *, ticket_id: int
) -> m.OutboxMessage:
    """The citizen's warm notice for one lifecycle change (re-route, resolved, any other)."""
    note_line = render("status_note_line", note=note) if note else ""
    opd_name = taxonomy.opds[view.opd_id].name
    if view.status == Status.DIDISPOSISIKAN and source is Status.DIDISPOSISIKAN:
        text = render("rerouted", code=view.code, opd=opd_name, note_line=note_line, due=view.due_text)
    elif view.status == Status.SELESAI:
        text = render("resolved_ask_rating", code=view.code, opd=opd_name, note_line=note_line)
    else:
        text = render(
            "status_changed",
            code=view.code,
            category=view.category_label,
            status_label=view.status_label,
            note_line=note_line,
        )
    return to_citizen(session, view, text, ticket_id=ticket_id)


def handoff_requested(session: Session, taxonomy: Taxonomy, channel: str, user_id: str, text: str) -> int:
    """Tell the coordinator's chats that a citizen wants a person; returns how many chats were told."""
    payload = {"text": render("handoff_to_admin", sender=f"{channel}:{user_id}", text=text)}
    return len(to_coordinator(session, taxonomy, payload))


# --- deadlines, rating and reopening (issue 9) ----------------------------------------------------


def feedback_buttons(code: str) -> list[dict[str, str]]:
    """Rating 1–5 and "Belum selesai" as intent payloads carrying the ticket code (fits Telegram's 64 bytes)."""
    buttons = [
        {"title": f"⭐ {n}", "payload": f'/give_rating{{"ticket_code":"{code}","rating":"{n}"}}'} for n in range(1, 6)
    ]
    buttons.append({"title": "Belum selesai", "payload": f'/reopen_ticket{{"ticket_code":"{code}"}}'})
    return buttons


def resolved_ask_feedback(
    session: Session, taxonomy: Taxonomy, view: TicketView, note: str | None, *, ticket_id: int
) -> m.OutboxMessage:
    """`selesai`: ask the citizen whether the problem is solved, with rating and reopen buttons."""
    note_line = render("status_note_line", note=note) if note else ""
    text = render("resolved_ask_feedback", code=view.code, opd=taxonomy.opds[view.opd_id].name, note_line=note_line)
    payload = {"text": text, "buttons": feedback_buttons(view.code)}
    return queue(session, view.channel, view.chat_id, payload, ticket_id=ticket_id)


def rating_to_opd(session: Session, view: TicketView, rating: int, *, ticket_id: int) -> list[m.OutboxMessage]:
    return to_opd(
        session, view.opd_id, {"text": render("rating_to_opd", code=view.code, rating=rating)}, ticket_id=ticket_id
    )


def reopened_to_opd(session: Session, view: TicketView, reason: str, *, ticket_id: int) -> list[m.OutboxMessage]:
    text = render("reopened_to_opd", code=view.code, reason=mask_reason(reason), due=view.due_text)
    return to_opd(session, view.opd_id, {"text": text}, ticket_id=ticket_id)


def mask_reason(text: str) -> str:
    from bot.masking import mask_text

    return mask_text(text)
