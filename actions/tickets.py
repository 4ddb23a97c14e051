"""A citizen's own tickets: status by code, the list, and the rating that closes a ticket."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import sender, ticket_service
from bot.domain.codes import find_codes
from bot.domain.lifecycle import Status
from bot.masking import mask_text
from bot.tickets import TicketView
from nlu.patterns import CODE_RE

RECENT = 5
_RATING_RE = re.compile(r"(?<!\d)([1-5])(?!\d)")


def status_kwargs(ticket: TicketView) -> dict[str, Any]:
    notes = [e.note for e in ticket.events if e.note and not e.actor.startswith(("warga:", "sistem:"))]
    return {
        "code": ticket.code,
        "category_label": ticket.category_label,
        "status_label": ticket.status_label,
        "opd": ticket.opd_name,
        "due": ticket.due_text,
        "last_note": f"\nCatatan terakhir: {mask_text(notes[-1])}" if notes else "",
    }


class ActionCheckStatus(Action):
    """Status of a code the citizen names; only their own tickets are ever shown."""

    def name(self) -> str:
        return "action_check_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        channel, user_id = sender(tracker)
        text = tracker.latest_message.get("text") or ""
        codes = list(tracker.get_latest_entity_values("ticket_code")) or find_codes(text)
        service = ticket_service()
        if not codes:
            recent = service.for_citizen(channel, user_id, limit=RECENT)
            if not recent:
                dispatcher.utter_message(response="utter_ask_ticket_code")
                return []
            for ticket in recent[:3]:
                dispatcher.utter_message(response="utter_status", **status_kwargs(ticket))
            return []
        for code in dict.fromkeys(codes):
            found = service.for_citizen(channel, user_id, code=code)
            if found:
                dispatcher.utter_message(response="utter_status", **status_kwargs(found[0]))
            else:
                dispatcher.utter_message(response="utter_status_not_found", code=code)
        return [SlotSet("ticket_code", codes[-1])]


class ActionMyTickets(Action):
    def name(self) -> str:
        return "action_my_tickets"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        channel, user_id = sender(tracker)
        tickets = ticket_service().for_citizen(channel, user_id, limit=RECENT)
        if not tickets:
            dispatcher.utter_message(response="utter_no_tickets")
            return []
        lines = [f"• {t.code} — {t.category_label}: {t.status_label} (target {t.due_text})" for t in tickets]
        dispatcher.utter_message(response="utter_my_tickets_header")
        dispatcher.utter_message(text="\n".join(lines))
        return []


class ActionRateTicket(Action):
    """A 1–5 rating closes the citizen's most recent `selesai` ticket (or the one named)."""

    def name(self) -> str:
        return "action_rate_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        channel, user_id = sender(tracker)
        text = tracker.latest_message.get("text") or ""
        service = ticket_service()
        codes = find_codes(text)
        candidates = (
            service.for_citizen(channel, user_id, code=codes[0]) if codes else service.for_citizen(channel, user_id)
        )
        resolved = [t for t in candidates if t.status == Status.SELESAI]
        if not resolved:
            dispatcher.utter_message(response="utter_nothing_to_rate")
            return []
        ticket = resolved[0]
        stars = text.count("⭐")
        match = _RATING_RE.search(CODE_RE.sub(" ", text))  # any spelling of a code ("adu-k7x3m9p") is not a rating
        rating = int(match.group(1)) if match else stars if 1 <= stars <= 5 else None
        if rating is None:
            dispatcher.utter_message(response="utter_ask_rating", code=ticket.code)
            return []
        service.rate(ticket.code, channel, user_id, rating)
        dispatcher.utter_message(response="utter_rating_thanks", rating=rating, code=ticket.code)
        return []
