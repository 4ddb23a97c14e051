"""Ticket store schema (SQLAlchemy 2). Migrations in bot/store/migrations mirror this file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops tzinfo otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ticket store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Citizen(Base):
    __tablename__ = "citizens"
    __table_args__ = (UniqueConstraint("channel", "external_user_id", name="uq_citizens_channel_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_user_id: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def sender_id(self) -> str:
        return f"{self.channel}:{self.external_user_id}"


class Opd(Base):
    __tablename__ = "opds"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    is_coordinator: Mapped[bool] = mapped_column(Boolean, default=False)


class Admin(Base):
    __tablename__ = "admins"
    __table_args__ = (UniqueConstraint("channel", "external_user_id", name="uq_admins_channel_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opd_id: Mapped[str] = mapped_column(ForeignKey("opds.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_user_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="admin")  # admin | koordinator
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AdminGroup(Base):
    """A registered Telegram/LINE chat (group, room or private) where an OPD's admins work."""

    __tablename__ = "admin_groups"
    __table_args__ = (UniqueConstraint("channel", "chat_id", name="uq_admin_groups_chat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opd_id: Mapped[str] = mapped_column(ForeignKey("opds.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(20), default="admin", server_default="admin")  # admin | koordinator
    title: Mapped[str | None] = mapped_column(String(200))
    registered_by: Mapped[str | None] = mapped_column(String(160))
    registered_at: Mapped[datetime | None]
    forum: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    """A Telegram supergroup with topics: each ticket gets its own topic there."""


class AdminInvite(Base):
    """A one-time registration code; only its hash is stored, so a database dump cannot be replayed."""

    __tablename__ = "admin_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    opd_id: Mapped[str] = mapped_column(ForeignKey("opds.id"))
    role: Mapped[str] = mapped_column(String(20), default="admin")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_chat: Mapped[str | None] = mapped_column(String(160))


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_opd_status", "opd_id", "status"),
        Index("ix_tickets_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    category_id: Mapped[str] = mapped_column(String(40))
    opd_id: Mapped[str] = mapped_column(ForeignKey("opds.id"))
    status: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    location_text: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    """Only when the citizen asked to be called back; shown to the handling OPD only."""
    kind: Mapped[str] = mapped_column(String(16), default="pengaduan", server_default="pengaduan")
    """`pengaduan` (complaint) or `informasi` (a question forwarded to the OPD): same routing and deadlines."""
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Danger to people or property: emergency numbers were given, admins and the scheduler put it first."""
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    nlu_confidence: Mapped[float | None] = mapped_column(Float)
    rating: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    """Sender + confirming message id, so a retried action call cannot file the same complaint twice."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    due_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    citizen: Mapped[Citizen] = relationship(lazy="joined", innerjoin=True)
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="ticket", order_by="Attachment.id", cascade="all, delete-orphan"
    )


class TicketEvent(Base):
    """Audit trail: one row per change (who, when, from, to, note)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    actor: Mapped[str] = mapped_column(String(160))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    from_opd: Mapped[str | None] = mapped_column(String(40))
    to_opd: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    """An admin's internal note (`/catatan`): never shown or sent to the citizen."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class Attachment(Base):
    """A photo or file a citizen sent, kept as the channel's file reference."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    file_ref: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")


class InboundMessage(Base):
    """Every inbound webhook/poll update, stored before it is acknowledged (de-duplicated)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_inbound_channel_external"),
        Index("ix_inbound_status_id", "status", "id"),
        Index("ix_inbound_sender_status", "sender_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    sender_id: Mapped[str] = mapped_column(String(160), index=True)
    chat_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(20))  # text, location, photo, postback, unsupported
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_token: Mapped[str | None] = mapped_column(String(36))
    """Set by each claim; finishing checks it, so a worker whose lease ran out cannot overwrite a newer claim."""
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """Outbound message written in the same transaction as its cause; a worker delivers it once."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_chat_status", "channel", "chat_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_token: Mapped[str | None] = mapped_column(String(36))
    via: Mapped[str | None] = mapped_column(String(12))  # how it went out: reply | push (LINE), send
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Handoff(Base):
    """A citizen asked for a person; the coordinator's group is told through the outbox."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class SlaAction(Base):
    """One reminder, escalation, digest or automatic close, done once.

    The unique (kind, subject, deadline) key is what makes the scheduler safe to restart and to run
    on several replicas: the row and its outbox messages commit together or not at all.
    `subject` is `ticket:<id>` or `chat:<channel>:<chat_id>`; `deadline` is the instant (ISO) or
    local date the action belongs to.
    """

    __tablename__ = "sla_actions"
    __table_args__ = (UniqueConstraint("kind", "subject", "deadline", name="uq_sla_actions_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NluDecision(Base):
    """One NLU decision on a citizen's free-text message, for the trainers' inbox (text masked)."""

    __tablename__ = "nlu_decisions"
    __table_args__ = (Index("ix_nlu_decisions_sender_id", "sender_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender_id: Mapped[str] = mapped_column(String(160))
    text: Mapped[str] = mapped_column(Text)
    """NIK and phone numbers masked before storing."""
    norm_text: Mapped[str] = mapped_column(String(500), index=True)
    intent: Mapped[str | None] = mapped_column(String(80))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    ranking: Mapped[list[Any]] = mapped_column(JSON, default=list)
    model_id: Mapped[str | None] = mapped_column(String(64))
    actions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """What happened next: the bot's actions after the message."""
    signal: Mapped[str | None] = mapped_column(String(32))
    """A free label from the desk: citizen_button | citizen_cancelled."""
    signal_intent: Mapped[str | None] = mapped_column(String(80))
    signal_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NluReview(Base):
    """A trainer's decision on one normalized text: labelled, discarded or removed for personal data."""

    __tablename__ = "nlu_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    norm_text: Mapped[str] = mapped_column(String(500), unique=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # labelled | discarded | pii
    intent: Mapped[str | None] = mapped_column(String(80))
    split: Mapped[str | None] = mapped_column(String(10))  # train | heldout
    reviewer: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A web account (trainer or koordinator); the password is an argon2 hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # trainer | koordinator
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class MessageRef(Base):
    """A chat message about a ticket: what the bot sent (outbox) or relayed, by the channel's message id.

    Replies map through these rows, never by parsing text: an admin replying to (or quoting) any
    bot post about a ticket reaches that ticket's citizen.
    """

    __tablename__ = "message_refs"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "message_id", name="uq_message_refs_message"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("relay_conversations.id"))
    """For a citizen who asked for a person before filing anything: the reply goes to that conversation."""
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RelayConversation(Base):
    """A citizen talking with a petugas: while open, their messages go to the admin chat, not to Rasa."""

    __tablename__ = "relay_conversations"
    __table_args__ = (Index("ix_relay_conversations_citizen", "channel", "user_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str] = mapped_column(String(128))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    opened_by: Mapped[str] = mapped_column(String(160))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(160))


class AdminTopic(Base):
    """A ticket's own topic in a Telegram forum group (recreated when an admin deletes it)."""

    __tablename__ = "admin_topics"
    __table_args__ = (
        UniqueConstraint("channel", "chat_id", "ticket_id", name="uq_admin_topics_ticket"),
        Index("ix_admin_topics_thread", "channel", "chat_id", "thread_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    thread_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
