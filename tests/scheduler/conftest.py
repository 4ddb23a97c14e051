"""A controlled clock for the scheduler: local (WIB) wall times turned into UTC instants."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


def at(text: str) -> datetime:
    """'2026-12-28 10:00' in Jakarta time as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=WIB).astimezone(UTC)
