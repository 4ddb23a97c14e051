"""A citizen's own tickets: status (with or without the code), the list, rating and reopening."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import sender, ticket_service
from actions.store import StoreAction
from bot.domain.codes import find_codes
from bot.domain.lifecycle import Status, TransitionError
from bot.masking import mask_text
from bot.texts import render
from bot.throttle import Throttle
from bot.tickets import TicketNotFound, TicketService, TicketView
from nlu.patterns import CODE_RE

RECENT = 5
LOW_RATING = 2
ASK_REOPEN_REASON = "utter_ask_reopen_reason"
"""Asked by Rasa's reopen_form itself (domain.yml); named here so the unused-response check sees it."""
OPEN = (Status.BARU, Status.DIDISPOSISIKAN, Status.DIPROSES)
PUBLIC_LOOKUPS = Throttle(limit=10, window_seconds=600)
"""Status look-ups of other people's codes per sender: slows down anyone guessing codes."""
_RATING_RE = re.compile(r"(?<!\d)([1-5])(?!\d)")


def status_kwargs(ticket: TicketView) -> dict[str, Any]:
    notes = [
        e.note for e in ticket.events if e.note and not e.internal and not e.actor.startswith(("warga:", "sistem:"))
    ]
    return {
        "code": ticket.code,
        "category_label": ticket.category_label,
        "status_label": ticket.status_label,
        "opd": ticket.opd_name,
        "due": ticket.due_text,
        "last_note": f"\nCatatan terakhir: {mask_text(notes[-1])}" if notes else "",
    }


class ActionCheckStatus(StoreAction):
    """Status of a code the citizen names; only their own tickets are ever shown.

    Without a code ("ada kabar?", "gimana laporan saya") the latest open ticket is shown, with
    its last admin note and due date; when none is open, the latest ticket.
    """

    def name(self) -> str:
        return "action_check_status"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        channel, user_id = sender(tracker)
        text = tracker.latest_message.get("text") or ""
        codes = list(tracker.get_latest_entity_values("ticket_code")) or find_codes(text)
        service = ticket_service()
        if not codes:
            recent = service.for_citizen(channel, user_id, limit=RECENT)
            if not recent:
                dispatcher.utter_message(response="utter_ask_ticket_code")
                return []
            open_ones = [t for t in recent if t.status in OPEN]
            latest = (open_ones or recent)[0]
            dispatcher.utter_message(response="utter_status", **status_kwargs(latest))
            return [SlotSet("ticket_code", latest.code)]
        for code in dict.fromkeys(codes):
            found = service.for_citizen(channel, user_id, code=code)
            if found:
                dispatcher.utter_message(response="utter_status", **status_kwargs(found[0]))
            elif (public := public_status_text(service, tracker.sender_id, code)) is not None:
                dispatcher.utter_message(text=public)
            else:
                dispatcher.utter_message(response="utter_status_not_found", code=code)
        return [SlotSet("ticket_code", codes[-1])]


def public_status_text(service: TicketService, sender_id: str, code: str) -> str | None:
    """The public part of a ticket filed from another chat (anyone holding the code may see it).

    Status, OPD, due date and the officers' last answer; never who filed it or what it says.
    None when there is no such ticket; a polite refusal when this sender looks up too many codes.
    """
    if not PUBLIC_LOOKUPS.allow(sender_id):
        return render("status_throttled")
    try:
        public = service.get(code).public_dict()
    except TicketNotFound:
        return None
    answers = public["answers"]
    answer_line = render("status_public_answer_line", answer=answers[-1]) if answers else ""
    return render(
        "status_public",
        code=public["code"],
        category=public["category"],
        status_label=public["status_label"],
        opd=public["opd"],
        due=public["due"],
        answer_line=answer_line,
    )


class ActionMyTickets(StoreAction):
    def name(self) -> str:
        return "action_my_tickets"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        channel, user_id = sender(tracker)
        tickets = ticket_service().for_citizen(channel, user_id, limit=RECENT)
        if not tickets:
            dispatcher.utter_message(response="utter_no_tickets")
            return []
        lines = [f"• {t.code} — {t.category_label}: {t.status_label} (target {t.due_text})" for t in tickets]
        dispatcher.utter_message(response="utter_my_tickets_header")
        dispatcher.utter_message(text="\n".join(lines))
        return []


class ActionRateTicket(StoreAction):
    """A 1–5 rating of the citizen's `selesai` ticket (the one named, else the latest).

    The rating is recorded and shown to the OPD but does not close the ticket; a rating of 1–2
    asks whether the problem is still there and offers reopening.
    """

    def name(self) -> str:
        return "action_rate_ticket"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        channel, user_id = sender(tracker)
        text = tracker.latest_message.get("text") or ""
        service = ticket_service()
        codes = list(tracker.get_latest_entity_values("ticket_code")) or find_codes(text)
        candidates = (
            service.for_citizen(channel, user_id, code=codes[0]) if codes else service.for_citizen(channel, user_id)
        )
        resolved = [t for t in candidates if t.status == Status.SELESAI]
        if not resolved:
            dispatcher.utter_message(response="utter_nothing_to_rate")
            return []
        ticket = resolved[0]
        rating = _rating(tracker, CODE_RE.sub(" ", text))  # any spelling of a code ("adu-k7x3m9p") is not a rating
        if rating is None:
            dispatcher.utter_message(response="utter_ask_rating", code=ticket.code)
            return []
        service.rate(ticket.code, channel, user_id, rating)
        if rating <= LOW_RATING:
            dispatcher.utter_message(
                response="utter_rating_low_offer_reopen",
                rating=rating,
                code=ticket.code,
                buttons=[{"title": "Belum selesai", "payload": f'/reopen_ticket{{"ticket_code":"{ticket.code}"}}'}],
            )
        else:
            dispatcher.utter_message(response="utter_rating_thanks", rating=rating, code=ticket.code)
        return [SlotSet("ticket_code", ticket.code)]


def _rating(tracker: Tracker, text: str) -> int | None:
    for value in tracker.get_latest_entity_values("rating"):
        if str(value).strip() in {"1", "2", "3", "4", "5"}:
            return int(value)
    stars = text.count("⭐")
    match = _RATING_RE.search(text)
    return int(match.group(1)) if match else stars if 1 <= stars <= 5 else None


def reopenable(service: TicketService, tracker: Tracker) -> tuple[TicketView | None, TicketView | None]:
    """(the ticket the citizen may reopen now, else the latest one whose window has passed)."""
    channel, user_id = sender(tracker)
    named = list(tracker.get_latest_entity_values("ticket_code")) or find_codes(
        tracker.latest_message.get("text") or ""
    )
    slot = tracker.get_slot("ticket_code")
    code = named[0] if named else slot
    tickets = service.for_citizen(channel, user_id, code=code) if code else []
    if not tickets or tickets[0].status not in (Status.SELESAI, Status.DITUTUP):
        tickets = service.for_citizen(channel, user_id)
    now = datetime.now(UTC)
    for t in tickets:
        until = service.reopen_until(t)
        if t.status == Status.SELESAI and until is not None and now <= until:
            return t, None
    late = next((t for t in tickets if t.status in (Status.SELESAI, Status.DITUTUP) and t.resolved_at), None)
    return None, late


class ActionCheckReopen(StoreAction):
    """Before asking for a reason: is there a finished ticket this citizen may still reopen?"""

    def name(self) -> str:
        return "action_check_reopen"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        ticket, late = reopenable(ticket_service(), tracker)
        if ticket is not None:
            return [SlotSet("ticket_code", ticket.code), SlotSet("reopen_allowed", True)]
        if late is not None:
            dispatcher.utter_message(response="utter_reopen_window_closed", code=late.code)
        else:
            dispatcher.utter_message(response="utter_nothing_to_reopen")
        return [SlotSet("reopen_allowed", False)]


class ActionReopenTicket(StoreAction):
    """The reason is in: the ticket goes back to `diproses` and the OPD chat is told."""

    def name(self) -> str:
        return "action_reopen_ticket"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        channel, user_id = sender(tracker)
        service = ticket_service()
        reason = (tracker.get_slot("reopen_reason") or "").strip()
        done = [SlotSet("reopen_reason", None), SlotSet("reopen_allowed", None)]
        ticket, late = reopenable(service, tracker)
        if ticket is None:
            if late is not None:
                dispatcher.utter_message(response="utter_reopen_window_closed", code=late.code)
            else:
                dispatcher.utter_message(response="utter_nothing_to_reopen")
            return done
        try:
            view = service.reopen(ticket.code, channel, user_id, reason or "Warga menyatakan masalah belum teratasi")
        except TransitionError:
            dispatcher.utter_message(response="utter_reopen_window_closed", code=ticket.code)
            return done
        dispatcher.utter_message(response="utter_reopened", code=view.code, opd=view.opd_name, due=view.due_text)
        return done
