"""Requests for information: answered from the city's FAQ, or forwarded to the OPD as a ticket.

Like SP4N-LAPOR!, a question is not a complaint: it never starts the complaint form. When the FAQ
(nlu/faq_selector.py over data/nlu/faq.yml) has no confident answer, the citizen is offered to send
the question to the OPD that the question is about, as a ticket of kind `informasi` with the same
routing and deadlines as a complaint.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import complaint_ranking, is_fallback, latest_intent, sender, taxonomy, ticket_service
from actions.store import StoreAction
from bot.tickets import NewTicket

logger = logging.getLogger(__name__)

FAQ_RESPONSES = "utter_faq"
"""Answers are `utter_faq/<topic>` in data/nlu/faq.yml."""
FAQ_CONFIDENCE = 0.5
"""Below this the FAQ answer is not given: a wrong answer is worse than forwarding the question."""


def faq_answer(tracker: Tracker) -> str | None:
    """The FAQ response name (`utter_faq/<topic>`) when the model is sure enough, else None."""
    intent, _ = latest_intent(tracker)
    if intent != "faq":
        return None
    selector: dict[str, Any] = (tracker.latest_message.get("response_selector") or {}).get("faq") or {}
    response = selector.get("response") or {}
    name = str(response.get("utter_action") or "")
    confident = float(response.get("confidence") or 0.0) >= FAQ_CONFIDENCE
    return name if name.startswith(FAQ_RESPONSES + "/") and confident else None


def question_category(tracker: Tracker) -> str | None:
    """The category the question is about: the best complaint intent in the ranking, if any."""
    ranking = complaint_ranking(tracker)
    return ranking[0][0] if ranking else None


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        answer = faq_answer(tracker)
        if answer:
            dispatcher.utter_message(response=answer)
            return [SlotSet("question", None), SlotSet("question_category", None)]
        if (tracker.active_loop or {}).get("name"):  # in the middle of a complaint: finish it first
            text = (tracker.latest_message.get("text") or "").lower()
            about_privacy = tracker.get_slot("requested_slot") == "privacy" or any(
                w in text for w in ("anonim", "rahasia", "identitas")
            )
            # "apa bedanya anonim sama rahasia?" is a question about the choice on screen: answer it.
            dispatcher.utter_message(response="utter_privacy_explain" if about_privacy else "utter_question_after_form")
            return []
        category = question_category(tracker)
        dispatcher.utter_message(response="utter_offer_forward", opd=taxonomy().opd_for(category).name)
        return [SlotSet("question", tracker.latest_message.get("text")), SlotSet("question_category", category)]


class ActionForwardQuestion(StoreAction):
    """The citizen's answer to the offer: write the `informasi` ticket, or leave it."""

    def name(self) -> str:
        return "action_forward_question"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        question = tracker.get_slot("question")
        clear: list[EventType] = [SlotSet("question", None), SlotSet("question_category", None)]
        intent, _ = latest_intent(tracker)
        if not question:
            dispatcher.utter_message(response="utter_anything_else")
            return clear
        if intent != "affirm":
            dispatcher.utter_message(response="utter_forward_declined")
            return clear
        channel, user_id = sender(tracker)
        category = tracker.get_slot("question_category")
        message_id = tracker.latest_message.get("message_id") or ""
        try:
            ticket = ticket_service().create_ticket(
                NewTicket(
                    channel=channel,
                    user_id=user_id,
                    chat_id=user_id,
                    description=question,
                    category_id=None if is_fallback(category) else category,
                    kind="informasi",
                    idempotency_key=f"{tracker.sender_id}:{message_id}" if message_id else None,
                )
            )
        except Exception:
            logger.exception("information request could not be written for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_ticket_failed")
            return []
        dispatcher.utter_message(
            response="utter_question_forwarded", opd=ticket.opd_name, code=ticket.code, due=ticket.due_text
        )
        return [*clear, SlotSet("ticket_code", ticket.code)]
