"""Helpers shared by the actions: who is talking, which ticket service, how categories read."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from rasa_sdk import Tracker

from bot.config import get_settings
from bot.domain.categories import FALLBACK_ID, Taxonomy, load_taxonomy
from bot.tickets import TicketService

# Slots the complaint form owns; cleared when a complaint starts, is cancelled or is filed.
FORM_SLOTS = (
    "complaint_text",
    "category",
    "category_confidence",
    "category_options",
    "location",
    "latitude",
    "longitude",
    "photo",
    "photo_refs",
    "privacy",
    "confirmed",
    "editing",
    "urgent",
    "location_guess",
)

CONFIRM_BELOW = 0.6
"""Below this confidence the citizen picks the category from the top guesses (never a silent guess)."""

PRIVACY_LABELS = {
    "biasa": "Biasa (nama tampil ke petugas)",
    "anonim": "Anonim (nama disembunyikan dari petugas OPD)",
    "rahasia": "Rahasia (isi hanya untuk OPD penangan)",
}


@lru_cache(maxsize=1)
def ticket_service() -> TicketService:
    """One service per action-server process (the external system wrapped in one class)."""
    return TicketService.from_url(get_settings().sqlalchemy_url)


def taxonomy() -> Taxonomy:
    return load_taxonomy()


@lru_cache(maxsize=4)
def _data_file(name: str) -> dict[str, Any]:
    with open(get_settings().data_dir / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def emergency_numbers() -> dict[str, str]:
    """The city's emergency numbers (data/city.yml), with national defaults for what it leaves out."""
    numbers = {"umum": "112", "damkar": "113", "bpbd": "112", "ambulans": "119"}
    numbers.update({k: str(v) for k, v in (_data_file("city.yml").get("emergency") or {}).items()})
    return numbers


def location_kind(category_id: str | None) -> str:
    """`layanan` when the category's location is where a service was sought (categories.yml), else `kejadian`."""
    for raw in _data_file("categories.yml").get("categories") or []:
        if raw.get("id") == category_id:
            return str(raw.get("ask_location") or "kejadian")
    return "kejadian"


def sender(tracker: Tracker) -> tuple[str, str]:
    """(channel, user_id) from a sender id `channel:user_id`; bare ids count as channel 'rest'."""
    channel, sep, user_id = tracker.sender_id.partition(":")
    return (channel, user_id) if sep else ("rest", tracker.sender_id)


def category_label(category_id: str | None) -> str:
    return taxonomy().get(category_id).label


def complaint_ranking(tracker: Tracker) -> list[tuple[str, float]]:
    """Complaint categories in the latest message's intent ranking, best first."""
    out: list[tuple[str, float]] = []
    for item in tracker.latest_message.get("intent_ranking") or []:
        category = taxonomy().category_for_intent(item.get("name"))
        if category is not None:
            out.append((category.id, float(item.get("confidence") or 0.0)))
    return out


def confident_category(tracker: Tracker, *, clicked_counts: bool = False) -> str | None:
    """The latest message's category when the model is sure enough (or the citizen clicked it)."""
    intent, confidence = latest_intent(tracker)
    category = taxonomy().category_for_intent(intent)
    clicked = clicked_counts and (tracker.latest_message.get("text") or "").startswith("/")
    return category.id if category is not None and (clicked or confidence >= CONFIRM_BELOW) else None


def latest_intent(tracker: Tracker) -> tuple[str, float]:
    intent: dict[str, Any] = tracker.latest_message.get("intent") or {}
    return intent.get("name") or "", float(intent.get("confidence") or 0.0)


def latest_free_text(tracker: Tracker) -> str:
    """The citizen's last typed message, skipping button payloads ('/intent{...}').

    After a fallback clarification the latest message is the button; the complaint is the text before it.
    """
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            text = (event.get("text") or "").strip()
            if text and not text.startswith("/"):
                return text
    return ""


def is_fallback(category_id: str | None) -> bool:
    return not category_id or category_id == FALLBACK_ID
