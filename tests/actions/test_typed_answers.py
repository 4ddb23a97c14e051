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


async def test_second_complaint_at_the_summary_becomes_the_next_report(store: TicketService) -> None:
    typed = "oh iya satu lg, lampu jalan di gg kenanga jg mati min"
    form = complaint.ValidateComplaintForm()
    d = CollectingDispatcher()
    t = tracker(
        text=typed,
        intent="complaint_penerangan_jalan",
        confidence=0.9,
        slots={"requested_slot": "confirmed"},
    )
    result = form.validate_confirmed(typed, d, t, DOMAIN)
    assert result["confirmed"] is None and result["next_complaint"] == typed
    assert result["next_category"] == "penerangan_jalan"
    assert d.messages[-1]["response"] == "utter_next_complaint_noted"

    slots = {
        "complaint_text": "sampah di TPS tidak diangkut seminggu",
        "category": "lingkungan",
        "location": "TPS pasar legi",
        "privacy": "biasa",
        "next_complaint": typed,
        "next_category": "penerangan_jalan",
    }
    done = CollectingDispatcher()
    events = await complaint.ActionSubmitComplaint().run(
        done, tracker(sender="web:two", slots=slots, intent="affirm"), DOMAIN
    )
    assert [m["response"] for m in done.messages] == ["utter_ticket_created", "utter_next_complaint_start"]
    assert len(store.for_citizen("web", "two")) == 1
    follow = [e for e in events if e.get("event") == "followup"]
    assert follow and follow[0]["name"] == "complaint_form"
    sets = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert sets["complaint_text"] == typed and sets["category"] == "penerangan_jalan"


async def test_angry_emoji_gets_no_odd_guesses() -> None:
    import actions.conversation as conversation

    d = CollectingDispatcher()
    t = tracker(
        text="😡😡😡", intent="nlu_fallback", ranking=[("nlu_fallback", 0.5), ("give_rating", 0.3), ("greet", 0.2)]
    )
    await conversation.ActionDefaultAskAffirmation().run(d, t, DOMAIN)
    assert d.messages[0]["response"] == "utter_feeling_no_words"
    assert [b["payload"] for b in d.messages[0]["buttons"]] == ["/start_report", "/ask_human"]


@pytest.mark.parametrize(("text", "response"), [("assalamualaikum min", "utter_greet_salam"), ("halo", "utter_greet")])
async def test_salam_is_answered_with_waalaikumsalam(text: str, response: str) -> None:
    import actions.conversation as conversation

    d = CollectingDispatcher()
    await conversation.ActionGreet().run(d, tracker(text=text, intent="greet"), DOMAIN)
    assert d.messages[0]["response"] == response


async def test_privacy_question_classified_as_a_question_is_still_answered() -> None:
    from rasa_sdk import Tracker

    import actions.questions as questions

    t = tracker(text="apa bedanya anonim sama rahasia?", intent="ask_info", slots={"requested_slot": "privacy"})
    state = t.current_state()
    state["active_loop"] = {"name": "complaint_form"}
    d = CollectingDispatcher()
    await questions.ActionAnswerQuestion().run(d, Tracker.from_dict(state), DOMAIN)
    assert d.messages[-1]["response"] == "utter_privacy_explain"
