"""Complaint intake: start the form, validate each answer, confirm, file the ticket, cancel."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    FORM_SLOTS,
    PRIVACY_LABELS,
    category_label,
    complaint_ranking,
    confident_category,
    emergency_numbers,
    is_fallback,
    latest_free_text,
    latest_intent,
    location_kind,
    sender,
    taxonomy,
    ticket_service,
)
from actions.store import StoreAction
from bot.domain.categories import FALLBACK_ID
from bot.masking import mask_text
from bot.tickets import NewTicket

logger = logging.getLogger(__name__)

MAX_OPTIONS = 3
MIN_COMPLAINT_CHARS = 8
MIN_LOCATION_CHARS = 4
SHARED_LOCATION = "(titik lokasi dibagikan)"
EDITABLE_FIELDS = {"complaint_text", "category", "location", "photo", "privacy"}


def classify(tracker: Tracker) -> dict[str, Any]:
    """Category slots from the latest message: set when confident, else options to choose from."""
    _, confidence = latest_intent(tracker)
    options = [cid for cid, _ in complaint_ranking(tracker)[:MAX_OPTIONS]]
    category = confident_category(tracker, clicked_counts=True)
    return {"category": category, "category_confidence": confidence, "category_options": options}


def is_descriptive(text: str) -> bool:
    """Enough words for an officer to act on; shorter openers ('tolong') get the question instead."""
    return len(text.strip()) >= MIN_COMPLAINT_CHARS and len(text.split()) >= 2


def location_from_entities(tracker: Tracker) -> str | None:
    """What the message says about where: streets, gang, landmarks, numbers, RT/RW, kelurahan, kecamatan."""
    parts: list[str] = []
    for entity, prefix in (("place", ""), ("rt_rw", ""), ("kelurahan", "Kel. "), ("kecamatan", "Kec. ")):
        for value in tracker.get_latest_entity_values(entity):
            text = prefix + str(value)
            if not any(text.lower() in p.lower() for p in parts):
                parts.append(text)
            if entity != "place":
                break
    return ", ".join(parts) if parts else None


HARDSHIP = {"bansos", "kesehatan", "adminduk", "air_bersih", "pendidikan"}
"""Problems that weigh on a household get a line of understanding; the rest an apology for the trouble."""


class ActionStartComplaint(Action):
    """Fresh form state, pre-filled with whatever the first message already says."""

    def name(self) -> str:
        return "action_start_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # Clear only what a previous complaint left behind: None-valued SlotSets would be re-validated.
        events: dict[str, Any] = {slot: None for slot in FORM_SLOTS if tracker.get_slot(slot) is not None}
        fresh: dict[str, Any] = {}
        intent, _ = latest_intent(tracker)
        text = latest_free_text(tracker)
        is_complaint = taxonomy().category_for_intent(intent) is not None
        if is_complaint and text and list(tracker.get_latest_entity_values("danger")):
            # Danger to people or property: the numbers at once, then only the location.
            dispatcher.utter_message(response="utter_emergency", **emergency_numbers())
            fresh.update(classify(tracker))
            fresh.update(
                complaint_text=text,
                category=fresh.get("category") or "bencana",
                location=location_from_entities(tracker),
                photo="tidak",
                privacy="biasa",
                confirmed="ya",
                urgent=True,
            )
        elif is_complaint and is_descriptive(text):
            fresh["complaint_text"] = text
            fresh.update(classify(tracker))
            fresh["location_guess"] = location_from_entities(tracker)  # confirmed, never asked again
            category = fresh.get("category")
            if category:
                hardship = category in HARDSHIP
                dispatcher.utter_message(response="utter_empathy_hardship" if hardship else "utter_empathy_frustration")
        elif intent == "give_location":
            fresh["location"] = text
        events.update({slot: value for slot, value in fresh.items() if value is not None})
        return [SlotSet(slot, value) for slot, value in events.items()]


FIELD_WORDS = {
    "location": ("lokasi", "alamat", "tempat"),
    "category": ("kategori", "jenis"),
    "photo": ("foto", "gambar", "poto"),
    "privacy": ("identitas", "anonim", "rahasia", "nama"),
    "complaint_text": ("keluhan", "isi", "cerita", "deskripsi", "laporan"),
}
CHANGE_WORDS = ("ubah", "ganti", "salah", "edit", "koreksi", "revisi", "tidak", "bukan", "belum", "ora", "mboten")
CONFIRM_WORDS = (
    "ya",
    "iya",
    "kirim",
    "betul",
    "benar",
    "ok",
    "oke",
    "sip",
    "lanjut",
    "setuju",
    "nggih",
    "leres",
    "sudah",
    "udah",
    "udh",
    "sdh",
    "bener",
    "cocok",
    "pas",
)
# "gak ada yg salah", "tidak ada yang perlu diubah", "gak ada, kirim aja": nothing to change means send.
NOTHING_TO_CHANGE = re.compile(
    r"\b(?:gak|ga|gk|nggak|ngga|enggak|tidak|tdk|ndak)\s+ada\b(?:\s+(?:yg|yang))?(?:\s+(?:salah|keliru|diubah|perlu))?"
    r"|\bgada\b",
    re.IGNORECASE,
)


def read_confirmation(value: str) -> str | None:
    """The summary's answer from a button value or typed text: 'ya', 'ubah', a field name, or None."""
    text = value.strip().lower()
    if text in ("ya", "ubah", "kembali") or text in EDITABLE_FIELDS:
        return text
    words = {w.removesuffix("nya") for w in text.replace(",", " ").replace(".", " ").split()}
    for field, keys in FIELD_WORDS.items():
        if words & set(keys):
            return field
    if words & {"kembali", "balik"} or "gak jadi" in text or "tidak jadi" in text:
        return "kembali"
    if NOTHING_TO_CHANGE.search(text):
        return "ya"
    if words & set(CHANGE_WORDS):
        return "ubah"
    if words & set(CONFIRM_WORDS):
        return "ya"
    return None


PRIVACY_NUMBERS = {"1": "biasa", "2": "anonim", "3": "rahasia"}
PRIVACY_QUESTION = re.compile(r"\?|\b(?:beda|bedanya|apa itu|apa sih|maksud|maksudnya|artinya|gimana|bagaimana)\b")


def is_new_complaint(tracker: Tracker, typed: str) -> bool:
    """A typed message at the summary that is itself a complaint (not a correction of this one)."""
    if typed.startswith("/") or not is_descriptive(typed) or len(typed.split()) < 4:
        return False
    if read_confirmation(typed) in EDITABLE_FIELDS:
        return False
    return confident_category(tracker) is not None


def skip_none(validate: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """A slot being cleared (None) needs no validation and no message to the citizen."""

    @functools.wraps(validate)
    def wrapper(self: Any, value: Any, *args: Any) -> dict[str, Any]:
        return {} if value is None else validate(self, value, *args)

    return wrapper


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> str:
        return "validate_complaint_form"

    @skip_none
    def validate_complaint_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not is_descriptive(text):
            dispatcher.utter_message(response="utter_complaint_too_short")
            return {"complaint_text": None}
        result: dict[str, Any] = {"complaint_text": text}
        if tracker.get_slot("requested_slot") == "complaint_text" or not tracker.get_slot("category"):
            result.update(classify(tracker))
            if not tracker.get_slot("location") and not tracker.get_slot("location_guess"):
                result["location_guess"] = location_from_entities(tracker)
        return result

    async def extract_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "Lokasinya di …, betul?": yes takes the guess, no asks for the location."""
        guess = tracker.get_slot("location_guess")
        if tracker.get_slot("requested_slot") != "location" or not guess:
            return {}
        intent, _ = latest_intent(tracker)
        if intent == "affirm":
            return {"location": guess, "location_guess": None}
        if intent == "deny":
            return {"location_guess": None}
        return {}

    async def extract_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Typed answers to the category question ('bansos', 'lainnya', '2')."""
        if tracker.get_slot("requested_slot") != "category":
            return {}
        if next(tracker.get_latest_entity_values("category"), None):
            return {}  # a button click: the from_entity mapping already has it
        text = (tracker.latest_message.get("text") or "").strip().lower()
        options = list(tracker.get_slot("category_options") or []) + [FALLBACK_ID]
        if text.isdigit() and 1 <= int(text) <= len(options):
            return {"category": options[int(text) - 1]}
        for cid, category in taxonomy().categories.items():
            if text in (cid, cid.replace("_", " "), category.label.lower()):
                return {"category": cid}
        if text in ("lainnya", "lain", "lain-lain", "tidak tahu", "gak tau", "nggak tahu"):
            return {"category": FALLBACK_ID}
        category = confident_category(tracker)
        return {"category": category} if category else {}

    @skip_none
    def validate_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value == FALLBACK_ID or value in taxonomy().categories:
            return {"category": value}
        dispatcher.utter_message(response="utter_category_unclear")
        return {"category": None}

    @skip_none
    def validate_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        latitude, longitude = tracker.get_slot("latitude"), tracker.get_slot("longitude")
        if value == SHARED_LOCATION:
            if latitude is None or longitude is None:
                dispatcher.utter_message(response="utter_location_too_short")
                return {"location": None}
            return {"location": f"Titik lokasi {float(latitude):.5f}, {float(longitude):.5f}"}
        text = str(value or "").strip()
        if len(text) < MIN_LOCATION_CHARS:
            dispatcher.utter_message(response="utter_location_too_short")
            return {"location": None}
        return {"location": text}

    @skip_none
    def validate_photo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        refs = list(tracker.get_slot("photo_refs") or [])
        if value == "ada":
            new_refs = [r for r in tracker.get_latest_entity_values("photo_ref") if r not in refs]
            if new_refs:
                dispatcher.utter_message(response="utter_photo_received")
                return {"photo": "ada", "photo_refs": refs + new_refs}
        if refs:
            return {"photo": "ada", "photo_refs": refs}
        if not tracker.get_slot("urgent"):  # an emergency is never asked for a photo
            dispatcher.utter_message(response="utter_photo_skipped")
        return {"photo": "tidak", "photo_refs": []}

    @skip_none
    def validate_privacy(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip().lower()
        if PRIVACY_QUESTION.search(text):  # "apa bedanya anonim sama rahasia?" is a question, not a choice
            dispatcher.utter_message(response="utter_privacy_explain")
            return {"privacy": None}
        if text in PRIVACY_NUMBERS:
            return {"privacy": PRIVACY_NUMBERS[text]}
        for key, words in (
            ("anonim", ("anonim", "anonym", "sembunyi", "samarkan")),
            ("rahasia", ("rahasia", "konfidensial", "privat")),
            ("biasa", ("biasa", "publik", "umum", "tidak", "gak", "nggak", "boleh", "tampil")),
        ):
            if any(w in text for w in words):
                return {"privacy": key}
        dispatcher.utter_message(response="utter_privacy_unclear")
        return {"privacy": None}

    @skip_none
    def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("urgent") and value == "ya" and tracker.get_slot("requested_slot") != "confirmed":
            return {"confirmed": "ya"}  # an emergency is filed as soon as the location is known
        typed = tracker.latest_message.get("text") or ""
        if is_new_complaint(tracker, typed):
            # "oh iya satu lg, lampu jalan di gg kenanga jg mati": kept as the next report, never lost.
            dispatcher.utter_message(response="utter_next_complaint_noted")
            return {
                "confirmed": None,
                "next_complaint": typed,
                "next_category": confident_category(tracker),
                "editing": bool(tracker.get_slot("editing")),
            }
        answers = [read_confirmation(typed) if not typed.startswith("/") else None, read_confirmation(str(value))]
        # "lokasinya salah" is classified as deny: the field named in the words wins over the intent.
        answer = next((a for a in answers if a in EDITABLE_FIELDS), None) or next((a for a in answers if a), None)
        if answer == "ya":
            return {"confirmed": "ya", "editing": False}
        if answer in EDITABLE_FIELDS:
            reset: dict[str, Any] = {answer: None, "confirmed": None, "editing": False}
            if answer == "photo":
                reset["photo_refs"] = []
            if answer == "location":
                reset.update(latitude=None, longitude=None)
            return reset
        if answer == "ubah":
            return {"confirmed": None, "editing": True}
        if answer == "kembali":  # back from the edit menu to the summary
            return {"confirmed": None, "editing": False}
        editing = bool(tracker.get_slot("editing"))
        dispatcher.utter_message(response="utter_choose_field_unclear" if editing else "utter_confirm_unclear")
        return {"confirmed": None, "editing": editing}


class ActionAskCategory(Action):
    """Buttons with the top guesses and 'Lainnya' when the model is not sure."""

    def name(self) -> str:
        return "action_ask_category"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        options = list(tracker.get_slot("category_options") or []) or list(taxonomy().categories)
        buttons = [
            {"title": category_label(cid), "payload": f'/choose_category{{"category":"{cid}"}}'} for cid in options
        ]
        buttons.append({"title": "Lainnya / tidak yakin", "payload": f'/choose_category{{"category":"{FALLBACK_ID}"}}'})
        dispatcher.utter_message(response="utter_ask_category", buttons=buttons)
        return []


def times_asked(tracker: Tracker, slot: str) -> int:
    """How many times in a row the form has already asked for `slot` (its trailing requested_slot events)."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            if event.get("value") != slot:
                break
            count += 1
    return count


class ActionAskLocation(Action):
    """Confirm a location the citizen already gave; otherwise ask in words that fit the category.

    Never the same question a third time: after two answers that did not work, an example and a way out.
    """

    def name(self) -> str:
        return "action_ask_location"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        guess = tracker.get_slot("location_guess")
        if times_asked(tracker, "location") >= 2:
            dispatcher.utter_message(response="utter_ask_location_example")
        elif guess:
            dispatcher.utter_message(response="utter_confirm_location", guess=mask_text(guess))
        elif tracker.get_slot("urgent"):
            dispatcher.utter_message(response="utter_ask_location_urgent")
        elif location_kind(tracker.get_slot("category")) == "layanan":
            dispatcher.utter_message(response="utter_ask_location_service")
        else:
            dispatcher.utter_message(response="utter_ask_location")
        return []


class ActionAskConfirmed(Action):
    """The summary to confirm, or the field chooser while the citizen is correcting something."""

    def name(self) -> str:
        return "action_ask_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("editing"):
            dispatcher.utter_message(response="utter_choose_field")
            return []
        category_id = tracker.get_slot("category")
        photos = tracker.get_slot("photo_refs") or []
        complaint = mask_text(tracker.get_slot("complaint_text") or "")
        dispatcher.utter_message(
            response="utter_summary",
            complaint=complaint if len(complaint) <= 400 else complaint[:397] + "...",
            category_label=category_label(category_id),
            opd=taxonomy().opd_for(category_id).name,
            location=mask_text(tracker.get_slot("location") or "-"),
            photo=f"{len(photos)} foto" if photos else "tidak ada",
            privacy=PRIVACY_LABELS.get(tracker.get_slot("privacy") or "biasa", "Biasa"),
        )
        return []


class ActionSubmitComplaint(StoreAction):
    """Write the ticket once (idempotent per confirming message) and tell the citizen where it went."""

    def name(self) -> str:
        return "action_submit_complaint"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        channel, user_id = sender(tracker)
        privacy = tracker.get_slot("privacy") or "biasa"
        category_id = tracker.get_slot("category")
        message_id = tracker.latest_message.get("message_id") or ""
        new = NewTicket(
            channel=channel,
            user_id=user_id,
            chat_id=user_id,
            description=tracker.get_slot("complaint_text") or "",
            category_id=None if is_fallback(category_id) else category_id,
            location_text=tracker.get_slot("location"),
            latitude=tracker.get_slot("latitude"),
            longitude=tracker.get_slot("longitude"),
            anonymous=privacy == "anonim",
            confidential=privacy == "rahasia",
            nlu_confidence=tracker.get_slot("category_confidence"),
            photos=tuple(tracker.get_slot("photo_refs") or ()),
            idempotency_key=f"{tracker.sender_id}:{message_id}" if message_id else None,
            urgent=bool(tracker.get_slot("urgent")),
        )
        try:
            ticket = ticket_service().create_ticket(new)
        except Exception:
            logger.exception("ticket could not be written for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_ticket_failed")
            return [SlotSet("confirmed", None), FollowupAction("complaint_form")]
        response = "utter_ticket_created_coordinator" if is_fallback(category_id) else "utter_ticket_created"
        if new.urgent:
            response = "utter_ticket_created_urgent"
        dispatcher.utter_message(
            response=response,
            code=ticket.code,
            category_label=ticket.category_label,
            opd=ticket.opd_name,
            due=ticket.due_text,
        )
        events: list[EventType] = [SlotSet(slot, None) for slot in FORM_SLOTS] + [SlotSet("ticket_code", ticket.code)]
        following = tracker.get_slot("next_complaint")
        if following:  # the complaint the citizen added at the summary becomes the next report
            dispatcher.utter_message(response="utter_next_complaint_start", complaint=mask_text(following))
            events += [
                SlotSet("next_complaint", None),
                SlotSet("next_category", None),
                SlotSet("complaint_text", following),
                SlotSet("category", tracker.get_slot("next_category")),
                FollowupAction("complaint_form"),
            ]
        return events


class ActionCancelComplaint(Action):
    def name(self) -> str:
        return "action_cancel_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + [SlotSet(slot, None) for slot in FORM_SLOTS]
