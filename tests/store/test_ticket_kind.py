"""Ticket kind (pengaduan | informasi), the urgent flag, and an honest foreign-key error (issue 8)."""

from __future__ import annotations

import pytest

from bot.store.migrate import upgrade
from bot.tickets import NewTicket, TicketService


def _new(**overrides: object) -> NewTicket:
    values: dict = dict(channel="web", user_id="u1", chat_id="u1", description="syarat bikin kk baru apa aja ya?")
    values.update(overrides)
    return NewTicket(category_id="adminduk", **values)


def test_information_request_and_urgent_ticket_are_stored(service: TicketService) -> None:
    info = service.create_ticket(_new(kind="informasi"))
    assert info.kind == "informasi" and not info.urgent and info.opd_id == "disdukcapil"
    fire = service.create_ticket(_new(description="ada kebakaran rumah di rt 3", urgent=True))
    assert service.get(fire.code).urgent and service.get(fire.code).kind == "pengaduan"


def test_foreign_key_failure_is_not_called_a_code_collision(db_url: str) -> None:
    upgrade(db_url)
    unsynced = TicketService.from_url(db_url)  # OPDs never synced: the ticket's OPD row is missing
    with pytest.raises(RuntimeError, match="missing row") as caught:
        unsynced.create_ticket(_new())
    assert "unique ticket code" not in str(caught.value)
