"""The ticket store as one service: create, look up, change status, re-route.

Actions, the gateway and the CLI all go through this class, so every rule of the lifecycle,
routing and deadlines holds whichever door a change came through. Every change writes its
audit event and the citizen's notification (outbox) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot import notify
from bot.config import get_settings
from bot.domain import sla
from bot.domain.categories import Taxonomy, load_taxonomy
from bot.domain.codes import new_code, normalize_code
from bot.domain.lifecycle import (
    STATUS_LABELS,
    Status,
    TransitionError,
    check_transition,
)
from bot.domain.workdays import WorkCalendar, format_tanggal
from bot.masking import find_phone, mask_at_rest, mask_phone, mask_text, wants_callback
from bot.store import models as m
from bot.store.db import session_factory

CODE_ATTEMPTS = 8
ANONYMOUS_ACTOR = "warga (anonim)"


def is_foreign_key_error(exc: IntegrityError) -> bool:
    """SQLite says 'FOREIGN KEY constraint failed'; PostgreSQL 'violates foreign key constraint'."""
    return "foreign key" in str(exc.orig).lower()


class TicketNotFound(LookupError):
    """No ticket with that code (or not one the asker may see)."""


@dataclass(frozen=True)
class NewTicket:
    channel: str
    user_id: str
    chat_id: str
    description: str
    category_id: str | None
    citizen_name: str | None = None
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    anonymous: bool = False
    confidential: bool = False
    nlu_confidence: float | None = None
    photos: Sequence[str] = ()
    idempotency_key: str | None = None
    contact_phone: str | None = None
    """Kept only when the citizen asked to be called back; otherwise taken from such a request in the text."""
    kind: str = "pengaduan"
    urgent: bool = False


@dataclass(frozen=True)
class EventView:
    actor: str
    from_status: str | None
    to_status: str
    from_opd: str | None
    to_opd: str | None
    note: str | None
    created_at: datetime
    internal: bool = False


@dataclass(frozen=True)
class TicketView:
    """A detached, read-only picture of a ticket for replies, admin views and JSON."""

    code: str
    status: str
    category_id: str
    category_label: str
    opd_id: str
    opd_name: str
    description: str
    location_text: str | None
    latitude: float | None
    longitude: float | None
    anonymous: bool
    confidential: bool
    channel: str
    chat_id: str
    citizen_sender: str
    citizen_name: str | None
    created_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    photos: tuple[str, ...] = ()
    events: tuple[EventView, ...] = field(default=())
    contact_phone: str | None = None
    kind: str = "pengaduan"
    urgent: bool = False

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[Status(self.status)]

    @property
    def due_text(self) -> str:
        return format_tanggal(self.due_at)

    def actor_label(self, actor: str) -> str:
        """Who made a change, as an admin may see it: an anonymous citizen stays anonymous."""
        return ANONYMOUS_ACTOR if self.anonymous and actor.startswith("warga:") else actor

    def public_answers(self) -> list[str]:
        """Notes written by the handling officers (not the citizen's or the system's), masked."""
        return [mask_text(e.note) for e in self.events if e.note and not e.actor.startswith(("warga:", "sistem:"))]

    def public_dict(self) -> dict:
        """What anyone holding the code may see: status, OPD, due date, officers' answers.

        Never the citizen's identity or chat, and never the description (a confidential ticket's
        content stays with the handling OPD; the chat that filed it has the full detail).
        """
        return {
            "code": self.code,
            "status": self.status,
            "status_label": self.status_label,
            "category": self.category_label,
            "opd": self.opd_name,
            "created": format_tanggal(self.created_at),
            "due": self.due_text,
            "answers": self.public_answers(),
        }

    def admin_dict(self, viewer_opd: str | None = None) -> dict:
        """For admin views and `--json`: personal data masked, identity hidden when anonymous.

        The call-back number is readable only for the handling OPD (`viewer_opd`), masked otherwise.
        """
        phone = self.contact_phone
        if phone and viewer_opd != self.opd_id:
            phone = mask_phone(phone)
        return {
            "code": self.code,
            "status": self.status,
            "category": self.category_id,
            "opd": self.opd_id,
            "description": mask_text(self.description),
            "location": mask_text(self.location_text) if self.location_text else None,
            "anonymous": self.anonymous,
            "confidential": self.confidential,
            "citizen": "(anonim)" if self.anonymous else (self.citizen_name or self.citizen_sender),
            "contact_phone": phone,
            "channel": self.channel,
            "created_at": self.created_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "rating": self.rating,
            "photos": len(self.photos),
            "events": [
                {
                    "actor": self.actor_label(e.actor),
                    "from": e.from_status,
                    "to": e.to_status,
                    "from_opd": e.from_opd,
                    "to_opd": e.to_opd,
                    "note": mask_text(e.note) if e.note else None,
                    "at": e.created_at.isoformat(),
                }
                for e in self.events
            ],
        }


class TicketService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        taxonomy: Taxonomy | None = None,
        calendar: WorkCalendar | None = None,
        tz: ZoneInfo | None = None,
    ) -> None:
        self.sessions = sessions
        self.taxonomy = taxonomy or load_taxonomy()
        self.calendar = calendar or WorkCalendar(self.taxonomy.cuti_bersama)
        self.clock = sla.OfficeClock(self.calendar, tz or ZoneInfo(get_settings().timezone))

    @classmethod
    def from_url(cls, url: str) -> TicketService:
        return cls(session_factory(url))

    # --- reference data -------------------------------------------------------------------

    def sync_opds(self) -> int:
        """Make the opds table match categories.yml (names updated, new ones added)."""
        with self.sessions() as session, session.begin():
            existing = {o.id: o for o in session.scalars(select(m.Opd))}
            for opd in self.taxonomy.opds.values():
                row = existing.get(opd.id)
                coordinator = opd.id == self.taxonomy.coordinator_opd
                if row is None:
                    session.add(m.Opd(id=opd.id, name=opd.name, is_coordinator=coordinator))
                else:
                    row.name, row.is_coordinator = opd.name, coordinator
        return len(self.taxonomy.opds)

    def list_opds(self) -> list[tuple[str, str, int]]:
        """(id, name, open tickets) per OPD."""
        with self.sessions() as session:
            opds = session.scalars(select(m.Opd).order_by(m.Opd.id)).all()
            open_statuses = [s.value for s in (Status.BARU, Status.DIDISPOSISIKAN, Status.DIPROSES)]
            counts: dict[str, int] = {}
            for opd_id in session.scalars(select(m.Ticket.opd_id).where(m.Ticket.status.in_(open_statuses))):
                counts[opd_id] = counts.get(opd_id, 0) + 1
            return [(o.id, o.name, counts.get(o.id, 0)) for o in opds]

    # --- creation -------------------------------------------------------------------------

    def create_ticket(self, new: NewTicket, *, now: datetime | None = None) -> TicketView:
        """Write a ticket routed to its category's OPD, with its first audit event.

        A clear category goes straight to the OPD (`didisposisikan`); an unclear one (`lainnya`)
        stays `baru` with the coordinator, who sorts it. Code collisions are retried.
        """
        if not new.description or not new.description.strip():
            raise ValueError("description is required")
        now = now or datetime.now(UTC)
        if new.idempotency_key and (existing := self._by_idempotency_key(new.idempotency_key)):
            return existing
        callback = new.contact_phone or (find_phone(new.description) if wants_callback(new.description) else None)
        description = mask_at_rest(new.description.strip()) or ""
        location_text = mask_at_rest(new.location_text)
        category = self.taxonomy.get(new.category_id)
        routed = category.id in self.taxonomy.categories
        status = Status.DIDISPOSISIKAN if routed else Status.BARU
        due_at = self.calendar.deadline(now, category.sla_days, self.clock.tz)
        last_error: Exception | None = None
        for _ in range(CODE_ATTEMPTS):
            try:
                with self.sessions() as session, session.begin():
                    citizen = self._citizen(session, new)
                    ticket = m.Ticket(
                        code=new_code(),
                        citizen_id=citizen.id,
                        category_id=category.id,
                        opd_id=category.opd_id,
                        status=status.value,
                        description=description,
                        location_text=location_text,
                        contact_phone=callback,
                        latitude=new.latitude,
                        longitude=new.longitude,
                        anonymous=new.anonymous,
                        confidential=new.confidential,
                        channel=new.channel,
                        chat_id=new.chat_id,
                        nlu_confidence=new.nlu_confidence,
                        idempotency_key=new.idempotency_key,
                        kind=new.kind,
                        urgent=new.urgent,
                        created_at=now,
                        updated_at=now,
                        due_at=due_at,
                    )
                    ticket.citizen = citizen
                    session.add(ticket)
                    session.flush()
                    session.add(
                        m.TicketEvent(
                            ticket_id=ticket.id,
                            actor=f"warga:{new.channel}:{new.user_id}",
                            from_status=None,
                            to_status=Status.BARU.value,
                            to_opd=self.taxonomy.coordinator_opd,
                            note="Laporan diterima",
                            created_at=now,
                        )
                    )
                    if routed:
                        session.add(
                            m.TicketEvent(
                                ticket_id=ticket.id,
                                actor="sistem:routing",
                                from_status=Status.BARU.value,
                                to_status=Status.DIDISPOSISIKAN.value,
                                from_opd=self.taxonomy.coordinator_opd,
                                to_opd=category.opd_id,
                                note=f"Diteruskan otomatis sesuai kategori {category.id}",
                                created_at=now,
                            )
                        )
                    for ref in new.photos:
                        session.add(m.Attachment(ticket_id=ticket.id, kind="photo", channel=new.channel, file_ref=ref))
                    session.flush()
                    view = self._view(session, ticket.id)
                    notify.new_ticket(session, self.taxonomy, view, ticket_id=ticket.id)  # same commit
                    return view
            except IntegrityError as exc:  # code, citizen or retried request raced another writer
                if new.idempotency_key and (existing := self._by_idempotency_key(new.idempotency_key)):
                    return existing
                if is_foreign_key_error(exc):  # not a race: retrying cannot help, and the code is not to blame
                    raise RuntimeError(
                        f"ticket refers to a missing row (OPD {category.opd_id!r} not synced? run `aduan db upgrade`):"
                        f" {exc.orig}"
                    ) from exc
                last_error = exc
        raise RuntimeError(f"could not allocate a unique ticket code: {last_error}")

    def _by_idempotency_key(self, key: str) -> TicketView | None:
        with self.sessions() as session:
            ticket_id = session.scalar(select(m.Ticket.id).where(m.Ticket.idempotency_key == key))
            return self._view(session, ticket_id) if ticket_id is not None else None

    def _citizen(self, session: Session, new: NewTicket) -> m.Citizen:
        citizen = session.scalar(
            select(m.Citizen).where(m.Citizen.channel == new.channel, m.Citizen.external_user_id == new.user_id)
        )
        if citizen is None:
            citizen = m.Citizen(
                channel=new.channel, external_user_id=new.user_id, chat_id=new.chat_id, name=new.citizen_name
            )
            session.add(citizen)
            session.flush()
        else:
            citizen.chat_id = new.chat_id
            if new.citizen_name:
                citizen.name = new.citizen_name
        return citizen

    def request_handoff(self, channel: str, user_id: str, text: str) -> int:
        """Record that a citizen wants a person and tell the coordinator's chats (same commit)."""
        with self.sessions() as session, session.begin():
            session.add(m.Handoff(channel=channel, user_id=user_id, text=mask_at_rest(text)))
            return notify.handoff_requested(session, self.taxonomy, channel, user_id, text)

    # --- look-ups -------------------------------------------------------------------------

    def get(self, code: str) -> TicketView:
        with self.sessions() as session:
            return self._view(session, self._ticket(session, code).id)

    def for_citizen(self, channel: str, user_id: str, code: str | None = None, limit: int = 10) -> list[TicketView]:
        """A citizen's own tickets, newest first; with `code`, that one only if it is theirs."""
        with self.sessions() as session:
            query = (
                select(m.Ticket.id)
                .join(m.Citizen)
                .where(m.Citizen.channel == channel, m.Citizen.external_user_id == user_id)
                .order_by(m.Ticket.created_at.desc(), m.Ticket.id.desc())
                .limit(limit)
            )
            if code is not None:
                canonical = normalize_code(code)
                if canonical is None:
                    return []
                query = query.where(m.Ticket.code == canonical)
            return [self._view(session, tid) for tid in session.scalars(query).all()]

    def list(self, status: str | None = None, opd_id: str | None = None, limit: int = 50) -> list[TicketView]:
        with self.sessions() as session:
            query = select(m.Ticket.id).order_by(m.Ticket.created_at.desc(), m.Ticket.id.desc()).limit(limit)
            if status:
                query = query.where(m.Ticket.status == Status(status).value)
            if opd_id:
                query = query.where(m.Ticket.opd_id == opd_id)
            return [self._view(session, tid) for tid in session.scalars(query).all()]

    def open_queue(self, opd_id: str | None, limit: int = 30) -> list[TicketView]:
        """Open tickets (not selesai/ditutup/ditolak), oldest first; all OPDs when `opd_id` is None."""
        closed = (Status.SELESAI.value, Status.DITUTUP.value, Status.DITOLAK.value)
        with self.sessions() as session:
            query = (
                select(m.Ticket.id)
                .where(m.Ticket.status.not_in(closed))
                .order_by(m.Ticket.created_at, m.Ticket.id)
                .limit(limit)
            )
            if opd_id:
                query = query.where(m.Ticket.opd_id == opd_id)
            return [self._view(session, tid) for tid in session.scalars(query).all()]

    def add_note(self, code: str, *, actor: str, note: str, now: datetime | None = None) -> TicketView:
        """An admin's internal note: an audit event that changes nothing and reaches no citizen."""
        if not note.strip():
            raise ValueError("note is required")
        now = now or datetime.now(UTC)
        with self.sessions() as session, session.begin():
            ticket = self._ticket(session, code, for_update=True)
            session.add(
                m.TicketEvent(
                    ticket_id=ticket.id,
                    actor=actor,
                    from_status=ticket.status,
                    to_status=ticket.status,
                    from_opd=ticket.opd_id,
                    to_opd=ticket.opd_id,
                    note=note.strip(),
                    internal=True,
                    created_at=now,
                )
            )
            session.flush()
            return self._view(session, ticket.id)

    # --- lifecycle ------------------------------------------------------------------------

    def change_status(
        self,
        code: str,
        target: str,
        *,
        actor: str,
        note: str | None = None,
        opd_id: str | None = None,
        rating: int | None = None,
        now: datetime | None = None,
        by_coordinator: bool | None = None,
    ) -> TicketView:
        """Apply one lifecycle transition; an illegal one raises TransitionError and writes nothing.

        `opd_id` re-routes (`didisposisikan` → `didisposisikan`, or the first disposition of a
        coordinator's `baru` ticket). The citizen is notified through the outbox in the same commit.
        `by_coordinator` says the koordinator acts (`/disposisi`): only they may re-route a ticket
        that has already bounced twice; None infers it from `actor`.
        """
        now = now or datetime.now(UTC)
        with self.sessions() as session, session.begin():
            ticket = self._ticket(session, code, for_update=True)
            view, _ = self.apply_transition(
                session, ticket, target, actor=actor, note=note, opd_id=opd_id, now=now, by_coordinator=by_coordinator
            )
            if rating is not None:
                ticket.rating = rating
                view = self._view(session, ticket.id)
            return view

    def apply_transition(
        self,
        session: Session,
        ticket: m.Ticket,
        target: str,
        *,
        actor: str,
        note: str | None = None,
        opd_id: str | None = None,
        now: datetime,
        notify_citizen: bool = True,
        by_coordinator: bool | None = None,
    ) -> tuple[TicketView, Status]:
        """The transition inside the caller's transaction (the scheduler records its action with it).

        The caller holds the ticket row locked. Returns the new view and the source status.
        """
        source = Status(ticket.status)
        reopen_open = True
        if source is Status.SELESAI and ticket.resolved_at is not None:
            reopen_open = now <= self.clock.reopen_until(ticket.resolved_at)
        check_transition(source, target, note, reopen_window_open=reopen_open)
        dst = Status(target)
        from_opd = ticket.opd_id
        rerouting = source is Status.DIDISPOSISIKAN and dst is Status.DIDISPOSISIKAN
        if opd_id is not None:
            if opd_id not in self.taxonomy.opds:
                raise TransitionError(f"OPD '{opd_id}' tidak dikenal.")
            if dst is not Status.DIDISPOSISIKAN:
                raise TransitionError("OPD tujuan hanya dapat dipilih saat mendisposisikan laporan.")
            if source is Status.DIDISPOSISIKAN and opd_id == ticket.opd_id:
                raise TransitionError("Laporan sudah berada di OPD tersebut.")
            coordinator = self.is_coordinator_actor(actor) if by_coordinator is None else by_coordinator
            if rerouting and not coordinator:
                self._refuse_ping_pong(session, ticket)
            ticket.opd_id = opd_id
        elif rerouting:
            raise TransitionError("Pengalihan laporan wajib menyebutkan OPD tujuan.")
        elif (
            source is Status.BARU
            and dst is Status.DIDISPOSISIKAN
            and ticket.category_id not in self.taxonomy.categories
        ):
            raise TransitionError("Laporan berkategori 'lainnya' wajib diberi OPD tujuan.")
        ticket.status = dst.value
        ticket.updated_at = now
        category = self.taxonomy.categories.get(ticket.category_id, self.taxonomy.fallback)
        if dst is Status.SELESAI:
            ticket.resolved_at = now
        if dst in (Status.DITUTUP, Status.DITOLAK):
            ticket.closed_at = now
        if dst is Status.DIDISPOSISIKAN and ticket.opd_id != from_opd:
            ticket.due_at = self.calendar.deadline(now, category.sla_days, self.clock.tz)
        if source is Status.SELESAI and dst is Status.DIPROSES:  # reopened: a fresh deadline
            ticket.due_at = self.calendar.deadline(now, category.sla_days, self.clock.tz)
            ticket.resolved_at = None
        note = mask_at_rest(note)
        session.add(
            m.TicketEvent(
                ticket_id=ticket.id,
                actor=actor,
                from_status=source.value,
                to_status=dst.value,
                from_opd=from_opd,
                to_opd=ticket.opd_id,
                note=note,
                created_at=now,
            )
        )
        session.flush()
        view = self._view(session, ticket.id)
        if notify_citizen and not actor.startswith("warga:"):  # the citizen's own change is answered in chat
            if dst is Status.SELESAI:
                notify.resolved_ask_feedback(session, self.taxonomy, view, note, ticket_id=ticket.id)
            else:
                notify.status_changed(session, self.taxonomy, view, source, note, ticket_id=ticket.id)
        return view, source

    def is_coordinator_actor(self, actor: str) -> bool:
        """The coordinator (or an operator at the CLI, or the system) may always re-route."""
        return actor.startswith(("koordinator", "cli:", "sistem:", f"admin:{self.taxonomy.coordinator_opd}"))

    def _refuse_ping_pong(self, session: Session, ticket: m.Ticket) -> None:
        events = session.scalars(select(m.TicketEvent).where(m.TicketEvent.ticket_id == ticket.id)).all()
        facts = [sla.EventFact(e.actor, e.from_status, e.to_status, e.from_opd, e.to_opd, e.created_at) for e in events]
        if len(sla.reroutes(facts)) >= sla.PING_PONG_LIMIT:
            raise TransitionError(
                f"Laporan ini sudah {sla.PING_PONG_LIMIT} kali dialihkan antar-OPD, sehingga penentuan OPD "
                "kini diputuskan oleh koordinator (/disposisi). Mohon hubungi koordinator bila laporan ini "
                "memang bukan kewenangan OPD Anda."
            )

    def rate(self, code: str, channel: str, user_id: str, rating: int, *, now: datetime | None = None) -> TicketView:
        """Record a citizen's 1–5 rating as an audit event and show it to the OPD.

        It does not close the ticket: the citizen may still reopen within the window, and the
        scheduler closes it when the window ends.
        """
        if not 1 <= rating <= 5:
            raise ValueError("rating must be 1..5")
        now = now or datetime.now(UTC)
        with self.sessions() as session, session.begin():
            ticket = self._own_ticket(session, code, channel, user_id)
            if ticket.status not in (Status.SELESAI, Status.DITUTUP):
                raise TransitionError("Penilaian hanya dapat diberikan untuk laporan yang sudah selesai.")
            ticket.rating = rating
            ticket.updated_at = now
            session.add(
                m.TicketEvent(
                    ticket_id=ticket.id,
                    actor=f"warga:{channel}:{user_id}",
                    from_status=ticket.status,
                    to_status=ticket.status,
                    from_opd=ticket.opd_id,
                    to_opd=ticket.opd_id,
                    note=f"Penilaian warga: {rating}/5",
                    created_at=now,
                )
            )
            session.flush()
            view = self._view(session, ticket.id)
            notify.rating_to_opd(session, view, rating, ticket_id=ticket.id)
            return view

    def reopen(self, code: str, channel: str, user_id: str, reason: str, *, now: datetime | None = None) -> TicketView:
        """The citizen says the problem is still there: back to `diproses` (within the window)."""
        if not reason or not reason.strip():
            raise TransitionError("Mohon sebutkan apa yang masih belum selesai.")
        now = now or datetime.now(UTC)
        with self.sessions() as session, session.begin():
            ticket = self._own_ticket(session, code, channel, user_id)
            view, _ = self.apply_transition(
                session,
                ticket,
                Status.DIPROSES.value,
                actor=f"warga:{channel}:{user_id}",
                note=f"Dibuka kembali oleh warga: {reason.strip()}",
                now=now,
            )
            notify.reopened_to_opd(session, view, reason.strip(), ticket_id=ticket.id)
            return view

    def reopen_until(self, view: TicketView) -> datetime | None:
        return self.clock.reopen_until(view.resolved_at) if view.resolved_at else None

    def _own_ticket(self, session: Session, code: str, channel: str, user_id: str) -> m.Ticket:
        ticket = self._ticket(session, code, for_update=True)
        citizen = ticket.citizen
        if (citizen.channel, citizen.external_user_id) != (channel, user_id):
            raise TicketNotFound(code)
        return ticket

    # --- helpers --------------------------------------------------------------------------

    def _ticket(self, session: Session, code: str, *, for_update: bool = False) -> m.Ticket:
        canonical = normalize_code(code)
        if canonical is None:
            raise TicketNotFound(code)
        query = select(m.Ticket).where(m.Ticket.code == canonical)
        if for_update:
            query = query.with_for_update(of=m.Ticket)
        ticket = session.scalar(query)
        if ticket is None:
            raise TicketNotFound(canonical)
        return ticket

    def _view(self, session: Session, ticket_id: int) -> TicketView:
        ticket = session.scalar(
            select(m.Ticket)
            .where(m.Ticket.id == ticket_id)
            .options(selectinload(m.Ticket.events), selectinload(m.Ticket.attachments))
        )
        assert ticket is not None
        category = self.taxonomy.get(ticket.category_id)
        opd = self.taxonomy.opds.get(ticket.opd_id)
        return TicketView(
            code=ticket.code,
            status=ticket.status,
            category_id=ticket.category_id,
            category_label=category.label,
            opd_id=ticket.opd_id,
            opd_name=opd.name if opd else ticket.opd_id,
            description=ticket.description,
            location_text=ticket.location_text,
            latitude=ticket.latitude,
            longitude=ticket.longitude,
            anonymous=ticket.anonymous,
            confidential=ticket.confidential,
            channel=ticket.channel,
            chat_id=ticket.chat_id,
            citizen_sender=ticket.citizen.sender_id,
            citizen_name=ticket.citizen.name,
            created_at=ticket.created_at,
            due_at=ticket.due_at,
            resolved_at=ticket.resolved_at,
            closed_at=ticket.closed_at,
            rating=ticket.rating,
            contact_phone=ticket.contact_phone,
            kind=ticket.kind,
            urgent=ticket.urgent,
            photos=tuple(a.file_ref for a in ticket.attachments if a.kind == "photo"),
            events=tuple(
                EventView(
                    e.actor, e.from_status, e.to_status, e.from_opd, e.to_opd, e.note, e.created_at, bool(e.internal)
                )
                for e in ticket.events
            ),
        )
