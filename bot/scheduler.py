"""One pass of reminders, escalations, digests and automatic closes (`aduan sla tick`).

Everything is derived from ticket rows at the given instant (nothing is held in memory). Each
action is recorded once in `sla_actions` under a unique (kind, subject, deadline) key, inserted
with ON CONFLICT DO NOTHING in the same transaction as its outbox rows: a restart never resends,
and two schedulers ticking together on PostgreSQL send each message once (the second insert
waits for the first commit, then does nothing).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot import notify
from bot.domain import sla
from bot.domain.lifecycle import Status
from bot.domain.workdays import format_tanggal
from bot.masking import mask_text
from bot.store import models as m
from bot.texts import render
from bot.tickets import TicketService

if TYPE_CHECKING:
    from bot.config import Settings

logger = logging.getLogger(__name__)

TICK_SECONDS = 60.0
HISTORY_LINES = 10
DIGEST_CHANGE_LINES = 15
SCHEDULED = (Status.BARU, Status.DIDISPOSISIKAN, Status.DIPROSES, Status.SELESAI)


class _Skip(Exception):
    """The action no longer applies (the ticket moved on since it was read): record nothing."""


@dataclass(frozen=True)
class Done:
    kind: str
    subject: str
    deadline: str
    summary: str

    def line(self) -> str:
        return f"{self.kind} {self.summary} [{self.subject} @ {self.deadline}]"


def _facts(ticket: m.Ticket) -> sla.TicketFacts:
    return sla.TicketFacts(
        id=ticket.id,
        code=ticket.code,
        status=ticket.status,
        category_id=ticket.category_id,
        opd_id=ticket.opd_id,
        due_at=ticket.due_at,
        resolved_at=ticket.resolved_at,
        events=tuple(
            sla.EventFact(e.actor, e.from_status, e.to_status, e.from_opd, e.to_opd, e.created_at)
            for e in ticket.events
        ),
    )


class Scheduler:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        service: TicketService | None = None,
        *,
        on_outbox: Callable[[], None] | None = None,
        housekeeping: Callable[[datetime], str | None] | None = None,
    ) -> None:
        """`housekeeping` runs once a working day with the digests: the hook for the retention purge
        (bot/retention.py) once it exists."""
        self.sessions = sessions
        self.service = service or TicketService(sessions)
        self.taxonomy = self.service.taxonomy
        self.clock = self.service.clock
        self.on_outbox = on_outbox
        self.housekeeping = housekeeping

    @classmethod
    def for_settings(
        cls,
        sessions: sessionmaker[Session],
        settings: Settings,
        on_outbox: Callable[[], None] | None = None,
        housekeeping: Callable[[datetime], str | None] | None = None,
    ) -> Scheduler:
        """The gateway's scheduler, in the configured city time zone (the gateway passes the retention purge)."""
        service = TicketService(sessions, tz=ZoneInfo(settings.timezone))
        return cls(sessions, service, on_outbox=on_outbox, housekeeping=housekeeping)

    # --- one pass -----------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> list[Done]:
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            raise ValueError("tick needs an aware datetime")
        done = self._ticket_actions(now) + self._digests(now) + self._housekeeping(now)
        for d in done:
            logger.info("sla: %s", d.line())
        return done

    async def run_forever(self, interval: float = TICK_SECONDS) -> None:
        """The gateway's periodic task: a pass a minute; a failing pass is logged and retried.

        The pass runs in a thread (blocking database work); the outbox worker is woken on the loop.
        """
        while True:
            try:
                if await asyncio.to_thread(self.tick) and self.on_outbox:
                    self.on_outbox()
            except Exception:
                logger.exception("sla tick failed; retrying in %.0f s", interval)
            await asyncio.sleep(interval)

    # --- tickets ------------------------------------------------------------------------------

    def _ticket_actions(self, now: datetime) -> list[Done]:
        with self.sessions() as session:
            tickets = session.scalars(
                select(m.Ticket)
                .where(m.Ticket.status.in_([s.value for s in SCHEDULED]))
                .options(selectinload(m.Ticket.events))
            ).all()
            candidates = [(t.id, t.code, a) for t in tickets for a in sla.actions_now(_facts(t), self.clock, now)]
            ids = {tid for tid, _, _ in candidates}
            known = set()
            if ids:
                known = set(
                    session.execute(
                        select(m.SlaAction.kind, m.SlaAction.subject, m.SlaAction.deadline).where(
                            m.SlaAction.ticket_id.in_(ids)
                        )
                    ).tuples()
                )
        done = []
        for ticket_id, _code, action in candidates:
            subject = f"ticket:{ticket_id}"
            if (action.kind.value, subject, action.key) in known:
                continue
            result = self._once(
                action.kind.value,
                subject,
                action.key,
                now,
                lambda s, a=action: self._handle(s, a, now),
                ticket_id=ticket_id,
            )
            if result:
                done.append(result)
        return done

    def _once(
        self,
        kind: str,
        subject: str,
        deadline: str,
        now: datetime,
        handler: Callable[[Session], str],
        *,
        ticket_id: int | None = None,
    ) -> Done | None:
        """Record the action and run its handler in one transaction; None when already done."""
        try:
            with self.sessions() as session, session.begin():
                dialect = session.get_bind().dialect.name
                insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
                stmt = (
                    insert(m.SlaAction)
                    .values(kind=kind, subject=subject, deadline=deadline, ticket_id=ticket_id, created_at=now)
                    .on_conflict_do_nothing(index_elements=["kind", "subject", "deadline"])
                    .returning(m.SlaAction.id)
                )
                if session.execute(stmt).scalar() is None:  # somebody (a replica, an earlier pass) did it
                    return None
                summary = handler(session)
                return Done(kind, subject, deadline, summary)
        except _Skip:
            return None

    def _handle(self, session: Session, action: sla.DueAction, now: datetime) -> str:
        ticket = session.scalar(select(m.Ticket).where(m.Ticket.id == action.ticket_id).with_for_update(of=m.Ticket))
        if ticket is None:
            raise _Skip
        session.refresh(ticket, ["events"])
        if action not in sla.actions_now(_facts(ticket), self.clock, now):
            raise _Skip
        view = self.service._view(session, ticket.id)
        category = self.taxonomy.get(ticket.category_id).label
        opd = self.taxonomy.opds[ticket.opd_id].name if ticket.opd_id in self.taxonomy.opds else ticket.opd_id
        values = {
            "code": ticket.code,
            "category": category,
            "opd": opd,
            "due": format_tanggal(ticket.due_at),
            "status": view.status_label,
        }
        kind = action.kind
        if kind is sla.Kind.FIRST_RESPONSE_NUDGE:
            return self._to_opd(session, ticket, render("sla_first_response_nudge", **values))
        if kind is sla.Kind.DUE_REMINDER:
            return self._to_opd(session, ticket, render("sla_due_reminder", **values))
        if kind is sla.Kind.DUE_TODAY:
            return self._to_opd(session, ticket, render("sla_due_today", **values))
        history = self._history(ticket)
        if kind is sla.Kind.FIRST_RESPONSE_ESCALATION:
            return self._to_coordinator(
                session, ticket, render("sla_first_response_escalation", **values, history=history)
            )
        if kind is sla.Kind.PING_PONG_ESCALATION:
            count = len(sla.reroutes(_facts(ticket).events))
            text = render("sla_ping_pong_escalation", **values, count=count, history=history)
            return self._to_coordinator(session, ticket, text)
        if kind is sla.Kind.OVERDUE_ESCALATION:
            line = self._to_coordinator(session, ticket, render("sla_overdue_escalation", **values, history=history))
            notify.to_citizen(session, view, render("sla_overdue_citizen", **values), ticket_id=ticket.id)
            return line + " + warga"
        if kind is sla.Kind.AUTO_CLOSE:
            closed, _ = self.service.apply_transition(
                session,
                ticket,
                Status.DITUTUP.value,
                actor="sistem:sla",
                note=f"Ditutup otomatis {sla.REOPEN_WINDOW_WORKDAYS} hari kerja setelah selesai",
                now=now,
                notify_citizen=False,
            )
            notify.to_citizen(session, closed, render("sla_auto_closed", **values), ticket_id=ticket.id)
            return f"{ticket.code} ditutup → warga"
        raise AssertionError(kind)

    def _to_opd(self, session: Session, ticket: m.Ticket, text: str) -> str:
        rows = notify.to_opd(session, ticket.opd_id, {"text": text}, ticket_id=ticket.id)
        if rows:
            return f"{ticket.code} → {ticket.opd_id} ({len(rows)} chat)"
        # An OPD without a registered chat must not make the reminder vanish: the coordinator gets it.
        return self._to_coordinator(session, ticket, text, note=f"{ticket.opd_id} belum punya chat terdaftar")

    def _to_coordinator(self, session: Session, ticket: m.Ticket, text: str, note: str | None = None) -> str:
        rows = notify.to_coordinator(session, self.taxonomy, {"text": text}, ticket_id=ticket.id)
        suffix = f"; {note}" if note else ""
        if not rows:
            logger.warning("sla: no coordinator chat registered for %s", ticket.code)
            return f"{ticket.code} → koordinator (belum ada chat terdaftar{suffix})"
        return f"{ticket.code} → koordinator ({len(rows)} chat{suffix})"

    def _history(self, ticket: m.Ticket) -> str:
        """The audit trail for an escalation: citizens shown as "warga", notes masked (omitted if confidential)."""
        lines = []
        for e in ticket.events[-HISTORY_LINES:]:
            lines.append(
                render(
                    "sla_history_line",
                    at=self.clock.local(e.created_at).strftime("%d/%m %H:%M"),
                    actor=_actor(e.actor),
                    change=_change(e.from_status, e.to_status, e.from_opd, e.to_opd),
                    note="" if ticket.confidential or not e.note else f" — {mask_text(e.note)}",
                )
            )
        return "\n".join(lines)

    # --- digests ------------------------------------------------------------------------------

    def _digests(self, now: datetime) -> list[Done]:
        day = sla.digest_due(self.clock, now)
        if day is None:
            return []
        with self.sessions() as session:
            chats = [
                (g.opd_id, g.channel, g.chat_id)
                for g in session.scalars(select(m.AdminGroup).order_by(m.AdminGroup.id))
            ]
            known = set(
                session.scalars(
                    select(m.SlaAction.subject).where(
                        m.SlaAction.kind == sla.Kind.DIGEST.value, m.SlaAction.deadline == day.isoformat()
                    )
                )
            )
        done = []
        for opd_id, channel, chat_id in chats:
            subject = f"chat:{channel}:{chat_id}"
            if subject in known:
                continue
            result = self._once(
                sla.Kind.DIGEST.value,
                subject,
                day.isoformat(),
                now,
                lambda s, o=opd_id, c=channel, i=chat_id, sub=subject: self._digest(s, o, c, i, sub, day, now),
            )
            if result:
                done.append(result)
        return done

    def _digest(
        self, session: Session, opd_id: str, channel: str, chat_id: str, subject: str, day: date, now: datetime
    ) -> str:
        coordinator = opd_id == self.taxonomy.coordinator_opd
        previous = session.scalar(
            select(m.SlaAction.created_at)
            .where(
                m.SlaAction.kind == sla.Kind.DIGEST.value, m.SlaAction.subject == subject, m.SlaAction.created_at < now
            )
            .order_by(m.SlaAction.created_at.desc())
            .limit(1)
        )
        tickets = session.scalars(
            select(m.Ticket) if coordinator else select(m.Ticket).where(m.Ticket.opd_id == opd_id)
        ).all()
        since = previous or now - timedelta(days=1)
        changes_query = (
            select(m.TicketEvent, m.Ticket.code)
            .join(m.Ticket, m.Ticket.id == m.TicketEvent.ticket_id)
            .where(m.TicketEvent.created_at > since, m.TicketEvent.created_at <= now)
            .order_by(m.TicketEvent.created_at, m.TicketEvent.id)
        )
        if not coordinator:
            changes_query = changes_query.where(
                (m.Ticket.opd_id == opd_id) | (m.TicketEvent.from_opd == opd_id) | (m.TicketEvent.to_opd == opd_id)
            )
        changes = session.execute(changes_query).all()
        stats = self._stats(tickets, now)
        name = self.taxonomy.opds[opd_id].name if opd_id in self.taxonomy.opds else opd_id
        date_text = format_tanggal(day)
        mine = stats.get(None if coordinator else opd_id, _Stats())
        if previous is not None and not changes:
            text = render("sla_digest_no_changes", opd=name, date=date_text, open=mine.open, overdue=mine.overdue)
            notify.queue(session, channel, chat_id, {"text": text})
            return f"{subject} (tidak ada perubahan)"
        parts = [
            render("sla_digest_header", opd=name, date=date_text),
            render(
                "sla_digest_body",
                open=mine.open,
                age_new=mine.age_new,
                age_mid=mine.age_mid,
                age_old=mine.age_old,
                due_today=mine.due_today,
                overdue=mine.overdue,
                waiting=mine.waiting,
            ),
        ]
        if coordinator:
            parts.append(render("sla_digest_compliance", compliance=mine.compliance))
            parts.append(render("sla_digest_per_opd_header"))
            for oid in sorted(k for k in stats if k is not None):
                s = stats[oid]
                label = self.taxonomy.opds[oid].name if oid in self.taxonomy.opds else oid
                parts.append(
                    render("sla_digest_opd_line", opd=label, open=s.open, overdue=s.overdue, compliance=s.compliance)
                )
        if changes:
            parts.append(render("sla_digest_changes_header"))
            for event, code in changes[:DIGEST_CHANGE_LINES]:
                change = _change(event.from_status, event.to_status, event.from_opd, event.to_opd)
                parts.append(render("sla_digest_change_line", code=code, change=change))
            if len(changes) > DIGEST_CHANGE_LINES:
                parts.append(render("sla_digest_more", count=len(changes) - DIGEST_CHANGE_LINES))
        notify.queue(session, channel, chat_id, {"text": "\n".join(parts)})
        return f"{subject} ({mine.open} terbuka, {len(changes)} perubahan)"

    def _stats(self, tickets: Any, now: datetime) -> dict[str | None, _Stats]:
        """Per OPD (key None = all): open by age, due today, overdue, waiting, SLA compliance."""
        today = self.clock.today(now)
        stats: dict[str | None, _Stats] = {None: _Stats()}
        for t in tickets:
            for key in (None, t.opd_id):
                s = stats.setdefault(key, _Stats())
                status = Status(t.status)
                if status in sla.OPEN_STATUSES:
                    s.open += 1
                    age = self.clock.calendar.workdays_between(self.clock.today(t.created_at), today)
                    if age <= 2:
                        s.age_new += 1
                    elif age <= 5:
                        s.age_mid += 1
                    else:
                        s.age_old += 1
                    if self.clock.today(t.due_at) == today:
                        s.due_today += 1
                    if t.due_at < now:
                        s.overdue += 1
                elif status is Status.SELESAI:
                    s.waiting += 1
                if t.resolved_at is not None:
                    s.resolved += 1
                    s.on_time += int(t.resolved_at <= t.due_at)
        return stats

    # --- daily housekeeping -------------------------------------------------------------------

    def _housekeeping(self, now: datetime) -> list[Done]:
        day = sla.digest_due(self.clock, now)
        if day is None or self.housekeeping is None:
            return []
        hook = self.housekeeping
        result = self._once("housekeeping", "system", day.isoformat(), now, lambda s: hook(now) or "ok")
        return [result] if result else []


@dataclass
class _Stats:
    open: int = 0
    age_new: int = 0
    age_mid: int = 0
    age_old: int = 0
    due_today: int = 0
    overdue: int = 0
    waiting: int = 0
    resolved: int = 0
    on_time: int = 0

    @property
    def compliance(self) -> str:
        return f"{round(100 * self.on_time / self.resolved)}%" if self.resolved else "–"


def _actor(actor: str) -> str:
    """Citizens appear as "warga" only: anonymous means anonymous wherever an admin looks."""
    if actor.startswith("warga:"):
        return "warga"
    return actor.split(":", 1)[0] if actor.startswith("sistem:") else actor


def _change(from_status: str | None, to_status: str, from_opd: str | None, to_opd: str | None) -> str:
    if from_status == to_status and from_opd == to_opd:
        return to_status
    moved = f" ({from_opd} → {to_opd})" if from_opd != to_opd and from_opd and to_opd else ""
    return f"{from_status or '–'} → {to_status}{moved}"
