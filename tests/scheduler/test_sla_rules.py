"""The deadline rules as plain Python: office hours, working days, what is due when."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.domain import sla
from bot.domain.categories import load_taxonomy
from bot.domain.workdays import WorkCalendar
from tests.scheduler.conftest import at

CLOCK = sla.OfficeClock(WorkCalendar(load_taxonomy().cuti_bersama), ZoneInfo("Asia/Jakarta"))


def facts(status: str = "didisposisikan", category: str = "adminduk", **kw) -> sla.TicketFacts:
    created = kw.pop("created", at("2026-12-23 10:00"))
    base = dict(
        id=1,
        code="ADU-TEST123",
        status=status,
        category_id=category,
        opd_id="disdukcapil",
        due_at=CLOCK.end_of_day(date(2026, 12, 30)),
        resolved_at=None,
        events=(sla.EventFact("sistem:routing", "baru", "didisposisikan", "diskominfo", "disdukcapil", created),),
    )
    base.update(kw)
    return sla.TicketFacts(**base)


def kinds(f: sla.TicketFacts, when: str) -> set[str]:
    return {a.kind.value for a in sla.actions_now(f, CLOCK, at(when))}


def test_office_hours_skip_weekend_and_holidays() -> None:
    assert CLOCK.is_open(at("2026-12-23 08:00"))
    assert not CLOCK.is_open(at("2026-12-23 16:00"))
    assert not CLOCK.is_open(at("2026-12-24 10:00"))  # cuti bersama
    assert not CLOCK.is_open(at("2026-12-25 10:00"))  # Christmas
    assert not CLOCK.is_open(at("2026-12-26 10:00"))  # Saturday
    assert CLOCK.next_opening(at("2026-12-23 17:00")) == at("2026-12-28 08:00")


def test_one_working_day_counts_from_office_hours() -> None:
    assert CLOCK.after_workdays(at("2026-12-23 10:00"), 1) == at("2026-12-28 10:00")
    assert CLOCK.after_workdays(at("2026-12-23 20:00"), 1) == at("2026-12-29 08:00")
    assert CLOCK.after_workdays(at("2026-12-26 11:00"), 3) == at("2026-12-31 08:00")


def test_reminders_and_escalation_across_a_weekend_and_national_holiday() -> None:
    f = facts()
    assert kinds(f, "2026-12-24 10:00") == set()  # holiday: nothing
    assert kinds(f, "2026-12-28 09:59") == set()
    assert kinds(f, "2026-12-28 10:00") == {"first_response_nudge"}
    assert kinds(f, "2026-12-29 08:00") == {"first_response_nudge", "due_reminder"}
    assert kinds(f, "2026-12-30 08:00") == {"first_response_nudge", "due_today"}
    assert kinds(f, "2026-12-30 10:00") == {"first_response_escalation", "due_today"}
    assert kinds(f, "2026-12-31 00:30") == set()  # night: nothing for a non-urgent ticket
    assert kinds(f, "2026-12-31 08:00") == {"first_response_escalation", "overdue_escalation"}


def test_urgent_category_is_escalated_at_night() -> None:
    f = facts(category="bencana", opd_id="bpbd", due_at=CLOCK.end_of_day(date(2026, 12, 28)))
    assert "overdue_escalation" in kinds(f, "2026-12-29 00:30")
    assert "overdue_escalation" not in kinds(facts(due_at=f.due_at), "2026-12-29 00:30")


def test_no_first_response_rules_once_the_opd_acts() -> None:
    f = facts(status="diproses")
    assert kinds(f, "2026-12-30 10:00") == {"due_today"}


def test_ping_pong_after_two_reroutes() -> None:
    t0 = at("2026-12-21 09:00")
    events = (
        sla.EventFact("sistem:routing", "baru", "didisposisikan", "diskominfo", "dpupr", t0),
        sla.EventFact("admin:dpupr", "didisposisikan", "didisposisikan", "dpupr", "dlh", at("2026-12-21 10:00")),
        sla.EventFact("admin:dlh", "didisposisikan", "didisposisikan", "dlh", "dpupr", at("2026-12-21 11:00")),
    )
    f = facts(events=events, category="infrastruktur", opd_id="dpupr")
    assert len(sla.reroutes(f.events)) == 2
    assert "ping_pong_escalation" in kinds(f, "2026-12-21 11:05")
    assert "ping_pong_escalation" not in kinds(facts(events=events[:2]), "2026-12-21 11:05")


def test_auto_close_after_ten_working_days() -> None:
    resolved = at("2026-11-30 10:00")
    f = facts(status="selesai", resolved_at=resolved)
    assert CLOCK.reopen_until(resolved) == CLOCK.end_of_day(date(2026, 12, 14))
    assert kinds(f, "2026-12-14 15:00") == set()
    assert kinds(f, "2026-12-15 08:00") == {"auto_close"}
