"""The citizen's side of deadlines through the real actions: "ada kabar?", rating, reopening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.tickets as tickets
from bot.store import models as m
from bot.tickets import NewTicket, TicketService
from tests.actions.test_actions import DOMAIN, slot_events, tracker


@pytest.fixture
def store(sqlite_service: TicketService, monkeypatch: pytest.MonkeyPatch) -> TicketService:
    monkeypatch.setattr(tickets, "ticket_service", lambda: sqlite_service)
    with sqlite_service.sessions() as s, s.begin():
        s.add(m.AdminGroup(opd_id="dpupr", channel="telegram", chat_id="-200"))
    return sqlite_service


def _ticket(store: TicketService, text: str = "jalan berlubang di depan pasar", *, when: datetime | None = None):
    return store.create_ticket(
        NewTicket("telegram", "111", "111", text, "infrastruktur"), now=when or datetime.now(UTC)
    )


def _finished(store: TicketService, *, when: datetime | None = None):
    t = _ticket(store, when=when)
    store.change_status(t.code, "diproses", actor="admin:dpupr", now=when)
    return store.change_status(t.code, "selesai", actor="admin:dpupr", note="Sudah ditambal", now=when)


def _opd_texts(store: TicketService) -> list[str]:
    with store.sessions() as s:
        rows = s.query(m.OutboxMessage).filter(m.OutboxMessage.chat_id == "-200").order_by(m.OutboxMessage.id)
        return [r.payload["text"] for r in rows]


async def test_ada_kabar_shows_the_latest_open_ticket_with_last_note_and_due_date(store: TicketService) -> None:
    older = _ticket(store, "lampu jalan mati", when=datetime.now(UTC) - timedelta(days=3))
    store.change_status(older.code, "diproses", actor="admin:dpupr", note="Tim survei dijadwalkan Kamis")
    done = _finished(store)
    d = CollectingDispatcher()
    events = await tickets.ActionCheckStatus().run(d, tracker(text="ada kabar?", intent="check_status"), DOMAIN)
    assert len(d.messages) == 1
    shown = d.messages[0]
    assert shown["code"] == older.code != done.code
    assert "Tim survei dijadwalkan Kamis" in shown["last_note"] and shown["due"]
    assert slot_events(events)["ticket_code"] == older.code


async def test_rating_from_the_button_is_recorded_and_does_not_close(store: TicketService) -> None:
    t = _finished(store)
    d = CollectingDispatcher()
    payload = f'/give_rating{{"ticket_code":"{t.code}","rating":"4"}}'
    entities = [{"entity": "ticket_code", "value": t.code}, {"entity": "rating", "value": "4"}]
    await tickets.ActionRateTicket().run(d, tracker(text=payload, intent="give_rating", entities=entities), DOMAIN)
    assert d.messages[0]["response"] == "utter_rating_thanks"
    after = store.get(t.code)
    assert after.status == "selesai" and after.rating == 4
    assert "4/5" in _opd_texts(store)[-1]


async def test_low_rating_offers_reopening(store: TicketService) -> None:
    t = _finished(store)
    d = CollectingDispatcher()
    await tickets.ActionRateTicket().run(d, tracker(text="bintang 1", intent="give_rating"), DOMAIN)
    msg = d.messages[0]
    assert msg["response"] == "utter_rating_low_offer_reopen"
    assert msg["buttons"][0]["payload"] == f'/reopen_ticket{{"ticket_code":"{t.code}"}}'
    assert store.get(t.code).status == "selesai"


async def test_reopen_with_a_reason_inside_the_window(store: TicketService) -> None:
    t = _finished(store)
    d = CollectingDispatcher()
    events = await tickets.ActionCheckReopen().run(d, tracker(text="belum selesai", intent="reopen_ticket"), DOMAIN)
    assert slot_events(events) == {"ticket_code": t.code, "reopen_allowed": True} and d.messages == []
    d = CollectingDispatcher()
    slots = {"ticket_code": t.code, "reopen_reason": "lubangnya cuma ditimbun tanah"}
    await tickets.ActionReopenTicket().run(d, tracker(text="lubangnya cuma ditimbun tanah", slots=slots), DOMAIN)
    assert d.messages[0]["response"] == "utter_reopened"
    back = store.get(t.code)
    assert back.status == "diproses" and "ditimbun tanah" in back.events[-1].note
    assert "dibuka kembali" in _opd_texts(store)[-1]


async def test_reopen_outside_the_window_is_refused_politely(store: TicketService) -> None:
    t = _finished(store, when=datetime.now(UTC) - timedelta(days=30))
    d = CollectingDispatcher()
    events = await tickets.ActionCheckReopen().run(d, tracker(text="belum selesai", intent="reopen_ticket"), DOMAIN)
    assert slot_events(events) == {"reopen_allowed": False}
    assert d.messages[0]["response"] == "utter_reopen_window_closed" and d.messages[0]["code"] == t.code
    assert store.get(t.code).status == "selesai"


async def test_nothing_to_reopen(store: TicketService) -> None:
    _ticket(store)
    d = CollectingDispatcher()
    await tickets.ActionCheckReopen().run(d, tracker(text="belum selesai", intent="reopen_ticket"), DOMAIN)
    assert d.messages[0]["response"] == "utter_nothing_to_reopen"
