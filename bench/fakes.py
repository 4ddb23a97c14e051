"""The Telegram fake, timed for the benchmark. The ONE place that knows where the fake lives.

`TimedTelegramFake` records when each update is handed out to the gateway (getUpdates answer) and
pushes every message the bot sends to a callback, so a citizen waits for its answer without polling
and a turn's latency is "update handed out -> answer arrived", both clocked on the fake's thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.checkout import test_support

FakeTelegramServer = test_support("fake_telegram").FakeTelegramServer

JSON = dict[str, Any]
ANSWER_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendLocation"})


class TimedTelegramFake(FakeTelegramServer):
    """FakeTelegramServer + hand-out times per update_id + a callback for every answer to a citizen."""

    def __init__(self, token: str, on_answer: Callable[[JSON], None]) -> None:
        super().__init__(token)
        self._on_answer = on_answer
        self.handed_out: dict[int, float] = {}

    def _take_updates(self, offset: int, limit: int, allowed: list[str] | None) -> list[JSON]:
        batch = super()._take_updates(offset, limit, allowed)
        now = time.time()
        for update in batch:
            self.handed_out.setdefault(int(update["update_id"]), now)
        return batch

    def _record(self, method: str, params: JSON, chat_id: Any = None, **extra: Any) -> JSON:
        entry = super()._record(method, params, chat_id, **extra)
        if method in ANSWER_METHODS:
            self._on_answer(entry)
        return entry


def bench_token() -> str:
    return "123456:BENCH-TOKEN"
