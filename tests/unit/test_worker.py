"""The polling worker wakes at once for work announced while a cycle is running."""

from __future__ import annotations

import asyncio
import contextlib

from bot.gateway.worker import PollingWorker


class Counting(PollingWorker):
    def __init__(self) -> None:
        super().__init__(poll_interval=30.0)
        self.cycles = 0
        self.ran = asyncio.Event()

    async def run_once(self) -> int:
        self.cycles += 1
        if self.cycles == 1:
            self.notify()  # work arrives while the first cycle is still running
        self.ran.set()
        return 0


async def test_notify_during_a_cycle_is_not_lost() -> None:
    worker = Counting()
    task = asyncio.create_task(worker.run_forever())
    try:
        for _ in range(100):
            if worker.cycles >= 2:
                break
            await asyncio.sleep(0.01)
        assert worker.cycles >= 2  # without the fix the second cycle waits the 30 s poll interval
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
