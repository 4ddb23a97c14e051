"""`aduan eval conversations`: drive every scripted citizen through the stack and judge the tickets.

Success is read from the ticket store, not from the chat: the right tickets were filed with what the
citizen gave (category, location words, shared point, photo, privacy, urgency, kind), or a question
got an answer without starting the complaint form.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.evaluation.channels import Chat, TelegramChat, WebChat
from bot.evaluation.citizens import Citizen, Conversation, Report


@dataclass
class Outcome:
    citizen: str
    group: str
    channel: str
    success: bool
    reasons: list[str]
    turns: int
    loops: int
    ended: str
    expected: int
    right_category: int
    topic: str = ""  # first expected category, or "question"
    tickets: list[dict[str, Any]] = field(default_factory=list)
    transcript: list[tuple[str, str]] = field(default_factory=list)


def _words(text: str | None) -> str:
    return " " + re.sub(r"[^0-9a-z]+", " ", (text or "").lower()).strip() + " "


def ticket_kind(ticket: Any) -> str:
    return str(getattr(ticket, "kind", None) or getattr(ticket, "ticket_type", None) or "pengaduan")


def ticket_urgent(ticket: Any) -> bool:
    return bool(getattr(ticket, "urgent", False) or getattr(ticket, "is_urgent", False))


def _privacy(ticket: Any) -> str:
    return "rahasia" if ticket.confidential else "anonim" if ticket.anonymous else "biasa"


def _problems(report: Report, ticket: Any, channel: str) -> list[str]:
    problems = []
    if ticket.category_id != report.category:
        problems.append(f"category {ticket.category_id}, expected {report.category}")
    location = _words(ticket.location_text)
    missing = [w for w in report.where if _words(w).strip() not in location]
    if missing:
        problems.append(f"location {ticket.location_text!r} lacks {missing}")
    if report.share and channel == "telegram" and ticket.latitude is None:
        problems.append("shared location point not stored")
    if report.photo and channel == "telegram" and not ticket.photos:
        problems.append("photo not stored")
    if _privacy(ticket) != report.privacy:
        problems.append(f"privacy {_privacy(ticket)}, expected {report.privacy}")
    if ticket_urgent(ticket) != report.urgent:
        problems.append(f"urgent={ticket_urgent(ticket)}, expected {report.urgent}")
    if ticket_kind(ticket) != report.kind:
        problems.append(f"kind {ticket_kind(ticket)}, expected {report.kind}")
    return problems


def judge(conversation: Conversation, tickets: Sequence[Any], channel: str) -> Outcome:
    """Compare what the citizen wanted with the tickets the store holds for its chat."""
    citizen = conversation.citizen
    reasons: list[str] = []
    right = 0
    expected = citizen.expected
    if conversation.loops:
        reasons.append("same question 3 times in a row (loop)")
    if conversation.ended in ("silent", "cap"):
        reasons.append({"silent": "bot did not answer", "cap": "turn cap reached"}[conversation.ended])
    if citizen.question:
        complaints = [t for t in tickets if ticket_kind(t) == "pengaduan"]
        if complaints:
            reasons.append(f"{len(complaints)} complaint ticket(s) filed for a question")
        if conversation.form_started:
            reasons.append("a question started the complaint form")
        if not conversation.answered:
            reasons.append("question neither answered nor offered for forwarding")
    else:
        unmatched = list(tickets)
        for report in expected:
            pick = next((t for t in unmatched if t.category_id == report.category), None)
            pick = pick or (unmatched[0] if unmatched else None)
            if pick is None:
                reasons.append(f"no ticket for the {report.category} report")
                continue
            unmatched.remove(pick)
            right += pick.category_id == report.category
            reasons += [f"{pick.code}: {p}" for p in _problems(report, pick, channel)]
        if unmatched:
            reasons.append(f"{len(unmatched)} extra ticket(s) nobody asked for")
    return Outcome(
        citizen=citizen.id,
        group=citizen.group,
        channel=channel,
        success=not reasons,
        reasons=reasons,
        turns=conversation.sent,
        loops=conversation.loops,
        ended=conversation.ended or "done",
        expected=len(expected),
        right_category=right,
        topic="question" if citizen.question else expected[0].category if expected else "",
        tickets=[
            {
                "code": t.code,
                "category": t.category_id,
                "location": t.location_text,
                "point": t.latitude is not None,
                "photos": len(t.photos),
                "privacy": _privacy(t),
                "urgent": ticket_urgent(t),
                "kind": ticket_kind(t),
            }
            for t in tickets
        ],
        transcript=conversation.transcript,
    )


# --- running ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the stack answers: gateway, fake Telegram (optional) and the ticket store it writes to."""

    gateway_url: str
    telegram_url: str | None
    tickets: Any  # TicketService (for_citizen)


def assign_channels(citizens: Sequence[Citizen], channels: Sequence[str]) -> list[tuple[Citizen, str]]:
    """Pinned citizens keep their channel (skipped when it is not run); the rest alternate."""
    plan = []
    for index, citizen in enumerate(citizens):
        if citizen.channel:
            if citizen.channel in channels:
                plan.append((citizen, citizen.channel))
        else:
            plan.append((citizen, channels[index % len(channels)]))
    return plan


async def run_citizen(citizen: Citizen, chat: Chat, tickets: Any, turn_cap: int, lock: asyncio.Semaphore) -> Outcome:
    async with lock:
        conversation = Conversation(citizen, chat.channel, turn_cap)
        action = conversation.start()
        while action is not None:
            await chat.send(action)
            turn = await chat.turn()
            if turn is None:
                conversation.silent()
                break
            action = conversation.next(turn)
    filed = await asyncio.to_thread(tickets.for_citizen, chat.channel, chat.user_id, None, 20)
    return judge(conversation, list(reversed(filed)), chat.channel)


async def run_all(
    plan: Sequence[tuple[Citizen, str]],
    target: Target,
    *,
    batch: int = 4,
    turn_cap: int = 15,
    wait: float = 90.0,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Every citizen, at most `batch` talking at once (the machine has little CPU to spare)."""
    lock = asyncio.Semaphore(batch)
    async with httpx.AsyncClient(timeout=30) as client:

        def chat_for(citizen: Citizen, channel: str) -> Chat:
            if channel == "telegram":
                if not target.telegram_url:
                    raise ValueError("no fake Telegram to talk to (--telegram-url)")
                return TelegramChat(client, target.telegram_url, wait)
            return WebChat(client, target.gateway_url, citizen.id, wait)

        async def one(citizen: Citizen, channel: str) -> Outcome:
            try:
                outcome = await run_citizen(citizen, chat_for(citizen, channel), target.tickets, turn_cap, lock)
            except Exception as exc:  # one broken chat is a failure to report, not the end of the run
                outcome = Outcome(citizen.id, citizen.group, channel, False, [f"error: {exc!r}"], 0, 0, "error", 0, 0)
            if progress:
                progress(outcome)
            return outcome

        return list(await asyncio.gather(*(one(c, ch) for c, ch in plan)))
