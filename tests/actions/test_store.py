"""actions/store.py: blocking ticket-store calls run off the action server's event loop."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from actions import store
from bot.tickets import NewTicket, TicketService

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


async def test_the_loop_keeps_serving_while_a_store_call_blocks() -> None:
    """The blocked call can only finish if the loop runs another coroutine meanwhile (no timing involved)."""
    release = threading.Event()

    def blocking_lookup() -> str:
        if not release.wait(10):
            raise TimeoutError("the event loop was blocked")
        return "ADU-K7X3M9P"

    async def other_citizen() -> None:
        await asyncio.sleep(0)
        release.set()

    code, _ = await asyncio.gather(store.call(blocking_lookup), other_citizen())
    assert code == "ADU-K7X3M9P"


async def test_exceptions_and_context_come_through() -> None:
    def fails() -> None:
        raise LookupError("tidak ditemukan")

    with pytest.raises(LookupError, match="tidak ditemukan"):
        await store.call(fails)
    request_id.set("req-42")
    assert await store.call(request_id.get) == "req-42"
    assert await store.call(lambda: threading.current_thread().name) != threading.current_thread().name


async def test_offloaded_decorator_passes_arguments() -> None:
    @store.offloaded
    def join(a: str, b: str, *, sep: str = "-") -> str:
        return sep.join((a, b))

    assert await join("ADU", "K7X3M9P", sep="-") == "ADU-K7X3M9P"


async def test_concurrent_ticket_creation_through_the_wrapper(service: TicketService) -> None:
    """Many actions at once share the pool: every ticket is written, each with its own code."""

    def new(i: int) -> NewTicket:
        return NewTicket(
            channel="telegram",
            user_id=str(1000 + i % 7),
            chat_id=str(1000 + i % 7),
            description=f"lampu jalan mati di gang mawar nomor {i}",
            category_id="penerangan_jalan",
        )

    views = await asyncio.gather(*(store.call(service.create_ticket, new(i)) for i in range(30)))
    codes = {v.code for v in views}
    assert len(codes) == 30
    found = await store.call(service.for_citizen, "telegram", "1000", limit=50)
    assert {v.code for v in found} <= codes and len(found) == len(range(0, 30, 7))
