"""Custom actions with Tracker.from_dict and a CollectingDispatcher, on a real SQLite ticket store."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.complaint as complaint
import actions.conversation as conversation
import actions.tickets as tickets
from bot.tickets import NewTicket, TicketService

DOMAIN: dict[str, Any] = {}


def tracker(
    *,
    sender: str = "telegram:111",
    text: str = "",
    intent: str = "",
    confidence: float = 0.95,
    ranking: list[tuple[str, float]] | None = None,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    message_id: str = "m1",
    events: list[dict[str, Any]] | None = None,
) -> Tracker:
    ranking = ranking or [(intent, confidence)]
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "entities": entities or [],
        "message_id": message_id,
    }
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": slots or {},
            "latest_message": latest,
            "events": events if events is not None else [{"event": "user", "text": text, "parse_data": latest}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture(autouse=True)
def store(sqlite_service: TicketService, monkeypatch: pytest.MonkeyPatch) -> TicketService:
    for module in (complaint, tickets, conversation):
        monkeypatch.setattr(module, "ticket_service", lambda: sqlite_service)
    return sqlite_service


async def test_confident_complaint_prefills_text_and_category() -> None:
    d = CollectingDispatcher()
    t = tracker(
        text="jalan depan SD 3 berlubang, RT 02/RW 05",
        intent="complaint_infrastruktur",
        ranking=[("complaint_infrastruktur", 0.93), ("complaint_bencana", 0.04), ("greet", 0.01)],
        entities=[{"entity": "rt_rw", "value": "RT 02/RW 05"}],
    )
    slots = slot_events(await complaint.ActionStartComplaint().run(d, t, DOMAIN))
    assert slots["complaint_text"] == "jalan depan SD 3 berlubang, RT 02/RW 05"
    assert slots["category"] == "infrastruktur"
    assert slots["category_options"] == ["infrastruktur", "bencana"]
    assert slots["location_guess"] == "RT 02/RW 05"  # already said: confirmed, not asked again


async def test_unsure_complaint_leaves_category_to_the_citizen() -> None:
    d = CollectingDispatcher()
    t = tracker(
        text="tolong dibantu masalah di kampung",
        intent="complaint_lingkungan",
        confidence=0.41,
        ranking=[("complaint_lingkungan", 0.41), ("complaint_ketertiban", 0.3), ("complaint_bencana", 0.2)],
    )
    slots = slot_events(await complaint.ActionStartComplaint().run(d, t, DOMAIN))
    assert "category" not in slots or slots["category"] is None
    assert slots["category_options"] == ["lingkungan", "ketertiban", "bencana"]
    ask = CollectingDispatcher()
    await complaint.ActionAskCategory().run(ask, tracker(slots={"category_options": slots["category_options"]}), DOMAIN)
    titles = [b["title"] for b in ask.messages[0]["buttons"]]
    assert titles[:3] == ["Lingkungan Hidup dan Kebersihan", "Ketertiban Umum", "Bencana dan Kedaruratan"]
    assert titles[-1].startswith("Lainnya")


async def test_fallback_clarification_uses_the_original_text() -> None:
    events = [
        {"event": "user", "text": "air ga ngalir 3 hari", "parse_data": {}},
        {"event": "user", "text": "/complaint_air_bersih", "parse_data": {}},
    ]
    t = tracker(text="/complaint_air_bersih", intent="complaint_air_bersih", confidence=1.0, events=events)
    slots = slot_events(await complaint.ActionStartComplaint().run(CollectingDispatcher(), t, DOMAIN))
    assert slots["complaint_text"] == "air ga ngalir 3 hari"
    assert slots["category"] == "air_bersih"


def test_validators_answer_politely_and_keep_asking() -> None:
    form = complaint.ValidateComplaintForm()
    d = CollectingDispatcher()
    assert form.validate_location("x", d, tracker(), DOMAIN) == {"location": None}
    assert d.messages[-1]["response"] == "utter_location_too_short"
    shared = tracker(slots={"latitude": -7.5666, "longitude": 110.8166})
    assert form.validate_location("(titik lokasi dibagikan)", d, shared, DOMAIN) == {
        "location": "Titik lokasi -7.56660, 110.81660"
    }
    assert form.validate_privacy("anonim aja", d, tracker(), DOMAIN) == {"privacy": "anonim"}
    assert form.validate_privacy("hmm", d, tracker(), DOMAIN) == {"privacy": None}
    assert form.validate_complaint_text("rusak", d, tracker(), DOMAIN)["complaint_text"] is None
    assert form.validate_photo(None, d, tracker(), DOMAIN) == {}  # a slot being cleared says nothing


def test_photo_refs_accumulate() -> None:
    form = complaint.ValidateComplaintForm()
    d = CollectingDispatcher()
    t = tracker(entities=[{"entity": "photo_ref", "value": "telegram:AAA"}], slots={"photo_refs": []})
    assert form.validate_photo("ada", d, t, DOMAIN) == {"photo": "ada", "photo_refs": ["telegram:AAA"]}
    assert d.messages[-1]["response"] == "utter_photo_received"


def test_corrections_at_the_summary() -> None:
    form = complaint.ValidateComplaintForm()
    d = CollectingDispatcher()
    assert form.validate_confirmed("ubah", d, tracker(), DOMAIN) == {"confirmed": None, "editing": True}
    assert form.validate_confirmed("location", d, tracker(), DOMAIN) == {
        "location": None,
        "confirmed": None,
        "editing": False,
        "latitude": None,
        "longitude": None,
    }
    assert form.validate_confirmed("ya", d, tracker(), DOMAIN) == {"confirmed": "ya", "editing": False}
    # Typed words beat the intent: "lokasinya salah" (deny) goes straight to the location question.
    typed = tracker(text="lokasinya salah", intent="deny")
    assert form.validate_confirmed("ubah", d, typed, DOMAIN)["location"] is None
    assert form.validate_confirmed("kirim aja", d, tracker(text="kirim aja"), DOMAIN)["confirmed"] == "ya"
    chooser = tracker(text="hmm", slots={"editing": True})
    assert form.validate_confirmed("hmm", d, chooser, DOMAIN) == {"confirmed": None, "editing": True}
    assert d.messages[-1]["response"] == "utter_choose_field_unclear"


async def test_summary_masks_nik() -> None:
    d = CollectingDispatcher()
    slots = {
        "complaint_text": "KTP belum jadi, NIK 3372051234560001",
        "category": "adminduk",
        "location": "Disdukcapil",
        "privacy": "biasa",
    }
    await complaint.ActionAskConfirmed().run(d, tracker(slots=slots), DOMAIN)
    message = d.messages[0]
    assert message["response"] == "utter_summary"
    assert "3372051234560001" not in message["complaint"] and "3372********0001" in message["complaint"]
    assert message["opd"] == "Dinas Kependudukan dan Pencatatan Sipil"


async def test_submit_files_once_per_confirming_message(store: TicketService) -> None:
    slots = {
        "complaint_text": "lampu jalan mati di gang mawar",
        "category": "penerangan_jalan",
        "location": "gang mawar 3",
        "privacy": "anonim",
        "photo_refs": ["telegram:AAA"],
        "category_confidence": 0.9,
    }
    d = CollectingDispatcher()
    events = await complaint.ActionSubmitComplaint().run(d, tracker(slots=slots, message_id="confirm-1"), DOMAIN)
    code = slot_events(events)["ticket_code"]
    assert d.messages[0]["response"] == "utter_ticket_created" and d.messages[0]["code"] == code
    again = CollectingDispatcher()
    await complaint.ActionSubmitComplaint().run(again, tracker(slots=slots, message_id="confirm-1"), DOMAIN)
    assert again.messages[0]["code"] == code  # a retried call returns the same ticket
    ticket = store.get(code)
    assert ticket.anonymous and ticket.photos == ("telegram:AAA",) and ticket.opd_id == "dishub_pju"


async def test_lainnya_goes_to_the_coordinator(store: TicketService) -> None:
    slots = {"complaint_text": "ada masalah di kampung kami", "category": "lainnya", "location": "kampung sewu"}
    d = CollectingDispatcher()
    events = await complaint.ActionSubmitComplaint().run(d, tracker(slots=slots), DOMAIN)
    assert d.messages[0]["response"] == "utter_ticket_created_coordinator"
    assert store.get(slot_events(events)["ticket_code"]).opd_id == "diskominfo"


async def test_status_only_for_own_tickets(store: TicketService) -> None:
    mine = store.create_ticket(
        NewTicket(
            channel="telegram", user_id="111", chat_id="111", description="sampah numpuk", category_id="lingkungan"
        )
    )
    d = CollectingDispatcher()
    await tickets.ActionCheckStatus().run(d, tracker(text=f"status {mine.code}", intent="check_status"), DOMAIN)
    assert d.messages[0]["response"] == "utter_status" and d.messages[0]["code"] == mine.code
    other = CollectingDispatcher()
    await tickets.ActionCheckStatus().run(
        other, tracker(sender="telegram:999", text=f"status {mine.code}", intent="check_status"), DOMAIN
    )
    # another chat holding the code sees only the public part (issue 13): no description, no identity
    public = other.messages[0]["text"]
    assert mine.code in public and "Dinas Lingkungan Hidup" in public and "sampah numpuk" not in public
    unknown = CollectingDispatcher()
    await tickets.ActionCheckStatus().run(
        unknown, tracker(sender="telegram:999", text="status ADU-2345678", intent="check_status"), DOMAIN
    )
    assert unknown.messages[0]["response"] == "utter_status_not_found"


async def test_rating_is_recorded_without_closing(store: TicketService) -> None:
    t = store.create_ticket(
        NewTicket(channel="line", user_id="U1", chat_id="U1", description="air keruh", category_id="air_bersih")
    )
    store.change_status(t.code, "diproses", actor="admin")
    store.change_status(t.code, "selesai", actor="admin")
    d = CollectingDispatcher()
    await tickets.ActionRateTicket().run(d, tracker(sender="line:U1", text="bintang 4", intent="give_rating"), DOMAIN)
    assert d.messages[0]["response"] == "utter_rating_thanks"
    assert store.get(t.code).status == "selesai" and store.get(t.code).rating == 4


async def test_fallback_question_offers_readable_choices() -> None:
    d = CollectingDispatcher()
    t = tracker(
        intent="nlu_fallback",
        ranking=[("nlu_fallback", 0.5), ("complaint_air_bersih", 0.35), ("check_status", 0.2), ("greet", 0.1)],
    )
    await conversation.ActionDefaultAskAffirmation().run(d, t, DOMAIN)
    buttons = d.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/complaint_air_bersih", "/check_status", "/out_of_scope"]
    assert buttons[0]["title"] == "Melapor: Air Bersih (PDAM)"
