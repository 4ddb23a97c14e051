"""The trainers' NLU inbox: recorded decisions plus free labels from the desk, de-duplicated and ranked.

Evidence (human corrections) comes from four places:
- the citizen picked another category button than the model's guess (recorded by the recorder);
- the citizen cancelled right after the guess (recorded by the recorder);
- an admin re-routed the ticket to an OPD of another category ("bukan wewenang"), and
- the koordinator sorted a `lainnya` ticket into an OPD; both derived here from ticket_events.
Order: items with human evidence first, then lowest confidence, then most frequent.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.categories import FALLBACK_ID, INTENT_PREFIX, Taxonomy
from bot.masking import mask_text
from bot.store import models as m
from bot.trainer.data import HELDOUT_EVERY, NluFiles, append_example, known_texts
from bot.trainer.recorder import SIGNAL_BUTTON, SIGNAL_CANCEL, normalize

REVIEW_BELOW = 0.8
"""Decisions at least this confident, with no human evidence, are not worth a trainer's time."""
SCAN_LIMIT = 5000
CONVERSATION_INTENT = "out_of_scope"
"""What "bukan aduan" labels a text as when the trainer picks no other conversational intent."""


class InboxError(ValueError):
    """A trainer action that cannot be applied (unknown item, unknown intent); nothing changed."""


@dataclass
class Evidence:
    kind: str  # citizen_button | citizen_cancelled | admin_reroute | koordinator_sorted
    note: str
    intent: str | None = None

    @property
    def label(self) -> str:
        return {
            SIGNAL_BUTTON: "Pilihan warga",
            SIGNAL_CANCEL: "Warga membatalkan",
            "admin_reroute": "Dialihkan admin",
            "koordinator_sorted": "Dipilah koordinator",
        }.get(self.kind, self.kind)


@dataclass
class InboxItem:
    id: int
    text: str
    norm_text: str
    count: int
    intent: str | None
    confidence: float
    ranking: list[dict[str, Any]]
    model_id: str | None
    channel: str
    actions: list[str]
    last_seen: datetime
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def suggestion(self) -> str | None:
        """The label the evidence points to, else the model's own guess."""
        for ev in self.evidence:
            if ev.intent:
                return ev.intent
        return self.intent

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "count": self.count,
            "intent": self.intent,
            "confidence": self.confidence,
            "ranking": self.ranking,
            "model_id": self.model_id,
            "channel": self.channel,
            "actions": self.actions,
            "suggestion": self.suggestion,
            "evidence": [{"kind": e.kind, "note": e.note, "intent": e.intent} for e in self.evidence],
            "last_seen": self.last_seen.isoformat(),
        }


def pii_key(norm_text: str) -> str:
    """Texts removed for personal data are remembered only by a hash, never by their words."""
    return "pii:" + hashlib.sha256(norm_text.encode()).hexdigest()


def _desk_evidence(session: Session, taxonomy: Taxonomy) -> dict[int, list[Evidence]]:
    """Re-routing events mapped to the decision that classified the ticket's complaint."""
    by_opd: dict[str, list[str]] = {}
    for cid, category in taxonomy.categories.items():
        by_opd.setdefault(category.opd_id, []).append(cid)
    rows = session.execute(
        select(m.TicketEvent, m.Ticket, m.Citizen)
        .join(m.Ticket, m.Ticket.id == m.TicketEvent.ticket_id)
        .join(m.Citizen, m.Citizen.id == m.Ticket.citizen_id)
        .where(m.TicketEvent.to_opd.is_not(None), m.TicketEvent.from_opd.is_not(None))
        .where(m.TicketEvent.to_opd != m.TicketEvent.from_opd)
        .order_by(m.TicketEvent.id)
    ).all()
    out: dict[int, list[Evidence]] = {}
    for event, ticket, citizen in rows:
        targets = by_opd.get(event.to_opd or "", [])
        if not targets:
            continue  # to the koordinator (an escalation), not a statement about the category
        decision = _decision_for_ticket(session, f"{citizen.channel}:{citizen.external_user_id}", ticket)
        if decision is None:
            continue
        guessed = (decision.intent or "").removeprefix(INTENT_PREFIX)
        ranked = [str(r.get("name", "")).removeprefix(INTENT_PREFIX) for r in decision.ranking or []]
        category = next((c for c in ranked if c in targets), targets[0])
        if category == guessed:
            continue
        sorted_lainnya = event.from_opd == taxonomy.coordinator_opd and ticket.category_id in (None, FALLBACK_ID)
        kind = "koordinator_sorted" if sorted_lainnya else "admin_reroute"
        who = "Koordinator" if sorted_lainnya else "Admin"
        note = (
            f"{who} ({mask_text(event.actor)}) mengalihkan {ticket.code} dari {event.from_opd} ke {event.to_opd} "
            f"(kategori {category})" + (f": {mask_text(event.note)}" if event.note else "")
        )
        out.setdefault(decision.id, []).append(Evidence(kind, note, INTENT_PREFIX + category))
    return out


def _decision_for_ticket(session: Session, sender_id: str, ticket: m.Ticket) -> m.NluDecision | None:
    """The decision on the ticket's own complaint text, else the sender's last complaint guess before it."""
    candidates = session.scalars(
        select(m.NluDecision)
        .where(m.NluDecision.sender_id == sender_id, m.NluDecision.created_at <= ticket.created_at)
        .order_by(m.NluDecision.id.desc())
        .limit(50)
    ).all()
    wanted = normalize(mask_text(ticket.description or ""))
    for row in candidates:
        if row.norm_text == wanted:
            return row
    return next((r for r in candidates if (r.intent or "").startswith(INTENT_PREFIX)), None)


def build_inbox(
    session: Session, taxonomy: Taxonomy, files: NluFiles | None = None, limit: int = 200
) -> list[InboxItem]:
    files = files or NluFiles()
    reviewed = set(session.scalars(select(m.NluReview.norm_text)))
    known = known_texts(files)
    desk = _desk_evidence(session, taxonomy)
    decisions = session.scalars(select(m.NluDecision).order_by(m.NluDecision.id.desc()).limit(SCAN_LIMIT)).all()
    groups: dict[str, InboxItem] = {}
    counts: Counter[str] = Counter()
    for d in decisions:
        key = d.norm_text
        if not key or key in reviewed or key in known or pii_key(key) in reviewed:
            continue
        counts[key] += 1
        evidence = list(desk.get(d.id, []))
        if d.signal:
            evidence.append(Evidence(d.signal, d.signal_note or "", d.signal_intent))
        item = groups.get(key)
        if item is None:
            groups[key] = InboxItem(
                id=d.id,
                text=d.text,
                norm_text=key,
                count=0,
                intent=d.intent,
                confidence=d.confidence,
                ranking=list(d.ranking or []),
                model_id=d.model_id,
                channel=d.channel,
                actions=list(d.actions or []),
                last_seen=d.created_at,
                evidence=evidence,
            )
        else:
            item.evidence.extend(evidence)
            item.confidence = min(item.confidence, d.confidence)
    items = []
    for key, item in groups.items():
        item.count = counts[key]
        if item.evidence or item.confidence < REVIEW_BELOW or item.intent in (None, "nlu_fallback"):
            items.append(item)
    items.sort(key=lambda i: (0 if i.evidence else 1, i.confidence, -i.count, -i.id))
    return items[:limit]


def _decision(session: Session, item_id: int) -> m.NluDecision:
    row = session.get(m.NluDecision, item_id)
    if row is None:
        raise InboxError(f"Item {item_id} tidak ditemukan.")
    return row


def label(
    session: Session, item_id: int, intent: str, reviewer: str, intents: list[str], files: NluFiles | None = None
) -> m.NluReview:
    """Accept/choose a label: written to the curated YAML (every fifth held out) and marked reviewed."""
    if intent not in intents:
        raise InboxError(f"Intent '{intent}' tidak dikenal.")
    files = files or NluFiles()
    row = _decision(session, item_id)
    if session.scalar(select(m.NluReview).where(m.NluReview.norm_text == row.norm_text)) is not None:
        raise InboxError(f"Item {item_id} sudah ditinjau.")
    labelled = session.scalar(select(func.count()).select_from(m.NluReview).where(m.NluReview.status == "labelled"))
    split = "heldout" if (int(labelled or 0) + 1) % HELDOUT_EVERY == 0 else "train"
    review = m.NluReview(
        norm_text=row.norm_text,
        text=row.text,
        status="labelled",
        intent=intent,
        split=split,
        reviewer=reviewer,
        created_at=datetime.now(UTC),
    )
    session.add(review)
    session.flush()
    append_example(files.curated_heldout if split == "heldout" else files.curated_train, intent, row.text)
    return review


def discard(session: Session, item_id: int, reviewer: str) -> m.NluReview:
    row = _decision(session, item_id)
    review = m.NluReview(norm_text=row.norm_text, text=row.text, status="discarded", reviewer=reviewer)
    session.add(review)
    session.flush()
    return review


def remove_personal_data(session: Session, item_id: int, reviewer: str) -> int:
    """Delete every recorded copy of the text; only a hash is kept so it does not come back."""
    row = _decision(session, item_id)
    key = row.norm_text
    rows = session.scalars(select(m.NluDecision).where(m.NluDecision.norm_text == key)).all()
    for r in rows:
        session.delete(r)
    session.add(m.NluReview(norm_text=pii_key(key), text="[dihapus: data pribadi]", status="pii", reviewer=reviewer))
    session.flush()
    return len(rows)


def purge_decisions(session: Session, older_than: datetime) -> int:
    """Delete recorded decisions older than the retention cut-off (ADUAN_RETENTION_DAYS); labels stay."""
    rows = session.scalars(select(m.NluDecision).where(m.NluDecision.created_at < older_than)).all()
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)
