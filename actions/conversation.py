"""Hand-off to a human and the clarifying question of the two-stage fallback."""

from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import sender, taxonomy, ticket_service
from actions.store import StoreAction
from bot.relay.conversation import request_person
from bot.texts import render

# What a fallback button says for each non-complaint intent.
INTENT_LABELS = {
    "greet": "Menyapa",
    "help": "Melihat menu bantuan",
    "start_report": "Membuat laporan baru",
    "check_status": "Menanyakan status laporan",
    "my_tickets": "Melihat laporan saya",
    "ask_human": "Bicara dengan petugas",
    "cancel": "Membatalkan",
    "give_rating": "Memberi nilai",
    "thanks": "Berterima kasih",
    "goodbye": "Berpamitan",
    "faq": "Bertanya",
    "ask_info": "Bertanya / minta informasi",
}
NOT_OFFERED = {"nlu_fallback", "out_of_scope", "chitchat", "affirm", "deny", "bot_challenge"}


class ActionHandoff(StoreAction):
    """Opens a conversation with a petugas: the OPD of the citizen's latest ticket, else the koordinator.

    From now on the gateway forwards the citizen's messages to that admin chat instead of Rasa.
    With no admin chat registered the citizen is told so honestly (no promise nobody keeps).
    """

    def name(self) -> str:
        return "action_handoff"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        channel, user_id = sender(tracker)
        text = tracker.latest_message.get("text") or ""
        service = ticket_service()
        with service.sessions() as session, session.begin():
            answer, asked = request_person(session, service.taxonomy, channel, user_id, user_id, text)
        if asked == "coordinator":
            # The domain's promise is true here: the koordinator answers in this chat.
            dispatcher.utter_message(response="utter_handoff")
            dispatcher.utter_message(text=render("relay_how_to_return"))
        else:
            dispatcher.utter_message(text=answer)
        return []


SALAM = re.compile(r"\b(?:as+alam+u?\W*alaikum|ass?alamu|asw|assalam|salamualaikum|salam)\b", re.IGNORECASE)
HAS_WORDS = re.compile(r"[^\W\d_]{2,}")


class ActionGreet(Action):
    """One greeting; a salam is answered with "Wa'alaikumsalam"."""

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        dispatcher.utter_message(response="utter_greet_salam" if SALAM.search(text) else "utter_greet")
        return []


class ActionDefaultAskAffirmation(Action):
    """'Apakah maksud Anda …?' with the two best guesses in words, not intent names."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        if text and not text.startswith("/") and not HAS_WORDS.search(text):
            # "😡😡😡" has no words to guess from: acknowledge the feeling, offer the two real ways on.
            dispatcher.utter_message(
                response="utter_feeling_no_words",
                buttons=[
                    {"title": "📝 Sampaikan keluhan", "payload": "/start_report"},
                    {"title": "🙋 Bicara dengan petugas", "payload": "/ask_human"},
                ],
            )
            return []
        buttons = []
        for item in tracker.latest_message.get("intent_ranking") or []:
            intent = item.get("name") or ""
            if intent in NOT_OFFERED:
                continue
            category = taxonomy().category_for_intent(intent)
            if category is not None:
                title = f"Melapor: {category.label}"
            elif intent in INTENT_LABELS:
                title = INTENT_LABELS[intent]
            else:
                continue
            buttons.append({"title": title, "payload": f"/{intent}"})
            if len(buttons) == 2:
                break
        buttons.append({"title": "Bukan keduanya", "payload": "/out_of_scope"})
        dispatcher.utter_message(response="utter_affirm_fallback", buttons=buttons)
        return []
