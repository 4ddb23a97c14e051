"""SLA deadlines count Indonesian working days: weekends, national holidays and cuti bersama off."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.categories import load_taxonomy
from bot.domain.workdays import WIB, WorkCalendar, format_tanggal

CAL = WorkCalendar(load_taxonomy().cuti_bersama)


def test_weekend_is_off() -> None:
    assert not CAL.is_workday(date(2026, 11, 21))  # Saturday
    assert not CAL.is_workday(date(2026, 11, 22))  # Sunday
    assert CAL.is_workday(date(2026, 11, 23))  # Monday


def test_across_christmas_cuti_bersama_and_weekend() -> None:
    # Wed 23 Dec 2026 + 3 working days: 24 Dec cuti bersama, 25 Dec Natal, 26–27 weekend,
    # so Mon 28, Tue 29, Wed 30.
    assert CAL.holiday_name(date(2026, 12, 24))
    assert CAL.holiday_name(date(2026, 12, 25))
    assert CAL.add_workdays(date(2026, 12, 23), 3) == date(2026, 12, 30)


def test_across_independence_day() -> None:
    # Fri 14 Aug 2026 + 1 working day: weekend, then Mon 17 Aug (HUT RI) is off -> Tue 18 Aug.
    assert CAL.add_workdays(date(2026, 8, 14), 1) == date(2026, 8, 18)


def test_lebaran_block_2026() -> None:
    # Idul Fitri 2026: 18 (cuti bersama), 19 (Nyepi), 20 (cuti), 21-22 (Idul Fitri, weekend), 23-24 (cuti).
    assert CAL.add_workdays(date(2026, 3, 17), 1) == date(2026, 3, 25)


def test_deadline_is_end_of_working_day_in_wib() -> None:
    created = datetime(2026, 12, 23, 9, 0, tzinfo=UTC)  # 16:00 WIB Wednesday
    due = CAL.deadline(created, 3)
    assert due.tzinfo is not None
    assert due.astimezone(WIB).date() == date(2026, 12, 30)
    assert (due.astimezone(WIB).hour, due.astimezone(WIB).minute) == (23, 59)


def test_late_evening_utc_counts_from_the_wib_day() -> None:
    # 20:00 UTC Friday is already 03:00 WIB Saturday: the clock starts Monday, so +1 is Monday.
    created = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    assert CAL.deadline(created, 1).astimezone(WIB).date() == date(2026, 11, 23)


def test_config_list_adds_days_off() -> None:
    extra = WorkCalendar([date(2026, 11, 23)])
    assert extra.add_workdays(date(2026, 11, 20), 1) == date(2026, 11, 24)


def test_indonesian_date_format() -> None:
    assert format_tanggal(date(2026, 11, 23)) == "Senin, 23 November 2026"


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)), st.integers(0, 30))
def test_add_workdays_properties(start: date, days: int) -> None:
    due = CAL.add_workdays(start, days)
    assert due >= start
    assert CAL.workdays_between(start, due) == days
    if days:
        assert CAL.is_workday(due)
    # Never more than days + all weekends/holidays in between: a generous upper bound.
    assert due - start <= timedelta(days=days * 2 + 14)
