"""Which chats are admin chats: one-time invite codes, `/daftar KODE`, listing and revoking.

Codes are random, single-use and expiring; only their SHA-256 is stored, so a copy of the
database cannot be used to register a chat. Plain Python over the ticket store, no channel imports.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.categories import Taxonomy
from bot.store import models as m

ROLES = ("admin", "koordinator")
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or retyped from a phone
CODE_LENGTH = 10
DEFAULT_EXPIRY = timedelta(hours=48)
_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$", re.IGNORECASE)


class RegistryError(ValueError):
    """A request the registry refuses (unknown OPD, bad role, bad duration)."""


@dataclass(frozen=True)
class AdminChat:
    channel: str
    chat_id: str
    opd_id: str
    opd_name: str
    role: str
    title: str | None
    registered_by: str | None
    registered_at: datetime | None
    forum: bool = False

    @property
    def is_coordinator(self) -> bool:
        return self.role == "koordinator"

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.chat_id}"


@dataclass(frozen=True)
class Registration:
    """What `/daftar` did: `chat` on success, else `reason` in (unknown, expired, used)."""

    chat: AdminChat | None
    reason: str | None = None
    already: bool = False


def parse_duration(text: str) -> timedelta:
    """`48h`, `30m`, `7d` -> timedelta."""
    match = _DURATION.match(text or "")
    if not match:
        raise RegistryError(f"durasi tidak dikenal: {text!r} (contoh: 48h, 30m, 7d)")
    value, unit = int(match.group(1)), match.group(2).lower()
    delta = {"m": timedelta(minutes=value), "h": timedelta(hours=value), "d": timedelta(days=value)}[unit]
    if delta <= timedelta(0) or delta > timedelta(days=30):
        raise RegistryError("masa berlaku kode harus antara 1 menit dan 30 hari")
    return delta


def hash_code(code: str) -> str:
    normalized = re.sub(r"[^A-Z0-9]", "", code.upper())
    return hashlib.sha256(normalized.encode()).hexdigest()


def format_code(raw: str) -> str:
    return f"{raw[:5]}-{raw[5:]}"


class AdminRegistry:
    def __init__(self, sessions: sessionmaker[Session], taxonomy: Taxonomy) -> None:
        self.sessions = sessions
        self.taxonomy = taxonomy

    def invite(
        self, opd_id: str, role: str = "admin", expires: timedelta = DEFAULT_EXPIRY, *, now: datetime | None = None
    ) -> tuple[str, datetime]:
        """A new one-time code for `opd_id` and when it expires."""
        if opd_id not in self.taxonomy.opds:
            raise RegistryError(f"OPD tidak dikenal: {opd_id!r} (lihat 'aduan opd list')")
        if role not in ROLES:
            raise RegistryError(f"peran harus salah satu dari: {', '.join(ROLES)}")
        now = now or datetime.now(UTC)
        code = format_code("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))
        with self.sessions() as session, session.begin():
            session.add(
                m.AdminInvite(
                    code_hash=hash_code(code), opd_id=opd_id, role=role, created_at=now, expires_at=now + expires
                )
            )
        return code, now + expires

    def register(
        self,
        channel: str,
        chat_id: str,
        code: str,
        *,
        title: str | None = None,
        actor: str | None = None,
        forum: bool = False,
        now: datetime | None = None,
    ) -> Registration:
        """Use a code for this chat. The code is spent only when the chat is linked (one transaction)."""
        now = now or datetime.now(UTC)
        with self.sessions() as session, session.begin():
            invite = session.scalars(
                select(m.AdminInvite).where(m.AdminInvite.code_hash == hash_code(code)).with_for_update()
            ).one_or_none()
            if invite is None:
                return Registration(None, "unknown")
            if invite.used_at is not None:
                return Registration(None, "used")
            if invite.expires_at <= now:
                return Registration(None, "expired")
            invite.used_at = now
            invite.used_by_chat = f"{channel}:{chat_id}"
            row = session.scalars(
                select(m.AdminGroup).where(m.AdminGroup.channel == channel, m.AdminGroup.chat_id == chat_id)
            ).one_or_none()
            already = row is not None
            if row is None:
                row = m.AdminGroup(channel=channel, chat_id=chat_id, opd_id=invite.opd_id)
                session.add(row)
            row.opd_id = invite.opd_id
            row.role = invite.role
            row.title = (title or "")[:200] or row.title
            row.registered_by = (actor or "")[:160] or None
            row.registered_at = now
            row.forum = forum
            session.flush()
            return Registration(self._view(row), already=already)

    def chat(self, channel: str, chat_id: str) -> AdminChat | None:
        with self.sessions() as session:
            row = session.scalars(
                select(m.AdminGroup).where(m.AdminGroup.channel == channel, m.AdminGroup.chat_id == str(chat_id))
            ).one_or_none()
            return self._view(row) if row else None

    def list(self) -> list[AdminChat]:
        with self.sessions() as session:
            rows = session.scalars(select(m.AdminGroup).order_by(m.AdminGroup.opd_id, m.AdminGroup.id)).all()
            return [self._view(r) for r in rows]

    def revoke(self, chat: str) -> int:
        """Unlink `channel:chat_id` (or a bare chat id on any channel); returns how many chats were removed."""
        channel, sep, chat_id = chat.partition(":")
        with self.sessions() as session, session.begin():
            stmt = delete(m.AdminGroup)
            stmt = (
                stmt.where(m.AdminGroup.channel == channel, m.AdminGroup.chat_id == chat_id)
                if sep and channel in ("telegram", "line")
                else stmt.where(m.AdminGroup.chat_id == chat)
            )
            return session.execute(stmt).rowcount

    def _view(self, row: m.AdminGroup) -> AdminChat:
        opd = self.taxonomy.opds.get(row.opd_id)
        return AdminChat(
            channel=row.channel,
            chat_id=row.chat_id,
            opd_id=row.opd_id,
            opd_name=opd.name if opd else row.opd_id,
            role=row.role,
            title=row.title,
            registered_by=row.registered_by,
            registered_at=row.registered_at,
            forum=bool(row.forum),
        )
