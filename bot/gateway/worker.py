"""A loop that drains work, then sleeps until notified or the poll interval passes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

logger = logging.getLogger(__name__)

Row = TypeVar("Row")


def lock_due_heads(session: Session, model: type[Row], keys: tuple[str, ...], now: datetime, limit: int) -> list[Row]:
    """The first pending row of each conversation, only if it is due, locked for this transaction.

    Due-ness is decided in SQL, so rows that are backing off never crowd out due ones. A row is
    a head only when no earlier row of its conversation (same `keys`) is still pending, so order
    within a conversation holds across replicas: `SKIP LOCKED` lets a second replica pass over a
    head another one is claiming, and the rows behind it are not heads until it is finished.
    SQLite's BEGIN IMMEDIATE already serialises claims.
    """
    table: Any = model
    earlier = aliased(model)
    older: Any = earlier
    blocked = (
        select(older.id)
        .where(*(getattr(older, k) == getattr(table, k) for k in keys), older.status == "pending", older.id < table.id)
        .exists()
    )
    return list(
        session.scalars(
            select(model)
            .where(table.status == "pending", table.next_attempt_at <= now, ~blocked)
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
