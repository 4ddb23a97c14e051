"""Web accounts (trainer, koordinator): argon2 hashes, one-time passwords, login throttling.

Throttling has two layers: an account locks for LOCK_MINUTES after MAX_FAILURES wrong passwords
in a row (kept in the database, so it holds across gateway replicas and restarts), and one client
address may fail at most MAX_FAILURES_PER_ADDRESS times per window (in memory, against guessing
many names). Unknown names and wrong passwords get the same answer.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store import models as m

ROLES = ("trainer", "koordinator")
MAX_FAILURES = 5
LOCK_MINUTES = 15
MAX_FAILURES_PER_ADDRESS = 20
ADDRESS_WINDOW_SECONDS = 15 * 60
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AccountError(ValueError):
    """A refused account operation, with a message fit for the user."""


class Throttled(AccountError):
    """Too many failed logins; try later."""


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    must_change_password: bool


def _account(user: m.User) -> Account:
    return Account(user.id, user.name, user.role, user.must_change_password)


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(session: Session, name: str, role: str) -> tuple[Account, str]:
    """A new account with a one-time password (shown once; it must be changed at first login)."""
    name = name.strip()
    if role not in ROLES:
        raise AccountError(f"Peran harus salah satu dari: {', '.join(ROLES)}.")
    if not name or len(name) > 80:
        raise AccountError("Nama pengguna wajib diisi (maks. 80 karakter).")
    if session.scalar(select(m.User).where(m.User.name == name)) is not None:
        raise AccountError(f"Pengguna '{name}' sudah ada.")
    password = one_time_password()
    user = m.User(name=name, role=role, password_hash=_hasher.hash(password), must_change_password=True)
    session.add(user)
    session.flush()
    return _account(user), password


class AddressThrottle:
    """Failed logins per client address in a sliding window (in memory)."""

    def __init__(self, limit: int = MAX_FAILURES_PER_ADDRESS, window: float = ADDRESS_WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str) -> deque[float]:
        now = time.monotonic()
        failures = self._failures.setdefault(address, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def blocked(self, address: str) -> bool:
        with self._lock:
            return len(self._recent(address)) >= self.limit

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(time.monotonic())


def authenticate(session: Session, name: str, password: str, address: str, throttle: AddressThrottle) -> Account:
    """The account for a correct name and password; AccountError/Throttled otherwise."""
    if throttle.blocked(address):
        raise Throttled("Terlalu banyak percobaan masuk. Silakan coba lagi dalam beberapa menit.")
    now = datetime.now(UTC)
    user = session.scalar(select(m.User).where(m.User.name == name.strip()).with_for_update())
    if user is not None and user.locked_until is not None and user.locked_until > now:
        throttle.failed(address)
        raise Throttled("Terlalu banyak percobaan masuk. Silakan coba lagi dalam beberapa menit.")
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        if user is None:
            raise VerifyMismatchError
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        throttle.failed(address)
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                user.failed_logins = 0
        raise AccountError("Nama pengguna atau kata sandi salah.") from None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return _account(user)


def change_password(session: Session, user_id: int, current: str, new: str) -> Account:
    user = session.get(m.User, user_id, with_for_update=True)
    if user is None:
        raise AccountError("Akun tidak ditemukan.")
    try:
        _hasher.verify(user.password_hash, current)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise AccountError("Kata sandi saat ini salah.") from None
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Kata sandi baru minimal {MIN_PASSWORD_LENGTH} karakter.")
    if new == current:
        raise AccountError("Kata sandi baru harus berbeda dari yang lama.")
    user.password_hash = _hasher.hash(new)
    user.must_change_password = False
    return _account(user)


def get_account(session: Session, user_id: int) -> Account | None:
    user = session.get(m.User, user_id)
    return _account(user) if user is not None else None
