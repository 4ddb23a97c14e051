"""'cek status ADU-…' from another chat: the public part only, and code guessing is slowed down."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.tickets as tickets
from bot.throttle import Throttle
from bot.tickets import NewTicket, TicketService
from tests.actions.test_actions import DOMAIN, tracker


@pytest.fixture(autouse=True)
def store(sqlite_service: TicketService, monkeypatch: pytest.MonkeyPatch) -> TicketService:
    monkeypatch.setattr(tickets, "ticket_service", lambda: sqlite_service)
    return sqlite_service


async def test_confidential_anonymous_ticket_shows_status_not_content(store: TicketService) -> None:
    t = store.create_ticket(
        NewTicket(
            "web",
            "owner1",
            "owner1",
            "pungli di loket kelurahan oleh pak X",
            "pelayanan_aparatur",
            anonymous=True,
            confidential=True,
        )
    )
    store.change_status(t.code, "diproses", actor="admin:telegram:5", note="Sedang kami periksa")
    d = CollectingDispatcher()
    await tickets.ActionCheckStatus().run(
        d, tracker(sender="line:Uother", text=f"cek status {t.code}", intent="check_status"), DOMAIN
    )
    text = d.messages[0]["text"]
    assert t.code in text and "Inspektorat" in text and "Sedang kami periksa" in text
    assert "pungli" not in text and "owner1" not in text


async def test_guessing_codes_is_throttled(store: TicketService, monkeypatch: pytest.MonkeyPatch) -> None:
    t = store.create_ticket(NewTicket("web", "owner1", "owner1", "sampah", "lingkungan"))
    monkeypatch.setattr(tickets, "PUBLIC_LOOKUPS", Throttle(limit=3, window_seconds=600))
    replies = []
    for code in ("ADU-2345678", "ADU-3456789", "ADU-456789A", t.code):
        d = CollectingDispatcher()
        await tickets.ActionCheckStatus().run(
            d, tracker(sender="web:guesser", text=f"cek status {code}", intent="check_status"), DOMAIN
        )
        replies.append(d.messages[0])
    assert [r.get("response") for r in replies[:3]] == ["utter_status_not_found"] * 3
    assert "terlalu banyak" in replies[3]["text"] and t.code not in replies[3]["text"]
