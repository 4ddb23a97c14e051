"""Indonesian working-day arithmetic for SLA deadlines.

Weekends, national holidays and cuti bersama are off. Holidays come from the maintained
`holidays` package (public + government categories) plus a configured list, so a new decree
can be added without a release.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

WIB = ZoneInfo("Asia/Jakarta")
END_OF_DAY = time(23, 59, 59)


class WorkCalendar:
    def __init__(self, extra_days_off: Iterable[date] = ()) -> None:
        self._extra = frozenset(extra_days_off)
        self._years: set[int] = set()

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays("ID", categories=("public", "government"))

    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._extra and day not in self._holidays

    def holiday_name(self, day: date) -> str | None:
        if day in self._extra:
            return "Cuti bersama"
        return self._holidays.get(day)

    def add_workdays(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself does not count)."""
        if days < 0:
            raise ValueError("days must be >= 0")
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count

    def deadline(self, created_at: datetime, sla_days: int, tz: ZoneInfo = WIB) -> datetime:
        """End of the working day `sla_days` working days after the ticket arrived (in the city's zone).

        A complaint sent on a holiday or after hours still counts from its calendar day:
        the clock starts with the next working day either way.
        """
        local = created_at.astimezone(tz) if created_at.tzinfo else created_at.replace(tzinfo=tz)
        due_day = self.add_workdays(local.date(), sla_days)
        return datetime.combine(due_day, END_OF_DAY, tzinfo=tz)


HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def format_tanggal(value: date | datetime) -> str:
    """Indonesian long date, e.g. 'Senin, 23 November 2026'."""
    if isinstance(value, datetime):
        value = value.astimezone(WIB).date() if value.tzinfo else value.date()
    return f"{HARI[value.weekday()]}, {value.day} {BULAN[value.month - 1]} {value.year}"
