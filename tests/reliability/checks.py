"""After a run: compare what the citizens, the admin chats and the fakes saw with the database.

The ticket store, the inbox and the outbox are the gateway's own record; the fakes are what
Telegram and LINE would have delivered. Every mismatch is a duplicate or a loss, and is listed.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from bot.gateway.channels.line import MAX_TEXT as LINE_MAX_TEXT
from bot.gateway.channels.telegram import split_text
from bot.store import models as m
from bot.store.db import session_factory
from bot.texts import render
from tests.reliability.cluster import Cluster
from tests.reliability.load import AdminChat, LoadDriver, admin_entries, codes_in, entry_texts
from tests.reliability.privacy import Finding, scan_logs, scan_messages

JSON = dict[str, Any]

# The daily digest (due once per working day in office hours) lists ticket codes: it is not a
# ticket post, so it counts neither as a duplicate nor as a post that should not have been there.
_FIELDS = {"opd": "\0", "date": "", "open": 0, "overdue": 0}
DIGEST_PREFIXES = tuple(render(key, **_FIELDS).split("\0")[0] for key in ("sla_digest_header", "sla_digest_no_changes"))


@dataclass
class Verdict:
    """Every invariant of the suite, with the evidence for each violation."""

    tickets_expected: int = 0
    tickets_found: int = 0
    wrong_codes: list[str] = field(default_factory=list)
    admin_missing: list[str] = field(default_factory=list)
    admin_duplicates: list[str] = field(default_factory=list)
    admin_misrouted: list[str] = field(default_factory=list)
    admin_posts: int = 0
    admin_digests: int = 0
    outbox_rows: int = 0
    outbox_unsent: list[str] = field(default_factory=list)
    outbox_duplicates: list[str] = field(default_factory=list)
    outbox_lost: list[str] = field(default_factory=list)
    inbound_rows: int = 0
    inbound_unfinished: list[str] = field(default_factory=list)
    inbound_unanswered: list[str] = field(default_factory=list)
    acked: int = 0
    not_acked: int = 0
    acked_not_stored: list[str] = field(default_factory=list)
    five_xx: list[str] = field(default_factory=list)
    privacy: list[Finding] = field(default_factory=list)
    log_lines: int = 0
    admin_messages_scanned: int = 0

    @property
    def duplicates(self) -> int:
        extra_tickets = max(self.tickets_found - self.tickets_expected, 0)
        return extra_tickets + len(self.admin_duplicates) + len(self.outbox_duplicates)

    @property
    def lost(self) -> int:
        return (
            len(self.acked_not_stored)
            + len(self.inbound_unfinished)
            + len(self.inbound_unanswered)
            + len(self.outbox_lost)
            + len(self.outbox_unsent)
            + len(self.admin_missing)
        )

    def problems(self) -> list[str]:
        out: list[str] = []
        if self.tickets_found != self.tickets_expected:
            out.append(f"tickets: {self.tickets_found} in the store, {self.tickets_expected} expected")
        for name in (
            "wrong_codes",
            "admin_missing",
            "admin_duplicates",
            "admin_misrouted",
            "outbox_unsent",
            "outbox_duplicates",
            "outbox_lost",
            "inbound_unfinished",
            "inbound_unanswered",
            "acked_not_stored",
            "five_xx",
        ):
            items = getattr(self, name)
            if items:
                out.append(f"{name} ({len(items)}): {items[:8]}")
        if self.privacy:
            out.append(f"privacy ({len(self.privacy)}): {[str(f) for f in self.privacy[:8]]}")
        return out

    def summary(self) -> JSON:
        return {
            "tickets_expected": self.tickets_expected,
            "tickets_found": self.tickets_found,
            "admin_posts": self.admin_posts,
            "admin_digests": self.admin_digests,
            "outbox_rows": self.outbox_rows,
            "inbound_rows": self.inbound_rows,
            "acked": self.acked,
            "not_acked": self.not_acked,
            "duplicates": self.duplicates,
            "lost": self.lost,
            "privacy_findings": len(self.privacy),
            "log_lines_scanned": self.log_lines,
            "admin_messages_scanned": self.admin_messages_scanned,
            "problems": self.problems(),
        }


def drain(cluster: Cluster, timeout: float = 600.0) -> float:
    """Wait until nothing is pending in the inbox or the outbox; returns how long that took."""
    sessions = session_factory(cluster.database_url)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with sessions() as session:
                pending = sum(
                    session.scalar(select(func.count()).where(model.status == "pending")) or 0
                    for model in (m.InboundMessage, m.OutboxMessage)
                )
        except Exception:
            pending = -1  # the database is coming back
        if pending == 0:
            time.sleep(3)  # a straggler that is still in flight would show up now
            return time.monotonic() - started
        time.sleep(1)
    return time.monotonic() - started


def _row_texts(row: m.OutboxMessage) -> list[str]:
    """What one outbox row becomes at the channel (the channel adapters' own conversions)."""
    payload = row.payload or {}
    texts: list[str] = []
    if row.channel == "telegram":
        if payload.get("image") or payload.get("image_ref"):
            texts.append(payload.get("caption") or "")
        texts += split_text(payload.get("text") or "")
    elif row.channel == "line":
        if payload.get("image_ref"):
            texts.append(payload.get("caption") or "(foto)")  # no public URL in the suite
        if payload.get("text"):
            texts.append(payload["text"][:LINE_MAX_TEXT])
    return texts


def _delivered_texts(cluster: Cluster) -> dict[tuple[str, str], Counter[str]]:
    out: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for entry in cluster.telegram.sent(method=("sendMessage", "sendPhoto")):
        out[("telegram", str(entry["chat_id"]))][entry.get("text") or ""] += 1
    for entry in cluster.line.sent(kind=("reply", "push")):
        for text in entry_texts(entry):
            out[("line", str(entry["user_id"]))][text] += 1
    return out


def verify(
    cluster: Cluster,
    driver: LoadDriver,
    fault_windows: list[tuple[float, float]] | None = None,
    scan_privacy: bool = True,
) -> Verdict:
    """All invariants at once (call after `drain`)."""
    v = Verdict(tickets_expected=driver.expected_tickets)
    sessions = session_factory(cluster.database_url)
    people = {p.sender: p for p in driver.people}
    with sessions() as session:
        tickets = session.execute(select(m.Ticket.code, m.Ticket.channel, m.Ticket.chat_id, m.Ticket.opd_id)).all()
        inbound = session.execute(
            select(m.InboundMessage.id, m.InboundMessage.channel, m.InboundMessage.external_id).add_columns(
                m.InboundMessage.sender_id, m.InboundMessage.status, m.InboundMessage.chat_id
            )
        ).all()
        answered = dict(
            session.execute(
                select(m.OutboxMessage.inbound_id, func.count())
                .where(m.OutboxMessage.inbound_id.is_not(None))
                .group_by(m.OutboxMessage.inbound_id)
            ).all()
        )
        outbox = list(session.scalars(select(m.OutboxMessage).order_by(m.OutboxMessage.id)).all())
        session.expunge_all()

    # Tickets: exactly the expected number, each citizen exactly the codes they were given.
    v.tickets_found = len(tickets)
    stored: dict[str, list[str]] = defaultdict(list)
    for code, channel, chat_id, _opd in tickets:
        stored[f"{channel}:{chat_id}"].append(code)
    for sender, codes in stored.items():
        if sender not in people:
            v.wrong_codes.append(f"{sender}: tickets {codes} of nobody in the load")
    for person in driver.people:
        mine = sorted(stored.get(person.sender, []))
        if mine != sorted(person.codes) or len(person.codes) != driver.complaints:
            v.wrong_codes.append(f"{person.sender}: store {mine}, citizen got {sorted(person.codes)}")
        seen = set(codes_in(_chat_texts(cluster, person.channel, person.user_id)))
        if seen - set(person.codes):
            v.wrong_codes.append(f"{person.sender}: saw codes of others {sorted(seen - set(person.codes))}")

    # Admin chats: each ticket once in every chat that should get it, never in another.
    koordinator = [c for c in driver.admin_chats if c.role == "koordinator"]
    per_chat: dict[tuple[str, str], Counter[str]] = {}
    for chat in driver.admin_chats:
        counts: Counter[str] = Counter()
        for entry in admin_entries(cluster, chat):
            for text in entry_texts(entry):
                if text.startswith(DIGEST_PREFIXES):
                    v.admin_digests += 1
                    continue
                counts.update(set(codes_in([text])))
        per_chat[(chat.channel, chat.chat_id)] = counts
        v.admin_posts += sum(counts.values())
    for code, _channel, _chat, opd_id in tickets:
        expected: list[AdminChat] = [c for c in driver.admin_chats if c.opd_id == opd_id] + koordinator
        keys = {(c.channel, c.chat_id) for c in expected}
        for key in keys:
            n = per_chat[key][code]
            if n == 0:
                v.admin_missing.append(f"{code} never reached {key}")
            elif n > 1:
                v.admin_duplicates.append(f"{code} reached {key} {n} times")
        for key, counts in per_chat.items():
            if key not in keys and counts[code]:
                v.admin_misrouted.append(f"{code} ({opd_id}) reached {key}")

    # Outbox: every row sent, and delivered exactly once (fakes' texts per chat = rows' texts per chat).
    v.outbox_rows = len(outbox)
    expected_texts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in outbox:
        if row.status != "sent":
            v.outbox_unsent.append(f"outbox {row.id} {row.channel}:{row.chat_id} {row.status}: {row.last_error}")
            continue
        for text in _row_texts(row):
            expected_texts[(row.channel, row.chat_id)][text] += 1
    delivered = _delivered_texts(cluster)
    for key in set(expected_texts) | set(delivered):
        want, got = expected_texts.get(key, Counter()), delivered.get(key, Counter())
        for text, n in (got - want).items():
            v.outbox_duplicates.append(f"{key} got {n} extra: {text[:60]!r}")
        for text, n in (want - got).items():
            v.outbox_lost.append(f"{key} missing {n}: {text[:60]!r}")

    # Inbox: every acknowledged message stored once, finished, and answered.
    v.inbound_rows = len(inbound)
    by_external = {(channel, external): (row_id, status) for row_id, channel, external, _s, status, _c in inbound}
    for row_id, _channel, _external, sender, status, _chat in inbound:
        if status != "done":
            v.inbound_unfinished.append(f"inbound {row_id} of {sender}: {status}")
        elif sender in people and not answered.get(row_id):
            v.inbound_unanswered.append(f"inbound {row_id} of {sender} has no answer")
    pending_tg = {str(u["update_id"]) for u in cluster.telegram.pending_updates()}
    for sent in driver.stats.messages:
        if sent.channel == "telegram" and sent.external_id in pending_tg:
            sent.acked = False
        if not sent.acked:
            v.not_acked += 1
            continue
        v.acked += 1
        if (sent.channel, sent.external_id) not in by_external:
            v.acked_not_stored.append(f"{sent.sender} {sent.kind} {sent.external_id}")

    # No 5xx, except while a dependency was down (then 5xx is the honest answer: "retry").
    windows = fault_windows or []
    for at, status in driver.stats.five_xx:
        if not any(start - 1 <= at <= end + 5 for start, end in windows):
            v.five_xx.append(f"HTTP {status} at {time.strftime('%H:%M:%S', time.localtime(at))}")

    if scan_privacy:
        logs = cluster.log_files()
        v.log_lines = sum(len(p.read_text(errors="replace").splitlines()) for p in logs)
        messages = list(admin_messages(cluster, driver))
        v.admin_messages_scanned = len(messages)
        v.privacy = scan_logs(logs, driver.invented) + scan_messages(messages, driver.invented)
    return v


def admin_messages(cluster: Cluster, driver: LoadDriver) -> list[tuple[str, Any]]:
    """Everything an admin chat was shown: texts, captions, buttons, LINE messages (Flex cards too)."""
    out: list[tuple[str, Any]] = []
    for chat in driver.admin_chats:
        for entry in admin_entries(cluster, chat):
            where = f"admin {chat.channel}:{chat.opd_id}"
            if chat.channel == "telegram":
                out.append((where, {"text": entry.get("text"), "reply_markup": entry.get("reply_markup")}))
            else:
                out.append((where, entry.get("messages")))
    return out


def _chat_texts(cluster: Cluster, channel: str, chat_id: str) -> list[str]:
    if channel == "telegram":
        return [e.get("text") or "" for e in cluster.telegram.sent(chat_id, ("sendMessage", "sendPhoto"))]
    return [t for e in cluster.line.sent(chat_id, ("reply", "push")) for t in entry_texts(e)]
