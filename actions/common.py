"""Helpers shared by the actions: who is talking, which ticket service, how categories read."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker

from bot.config import get_settings
from bot.domain.categories import FALLBACK_ID, INTENT_PREFIX, Taxonomy, load_taxonomy
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
)

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
        name = item.get("name") or ""
        if name.startswith(INTENT_PREFIX) and name.removeprefix(INTENT_PREFIX) in taxonomy().categories:
            out.append((name.removeprefix(INTENT_PREFIX), float(item.get("confidence") or 0.0)))
    return out


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
