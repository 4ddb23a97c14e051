"""Ticket-store calls off the action server's event loop.

rasa_sdk serves every action on one asyncio loop; a blocking SQLAlchemy call made there stalls
all other citizens' actions until the database answers. Actions await `call(service.method, ...)`
instead: the call runs in a small dedicated thread pool, sized below the engine's connection pool
(5 + 10 overflow), so waiting on a connection never becomes a pool timeout.

    from actions.store import call
    tickets = await call(ticket_service().for_citizen, channel, user_id, limit=RECENT)
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

P = ParamSpec("P")
R = TypeVar("R")

MAX_THREADS = 8
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="aduan-store")
        return _executor


INLINE = os.environ.get("ADUAN_ACTIONS_INLINE", "").lower() in ("1", "true")
"""Benchmark only (ADUAN_ACTIONS_INLINE=1): the old in-loop calls, to measure what the pool saves."""


async def call(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run the blocking `fn(*args, **kwargs)` in the store's thread pool; its result or exception comes back here.

    Context variables (request ids for logs) are carried into the thread, as `asyncio.to_thread` does.
    """
    if INLINE:
        return fn(*args, **kwargs)
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    return await loop.run_in_executor(_pool(), functools.partial(context.run, fn, *args, **kwargs))


def offloaded(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Decorator form of `call` for a blocking helper: `@offloaded def lookup(...)` becomes awaitable."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return await call(fn, *args, **kwargs)

    return wrapper


def shutdown() -> None:
    """Let running calls finish and release the threads (tests, orderly exit)."""
    global _executor
    with _executor_lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=True)


class StoreAction(Action, ABC):
    """An action whose work touches the ticket store: its body (`act`) runs off the event loop.

    rasa_sdk awaits `run`; doing the blocking SQLAlchemy work in the store's thread pool keeps the
    action server answering other citizens while one waits on the database.
    """

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await call(self.act, dispatcher, tracker, domain)

    @abstractmethod
    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[Any]:
        """The action's work, run in the store's thread pool."""
