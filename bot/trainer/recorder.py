"""Records every NLU decision on a citizen's message for the trainers' inbox.

Called by the gateway pipeline after each Rasa answer (one line there). Free text becomes an
`NluDecision` (masked before it is stored); a category button that overrules the model's guess,
or a cancel right after the guess, is attached as a free label to the decision it corrects.
Recording never blocks the citizen's answer: a failure is logged and the conversation goes on.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.categories import INTENT_PREFIX
from bot.masking import mask_text
from bot.store import models as m

logger = logging.getLogger(__name__)

CHOOSE_CATEGORY = "/choose_category"
SIGNAL_BUTTON = "citizen_button"
SIGNAL_CANCEL = "citizen_cancelled"
SIGNAL_WINDOW = timedelta(minutes=30)
CANCEL_INTENTS = {"cancel"}
PRIVATE_ANSWERS = {"location"}
"""Form answers that are not recorded at all (they are the citizen's address)."""
_PUNCT = re.compile(r"[^\w\s*]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The de-duplication key: lower case, punctuation dropped, spaces collapsed (after masking)."""
    return _SPACES.sub(" ", _PUNCT.sub(" ", text.lower())).strip()[:500]


def record_decision(
    sessions: sessionmaker[Session], channel: str, sender_id: str, message: str, replies: Any
) -> int | None:
    """Store the decision behind `replies` (a RasaClient.Replies); returns the new row id, if any."""
    nlu = getattr(replies, "nlu", None)
    if not nlu or not message:
        return None
    try:
        with sessions() as session, session.begin():
            return _record(session, channel, sender_id, message, nlu)
    except Exception:  # the inbox is a side channel: never fail the citizen's message on it
        logger.exception("recording the NLU decision failed")
        return None


def _record(session: Session, channel: str, sender_id: str, message: str, nlu: dict[str, Any]) -> int | None:
    now = datetime.now(UTC)
    if message.startswith("/"):
        if message.startswith(CHOOSE_CATEGORY):
            _category_button(session, sender_id, message, now)
        return None
    if nlu.get("requested_slot") in PRIVATE_ANSWERS:
        return None  # an address is personal data, and no example of a complaint
    intent = nlu.get("intent")
    if intent in CANCEL_INTENTS:
        previous = _previous(session, sender_id, now)
        if previous is not None and (previous.intent or "").startswith(INTENT_PREFIX) and previous.signal is None:
            previous.signal = SIGNAL_CANCEL
            previous.signal_note = f"Warga membatalkan tepat setelah tebakan kategori ({previous.intent})."
    text = mask_text(message.strip())
    row = m.NluDecision(
        channel=channel,
        sender_id=sender_id,
        text=text,
        norm_text=normalize(text),
        intent=intent,
        confidence=float(nlu.get("confidence") or 0.0),
        ranking=list(nlu.get("ranking") or [])[:3],
        model_id=nlu.get("model_id"),
        actions=list(nlu.get("actions") or [])[:20],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def _previous(session: Session, sender_id: str, now: datetime) -> m.NluDecision | None:
    row = session.scalars(
        select(m.NluDecision).where(m.NluDecision.sender_id == sender_id).order_by(m.NluDecision.id.desc()).limit(1)
    ).first()
    return row if row is not None and now - row.created_at <= SIGNAL_WINDOW else None


def _category_button(session: Session, sender_id: str, message: str, now: datetime) -> None:
    """The citizen's category button: a free label when it differs from the model's top guess."""
    try:
        category = json.loads(message[len(CHOOSE_CATEGORY) :] or "{}").get("category")
    except (ValueError, AttributeError):
        return
    if not category:
        return
    # The complaint text is the latest decision that guessed a category (later ones may be answers).
    rows = session.scalars(
        select(m.NluDecision)
        .where(m.NluDecision.sender_id == sender_id, m.NluDecision.intent.like(INTENT_PREFIX + "%"))
        .order_by(m.NluDecision.id.desc())
        .limit(1)
    ).all()
    if not rows or now - rows[0].created_at > SIGNAL_WINDOW:
        return
    decision = rows[0]
    chosen = INTENT_PREFIX + category
    if decision.intent == chosen:
        return
    decision.signal = SIGNAL_BUTTON
    decision.signal_intent = chosen if category != "lainnya" else None
    decision.signal_note = f"Warga memilih tombol kategori '{category}' (tebakan model: {decision.intent})."
