"""Typed answers work as well as buttons (issue 8): summary, edit menu, privacy, rating codes."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.complaint as complaint
import actions.tickets as tickets
from bot.tickets import NewTicket, TicketService
from tests.actions.test_actions import DOMAIN, tracker


@pytest.fixture(autouse=True)
def store(sqlite_service: TicketService, monkeypatch: pytest.MonkeyPatch) -> TicketService:
    for module in (complaint, tickets):
        monkeypatch.setattr(module, "ticket_service", lambda: sqlite_service)
    return sqlite_service


@pytest.mark.parametrize(
    ("typed", "intent", "value", "expected"),
    [
        ("udah bener kok, gak ada yg salah", "deny", "ubah", {"confirmed": "ya", "editing": False}),
        ("gak ada, kirim aja", "deny", "ubah", {"confirmed": "ya", "editing": False}),
        ("kategorinya ganti", "change_field", "kategorinya ganti", {"category": None}),
        ("ubah kategori", "change_field", "ubah kategori", {"category": None}),
        ("isi keluhannya mau diubah", "change_field", "isi keluhannya mau diubah", {"complaint_text": None}),
        ("kembali", "deny", "ubah", {"confirmed": None, "editing": False}),
    ],
)
def test_typed_summary_answers(typed: str, intent: str, value: str, expected: dict) -> None:
    form = complaint.ValidateComplaintForm()
    t = tracker(text=typed, intent=intent, slots={"requested_slot": "confirmed", "editing": True})
    result = form.validate_confirmed(value, CollectingDispatcher(), t, DOMAIN)
    assert {k: result[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("typed", "privacy"), [("3", "rahasia"), ("1", "biasa"), ("2", "anonim"), ("anonim aja", "anonim")]
)
def test_privacy_numbers_and_words(typed: str, privacy: str) -> None:
    form = complaint.ValidateComplaintForm()
    assert form.validate_privacy(typed, CollectingDispatcher(), tracker(text=typed), DOMAIN) == {"privacy": privacy}


def test_privacy_question_is_answered_not_taken_as_a_choice() -> None:
    d = CollectingDispatcher()
    form = complaint.ValidateComplaintForm()
    typed = "apa bedanya anonim sama rahasia?"
    assert form.validate_privacy(typed, d, tracker(text=typed), DOMAIN) == {"privacy": None}
    assert d.messages[-1]["response"] == "utter_privacy_explain"


async def test_rating_with_a_lowercase_code_keeps_the_given_stars(store: TicketService) -> None:
    t = store.create_ticket(
        NewTicket(channel="line", user_id="U9", chat_id="U9", description="air keruh", category_id="air_bersih")
    )
    store.change_status(t.code, "diproses", actor="admin")
    store.change_status(t.code, "selesai", actor="admin")
    text = f"nilai {t.code.lower()} 5"
    d = CollectingDispatcher()
    await tickets.ActionRateTicket().run(d, tracker(sender="line:U9", text=text, intent="give_rating"), DOMAIN)
    assert store.get(t.code).rating == 5
