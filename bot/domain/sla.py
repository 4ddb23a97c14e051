"""What is due when: reminders, escalations and closing derived from a ticket's facts.

Plain Python (no database, no channels): the scheduler feeds it ticket facts and the current
instant, and records each returned action once. Office hours are the city's (ADUAN_TIMEZONE);
nothing is sent to admin chats outside them except for urgent categories (`bencana`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.lifecycle import REOPEN_WINDOW_WORKDAYS, Status
from bot.domain.workdays import END_OF_DAY, WorkCalendar

OFFICE_START = time(8, 0)
OFFICE_END = time(16, 0)
FIRST_RESPONSE_NUDGE_WORKDAYS = 1
FIRST_RESPONSE_ESCALATION_WORKDAYS = 3
"""LAPOR!'s rule: 3 working days to verify and dispose before the coordinator steps in."""
REMINDER_BEFORE_WORKDAYS = 1
PING_PONG_LIMIT = 2
"""After this many re-routes the coordinator decides; a further re-route by an OPD is refused."""
URGENT_CATEGORIES = frozenset({"bencana"})
OPEN_STATUSES = frozenset({Status.BARU, Status.DIDISPOSISIKAN, Status.DIPROSES})


class Kind(StrEnum):
    FIRST_RESPONSE_NUDGE = "first_response_nudge"
    FIRST_RESPONSE_ESCALATION = "first_response_escalation"
    DUE_REMINDER = "due_reminder"
    DUE_TODAY = "due_today"
    OVERDUE_ESCALATION = "overdue_escalation"
    PING_PONG_ESCALATION = "ping_pong_escalation"
    AUTO_CLOSE = "auto_close"
    DIGEST = "digest"


@dataclass(frozen=True)
class OfficeClock:
    """Working days plus office hours in the city's time zone."""

    calendar: WorkCalendar
    tz: ZoneInfo
    start: time = OFFICE_START
    end: time = OFFICE_END

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz)

    def today(self, instant: datetime) -> date:
        return self.local(instant).date()

    def opening(self, day: date) -> datetime:
        return datetime.combine(day, self.start, tzinfo=self.tz)

    def end_of_day(self, day: date) -> datetime:
        return datetime.combine(day, END_OF_DAY, tzinfo=self.tz)

    def is_open(self, instant: datetime) -> bool:
        loc = self.local(instant)
        return self.calendar.is_workday(loc.date()) and self.start <= loc.time() < self.end

    def next_workday(self, day: date) -> date:
        return self.calendar.add_workdays(day, 1)

    def previous_workday(self, day: date) -> date:
        current = day - timedelta(days=1)
        while not self.calendar.is_workday(current):
            current -= timedelta(days=1)
        return current

    def next_opening(self, instant: datetime) -> datetime:
        """`instant` itself when the office is open, else the start of the next office hours."""
        loc = self.local(instant)
        if self.calendar.is_workday(loc.date()):
            if self.start <= loc.time() < self.end:
                return loc
            if loc.time() < self.start:
                return self.opening(loc.date())
        return self.opening(self.next_workday(loc.date()))

    def after_workdays(self, instant: datetime, days: int) -> datetime:
        """The same office-hour clock time `days` working days later, counted from when the office
        next opens (a ticket disposed on Friday 15:00 is one working day old on Monday 15:00)."""
        anchor = self.next_opening(instant)
        day = self.calendar.add_workdays(anchor.date(), days)
        return datetime.combine(day, anchor.timetz().replace(tzinfo=None), tzinfo=self.tz)

    def reopen_until(self, resolved_at: datetime) -> datetime:
        """End of the last day a citizen may reopen a `selesai` ticket (10 working days)."""
        day = self.calendar.add_workdays(self.today(resolved_at), REOPEN_WINDOW_WORKDAYS)
        return self.end_of_day(day)


@dataclass(frozen=True)
class EventFact:
    actor: str
    from_status: str | None
    to_status: str
    from_opd: str | None
    to_opd: str | None
    created_at: datetime


@dataclass(frozen=True)
class TicketFacts:
    """What the rules need to know about one ticket."""

    id: int
    code: str
    status: str
    category_id: str
    opd_id: str
    due_at: datetime
    resolved_at: datetime | None
    events: tuple[EventFact, ...]

    @property
    def urgent(self) -> bool:
        return self.category_id in URGENT_CATEGORIES


@dataclass(frozen=True)
class DueAction:
    """One action for one ticket: due from `at`, void from `expires` (a superseded reminder)."""

    kind: Kind
    ticket_id: int
    deadline: datetime
    at: datetime
    expires: datetime | None = None

    @property
    def key(self) -> str:
        return self.deadline.astimezone(UTC).isoformat()


def is_reroute(event: EventFact) -> bool:
    return (
        event.from_status == Status.DIDISPOSISIKAN
        and event.to_status == Status.DIDISPOSISIKAN
        and event.from_opd != event.to_opd
    )


def reroutes(events: Iterable[EventFact]) -> list[EventFact]:
    """Re-routes ("bukan wewenang"), oldest first."""
    return [e for e in events if is_reroute(e)]


def last_action_at(facts: TicketFacts) -> datetime:
    """When somebody last did something on the ticket (status change, re-route, note)."""
    times = [e.created_at for e in facts.events if not e.actor.startswith("sistem:sla")]
    return max(times) if times else facts.due_at


def due_actions(facts: TicketFacts, clock: OfficeClock) -> list[DueAction]:
    """Every action the rules attach to this ticket's current state (due or not yet)."""
    status = Status(facts.status)
    out: list[DueAction] = []
    if status is Status.DIDISPOSISIKAN:
        since = last_action_at(facts)
        nudge = clock.after_workdays(since, FIRST_RESPONSE_NUDGE_WORKDAYS)
        escalate = clock.after_workdays(since, FIRST_RESPONSE_ESCALATION_WORKDAYS)
        out.append(DueAction(Kind.FIRST_RESPONSE_NUDGE, facts.id, nudge, nudge, expires=escalate))
        out.append(DueAction(Kind.FIRST_RESPONSE_ESCALATION, facts.id, escalate, escalate))
        bounced = reroutes(facts.events)
        if len(bounced) >= PING_PONG_LIMIT:
            second = bounced[PING_PONG_LIMIT - 1].created_at
            out.append(DueAction(Kind.PING_PONG_ESCALATION, facts.id, second, second))
    if status in OPEN_STATUSES:
        due_day = clock.today(facts.due_at)
        before = clock.opening(clock.previous_workday(due_day))
        on_day = clock.opening(due_day)
        out.append(DueAction(Kind.DUE_REMINDER, facts.id, facts.due_at, before, expires=on_day))
        out.append(DueAction(Kind.DUE_TODAY, facts.id, facts.due_at, on_day, expires=facts.due_at))
        overdue = facts.due_at + timedelta(seconds=1)
        out.append(DueAction(Kind.OVERDUE_ESCALATION, facts.id, facts.due_at, overdue))
    if status is Status.SELESAI and facts.resolved_at is not None:
        closes = clock.reopen_until(facts.resolved_at) + timedelta(seconds=1)
        out.append(DueAction(Kind.AUTO_CLOSE, facts.id, facts.resolved_at, closes))
    return out


def actions_now(facts: TicketFacts, clock: OfficeClock, now: datetime) -> list[DueAction]:
    """The actions to take at `now`: due, not superseded, and inside office hours (unless urgent)."""
    if not (facts.urgent or clock.is_open(now)):
        return []
    return [a for a in due_actions(facts, clock) if a.at <= now and (a.expires is None or now < a.expires)]


def digest_due(clock: OfficeClock, now: datetime) -> date | None:
    """The working day whose digest is due at `now` (from the start of office hours), else None."""
    return clock.today(now) if clock.is_open(now) else None
