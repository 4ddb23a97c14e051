"""A loop that drains work, then sleeps until notified or the poll interval passes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

Row = TypeVar("Row")


def lock_pending(session: Session, model: type[Row], limit: int) -> list[Row]:
    """The oldest pending rows of a queue table, locked for this transaction.

    `SKIP LOCKED` lets several gateway replicas claim from one PostgreSQL queue without waiting on
    each other; SQLite's BEGIN IMMEDIATE already serialises claims.
    """
    table: Any = model
    return list(
        session.scalars(
            select(model)
            .where(table.status == "pending")
            .order_by(table.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )


class PollingWorker:
    """Subclasses implement `run_once` (returns how many items it handled)."""

    def __init__(self, poll_interval: float = 1.0) -> None:
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()

    def notify(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        raise NotImplementedError

    async def run_forever(self) -> None:
        while True:
            # Cleared before the cycle: a notify() that arrives while it runs is not lost.
            self._wake.clear()
            try:
                if await self.run_once():
                    continue
            except Exception:  # a database hiccup must not stop the loop for good
                logger.exception("%s cycle failed", type(self).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
