"""500 tickets from 20 concurrent workers: every code unique, none lost, on both databases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from bot.store import models as m
from bot.tickets import NewTicket, TicketService

WORKERS = 20
TICKETS = 500


def test_concurrent_creation_unique_codes(service: TicketService) -> None:
    def create(i: int) -> str:
        # Citizens overlap across workers so the citizen upsert races too.
        user = str(i % 37)
        return service.create_ticket(
            NewTicket(
                channel="telegram",
                user_id=user,
                chat_id=user,
                description=f"laporan nomor {i}: lampu jalan mati",
                category_id="penerangan_jalan",
            )
        ).code

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        codes = list(pool.map(create, range(TICKETS)))

    assert len(codes) == TICKETS
    assert len(set(codes)) == TICKETS
    with service.sessions() as s:
        assert s.scalar(select(func.count()).select_from(m.Ticket)) == TICKETS
        assert s.scalar(select(func.count(func.distinct(m.Ticket.code)))) == TICKETS
        assert s.scalar(select(func.count()).select_from(m.Citizen)) == 37


def test_forced_code_collision_is_retried(service: TicketService, monkeypatch) -> None:
    import bot.tickets as tickets_module

    first = service.create_ticket(
        NewTicket(
            channel="web", user_id="a", chat_id="a", description="sampah menumpuk di TPS", category_id="lingkungan"
        )
    )
    codes = iter([first.code, first.code, "ADU-ZZZZZZ2"])
    monkeypatch.setattr(tickets_module, "new_code", lambda: next(codes))
    second = service.create_ticket(
        NewTicket(channel="web", user_id="b", chat_id="b", description="sampah menumpuk lagi", category_id="lingkungan")
    )
    assert second.code == "ADU-ZZZZZZ2"
