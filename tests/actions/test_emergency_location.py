"""Emergencies (numbers at once, location only, urgent ticket) and locations already given (issue 8)."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.complaint as complaint
from bot.tickets import TicketService
from nlu.extract import extract
from tests.actions.test_actions import DOMAIN, slot_events, tracker

FIRE = "ada kebakaran rumah di rt 3 rw 2 kel sewu!! apinya gede"
FLOOD = "TOLONG MIN banjir udh masuk rumah selutut … ada mbah sy lansia blm bisa dievakuasi!!"


def entities(text: str) -> list[dict]:
    return [{"entity": e.entity, "value": e.value} for e in extract(text)]


@pytest.fixture(autouse=True)
def store(sqlite_service: TicketService, monkeypatch: pytest.MonkeyPatch) -> TicketService:
    monkeypatch.setattr(complaint, "ticket_service", lambda: sqlite_service)
    return sqlite_service


async def test_fire_gets_the_numbers_at_once_and_needs_nothing_more() -> None:
    d = CollectingDispatcher()
    t = tracker(text=FIRE, intent="complaint_bencana", entities=entities(FIRE))
    slots = slot_events(await complaint.ActionStartComplaint().run(d, t, DOMAIN))
    assert d.messages[0]["response"] == "utter_emergency"
    assert d.messages[0]["umum"] == "112" and d.messages[0]["damkar"] == "113"
    assert slots["urgent"] is True and slots["category"] == "bencana"
    assert slots["location"] == "RT 03/RW 02, Kel. Sewu"  # given: no question at all
    assert slots["photo"] == "tidak" and slots["privacy"] == "biasa" and slots["confirmed"] == "ya"


async def test_flood_with_people_trapped_asks_only_where() -> None:
    d = CollectingDispatcher()
    t = tracker(text=FLOOD, intent="complaint_bencana", confidence=0.4, entities=entities(FLOOD))
    slots = slot_events(await complaint.ActionStartComplaint().run(d, t, DOMAIN))
    assert slots["urgent"] is True and slots["category"] == "bencana" and "location" not in slots
    ask = CollectingDispatcher()
    await complaint.ActionAskLocation().run(ask, tracker(slots=slots), DOMAIN)
    assert ask.messages[-1]["response"] == "utter_ask_location_urgent"
    form = complaint.ValidateComplaintForm()
    urgent = tracker(slots={**slots, "requested_slot": None}, text=FLOOD)
    assert form.validate_confirmed("ya", CollectingDispatcher(), urgent, DOMAIN) == {"confirmed": "ya"}


async def test_urgent_ticket_is_flagged(store: TicketService) -> None:
    slots = {
        "complaint_text": FLOOD,
        "category": "bencana",
        "location": "gang mawar 3, Kel. Sewu",
        "privacy": "biasa",
        "urgent": True,
    }
    d = CollectingDispatcher()
    await complaint.ActionSubmitComplaint().run(d, tracker(sender="web:flood", slots=slots, intent="affirm"), DOMAIN)
    assert d.messages[-1]["response"] == "utter_ticket_created_urgent"
    (ticket,) = store.for_citizen("web", "flood")
    assert ticket.urgent and ticket.opd_id == "bpbd"


async def test_location_already_given_is_confirmed_not_asked() -> None:
    text = "lampu pju di jln slamet riyadi dpn toko emas mati udah seminggu"
    d = CollectingDispatcher()
    t = tracker(text=text, intent="complaint_penerangan_jalan", entities=entities(text))
    slots = slot_events(await complaint.ActionStartComplaint().run(d, t, DOMAIN))
    assert slots["location_guess"] == "jln slamet riyadi, dpn toko emas"
    assert d.messages[0]["response"] == "utter_empathy_frustration"
    ask = CollectingDispatcher()
    await complaint.ActionAskLocation().run(ask, tracker(slots=slots), DOMAIN)
    assert ask.messages[-1]["response"] == "utter_confirm_location"
    form = complaint.ValidateComplaintForm()
    yes = tracker(text="iya betul", intent="affirm", slots={**slots, "requested_slot": "location"})
    assert await form.extract_location(CollectingDispatcher(), yes, DOMAIN) == {
        "location": "jln slamet riyadi, dpn toko emas",
        "location_guess": None,
    }
    no = tracker(text="bukan", intent="deny", slots={**slots, "requested_slot": "location"})
    assert await form.extract_location(CollectingDispatcher(), no, DOMAIN) == {"location_guess": None}


@pytest.mark.parametrize(
    ("category", "response"),
    [
        ("adminduk", "utter_ask_location_service"),
        ("bansos", "utter_ask_location_service"),
        ("perizinan", "utter_ask_location_service"),
        ("infrastruktur", "utter_ask_location"),
    ],
)
async def test_location_question_fits_the_category(category: str, response: str) -> None:
    d = CollectingDispatcher()
    await complaint.ActionAskLocation().run(d, tracker(slots={"category": category}), DOMAIN)
    assert d.messages[-1]["response"] == response


def test_places_and_danger_are_extracted() -> None:
    def values(text: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for e in extract(text):
            out.setdefault(e.entity, []).append(e.value)
        return out

    assert values("selamat siang, jalan di depan SD Negeri 3 Podosugih berlubang besar")["place"] == [
        "depan SD Negeri 3 Podosugih"
    ]
    assert values("Jl. Merdeka No. 12, RT 03 RW 05, Kelurahan Podosugih, dekat SD Negeri 3")["place"] == [
        "Jl. Merdeka No. 12",
        "dekat SD Negeri 3",
    ]
    assert values("lampu jalan di gang mawar mati")["place"] == ["gang mawar"]
    assert values("sampah numpuk di perumahan griya asri blok C2")["place"] == ["perumahan griya asri blok C2"]
    assert values("jalan rusak di Jalan Ahmad Yani dekat pasar gede")["place"] == [
        "Jalan Ahmad Yani",
        "dekat pasar gede",
    ]
    assert "place" not in values("jalan rusak parah banget")
    assert values(FIRE)["danger"] == ["kebakaran"]
    assert set(values(FLOOD)["danger"]) == {"banjir", "terjebak"}
    assert "danger" not in values("min jalan depan SD 3 berlubang bgt, udh 2 org jatuh")
    assert "danger" not in values("pohon tumbang menutup jalan kampung")


async def test_location_is_never_asked_the_same_way_a_third_time() -> None:
    # The form records requested_slot=location after each question; the third question is the example.
    asked_twice = [
        {"event": "slot", "name": "requested_slot", "value": "location"},
        {"event": "user", "text": "x"},
        {"event": "slot", "name": "requested_slot", "value": "location"},
        {"event": "user", "text": "y"},
    ]
    d = CollectingDispatcher()
    await complaint.ActionAskLocation().run(d, tracker(events=asked_twice, slots={"category": "lingkungan"}), DOMAIN)
    assert d.messages[-1]["response"] == "utter_ask_location_example"
    once = CollectingDispatcher()
    await complaint.ActionAskLocation().run(once, tracker(events=asked_twice[2:], slots={}), DOMAIN)
    assert once.messages[-1]["response"] == "utter_ask_location"
