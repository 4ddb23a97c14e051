"""Telegram's limits are kept locally: 1/s per private chat, 20/min per group, ~30/s overall."""

from __future__ import annotations

import asyncio

import pytest

from bot.gateway.channels.telegram import TelegramLimits
from bot.gateway.outbox import RetryLater


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_private_chat_one_per_second() -> None:
    clock = Clock()
    limits = TelegramLimits(clock)
    assert limits.wait_for("42") == 0
    limits.record("42")
    assert limits.wait_for("42") == pytest.approx(1.0)
    assert limits.wait_for("43") == 0  # another chat is not held back
    clock.now += 1.0
    assert limits.wait_for("42") == 0


def test_group_twenty_per_minute_becomes_retry_later() -> None:
    clock = Clock()
    limits = TelegramLimits(clock)
    for _ in range(20):
        asyncio.run(limits.acquire("-100123"))
        clock.now += 0.5
    # The 21st within the minute would need a long sleep: the outbox reschedules instead.
    with pytest.raises(RetryLater) as caught:
        asyncio.run(limits.acquire("-100123"))
    assert caught.value.seconds == pytest.approx(50.0)
    # Three slots freed; a message needing four calls waits for a fourth, so it is never split.
    clock.now += 51
    assert limits.wait_for("-100123", 3) == 0
    assert limits.wait_for("-100123", 4) == pytest.approx(0.5)


def test_thirty_per_second_overall() -> None:
    clock = Clock()
    limits = TelegramLimits(clock)
    for chat in range(30):
        limits.record(str(chat))
    assert limits.wait_for("999") == pytest.approx(1.0)
