"""Who is told what, through which chat: ticket events become outbox rows.

Every function here runs inside the caller's transaction, so a change and the messages it causes
commit together (or not at all). Texts come from data/messages.yml; the ticket service only calls in.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.domain.lifecycle import Status
from bot.masking import mask_text
from bot.media import REF_PREFIX as MEDIA_PREFIX
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


def coordinator_chats(session: Session, taxonomy: Taxonomy) -> list[m.AdminGroup]:
    """The koordinator's chats: those of the coordinator OPD and any chat registered with that role."""
    return list(
        session.scalars(
            select(m.AdminGroup)
            .where(or_(m.AdminGroup.opd_id == taxonomy.coordinator_opd, m.AdminGroup.role == "koordinator"))
            .order_by(m.AdminGroup.id)
        )
    )


def to_coordinator(
    session: Session, taxonomy: Taxonomy, payload: dict[str, Any], *, ticket_id: int | None = None
) -> list[m.OutboxMessage]:
    return [
        queue(session, g.channel, g.chat_id, dict(payload), ticket_id=ticket_id)
        for g in coordinator_chats(session, taxonomy)
    ]


def to_citizen(session: Session, view: TicketView, text: str, *, ticket_id: int | None = None) -> m.OutboxMessage:
    """Back to the chat the ticket came from."""
    return queue(session, view.channel, view.chat_id, {"text": text}, ticket_id=ticket_id)


def status_changed(
    session: Session, taxonomy: Taxonomy, view: TicketView, source: Status, note: str | None, *, ticket_id: int
) -> m.OutboxMessage:
    """The citizen's warm notice for one lifecycle change (re-route, resolved, any other)."""
    note_line = render("status_note_line", note=note) if note else ""
    opd_name = taxonomy.opds[view.opd_id].name
    if view.status == Status.DIDISPOSISIKAN and view.events and view.events[-1].from_opd != view.opd_id:
        # The coordinator's first routing of a `lainnya` ticket, or a re-route: the new OPD gets the post too.
        text = render("rerouted", code=view.code, opd=opd_name, note_line=note_line, due=view.due_text)
        new_ticket(session, taxonomy, view, ticket_id=ticket_id, coordinator=False)
    elif view.status == Status.SELESAI:
        text = render("resolved_ask_rating", code=view.code, opd=opd_name, note_line=note_line)
    elif view.status == Status.DITOLAK:
        text = render("status_rejected", code=view.code, category=view.category_label, note_line=note_line)
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


# --- admin chats ------------------------------------------------------------------------------

ADMIN_BUTTONS = (
    ("Proses", "proses"),
    ("Selesai", "selesai"),
    ("Tolak", "tolak"),
    ("Disposisi", "dispo"),
    ("Balas", "balas"),
)


def in_topic(chat: m.AdminGroup, payload: dict[str, Any], code: str, label: str, ticket_id: int) -> dict[str, Any]:
    """In a Telegram forum group a ticket's messages go into its own topic (the worker creates it)."""
    if chat.forum:
        payload = {**payload, "_topic": {"ticket_id": ticket_id, "name": f"{code} · {label}"}}
    return payload


def may_see_content(chat_opd_id: str, view: TicketView) -> bool:
    """A confidential ticket's content is for the handling OPD's chats only (the koordinator sees metadata)."""
    return not view.confidential or chat_opd_id == view.opd_id


def _citizen_label(view: TicketView) -> str:
    if view.anonymous:
        return "(anonim)"
    return mask_text(view.citizen_name) if view.citizen_name else view.citizen_sender


def _privacy(view: TicketView) -> str:
    if view.confidential:
        return render("admin_privacy_confidential")
    return render("admin_privacy_anonymous" if view.anonymous else "admin_privacy_public")


def _location_line(view: TicketView) -> str:
    line = render("admin_location_line", location=mask_text(view.location_text)) if view.location_text else ""
    if view.latitude is not None and view.longitude is not None:
        line += render("admin_map_line", lat=f"{view.latitude:.6f}", lon=f"{view.longitude:.6f}")
    return line


def ticket_post(taxonomy: Taxonomy, view: TicketView, *, full: bool) -> dict[str, Any]:
    """The new-ticket post for one admin chat: masked, anonymity kept, content only when `full`."""
    common = {"code": view.code, "category": view.category_label, "opd": view.opd_name, "due": view.due_text}
    if not full:
        return {"text": render("admin_new_ticket_confidential", **common)}
    text = render(
        "admin_new_ticket",
        **common,
        privacy=_privacy(view),
        citizen=_citizen_label(view),
        location_line=_location_line(view),
        photos_line=render("admin_photos_line", count=len(view.photos)) if view.photos else "",
        description=mask_text(view.description),
    )
    buttons = [{"title": title, "payload": f"adm:{action}:{view.code}"} for title, action in ADMIN_BUTTONS]
    return {"text": text, "buttons": buttons}


def ticket_detail(taxonomy: Taxonomy, view: TicketView, *, full: bool) -> str:
    """`/tiket KODE`: the ticket with its history (internal notes included: admins only)."""
    common = {
        "code": view.code,
        "category": view.category_label,
        "status_label": view.status_label,
        "opd": view.opd_name,
        "due": view.due_text,
    }
    if not full:
        return render("admin_ticket_detail_confidential", **common)
    history = "\n".join(
        render(
            "admin_history_line",
            at=f"{e.created_at:%d/%m %H:%M}",
            actor=e.actor.split(":", 1)[0] if e.actor.startswith("warga:") else e.actor,
            from_status=e.from_status or "-",
            to_status=e.to_status,
            note=f" · {mask_text(e.note)}" if e.note else "",
        )
        for e in view.events
    )
    return render(
        "admin_ticket_detail",
        **common,
        citizen=_citizen_label(view),
        location_line=_location_line(view),
        description=mask_text(view.description),
        history=history,
    )


def new_ticket(
    session: Session, taxonomy: Taxonomy, view: TicketView, *, ticket_id: int, coordinator: bool = True
) -> list[m.OutboxMessage]:
    """Post a ticket to its OPD's chats and (unless `coordinator` is False) the koordinator's, once per chat."""
    rows: list[m.OutboxMessage] = []
    seen: set[tuple[str, str]] = set()
    targets = [(g, True) for g in admin_chats(session, view.opd_id)]
    if coordinator:
        targets += [(g, False) for g in coordinator_chats(session, taxonomy)]
    for chat, handling in targets:
        key = (chat.channel, chat.chat_id)
        if key in seen:
            continue
        seen.add(key)
        full = handling or may_see_content(chat.opd_id, view)
        post = in_topic(chat, ticket_post(taxonomy, view, full=full), view.code, view.category_label, ticket_id)
        rows.append(queue(session, chat.channel, chat.chat_id, post, ticket_id=ticket_id))
        if full:  # the photos follow the post, as files (kept by the gateway at intake)
            for number, ref in enumerate((r for r in view.photos if r.startswith(MEDIA_PREFIX)), start=1):
                caption = render("admin_photo_caption", code=view.code, number=number)
                payload = in_topic(
                    chat, {"image_ref": ref, "caption": caption}, view.code, view.category_label, ticket_id
                )
                rows.append(queue(session, chat.channel, chat.chat_id, payload, ticket_id=ticket_id))
    return rows


def failed_digest(session: Session, taxonomy: Taxonomy, *, since: datetime, now: datetime | None = None) -> int:
    """One line to the koordinator's chats about deliveries given up on since `since` (0: nothing queued).

    Meant to run once a day (`aduan outbox digest`, from cron or the SLA tick).
    """
    out_failed = session.scalar(
        select(func.count()).where(m.OutboxMessage.status == "failed", m.OutboxMessage.created_at >= since)
    )
    in_failed = session.scalar(
        select(func.count()).where(m.InboundMessage.status == "failed", m.InboundMessage.received_at >= since)
    )
    if not out_failed and not in_failed:
        return 0
    hours = round(((now or datetime.now(since.tzinfo)) - since).total_seconds() / 3600)
    text = render("admin_failed_digest", hours=hours, outgoing=out_failed, incoming=in_failed)
    return len(to_coordinator(session, taxonomy, {"text": text}))
