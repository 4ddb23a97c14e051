"""Delivery that can be trusted: due-only claims, per-chat order across replicas, leases with owner
checks, bounded attempts and a `failed` state, queue figures for /healthz. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from bot.gateway.health import queue_report
from bot.gateway.inbox import Inbound, Inbox
from bot.gateway.outbox import (
    MAX_ATTEMPTS,
    Delivery,
    Outbox,
    OutboxWorker,
    OutMessage,
    PermanentFailure,
    RetryLater,
    add_messages,
)
from bot.gateway.pipeline import MAX_ATTEMPTS as INBOUND_MAX_ATTEMPTS
from bot.gateway.pipeline import Processor
from bot.gateway.rasa_client import ServiceDown
from bot.store import models as m
from bot.tickets import TicketService


def _now() -> datetime:
    return datetime.now(UTC)


def _make_due(service: TicketService, model: type = m.OutboxMessage) -> None:
    with service.sessions() as session, session.begin():
        session.execute(
            update(model).where(model.status == "pending").values(next_attempt_at=_now() - timedelta(seconds=1))
        )


def _statuses(service: TicketService) -> dict[str, int]:
    with service.sessions() as session:
        rows = session.execute(select(m.OutboxMessage.status, func.count()).group_by(m.OutboxMessage.status)).all()
    return {status: count for status, count in rows}


def test_claims_take_due_rows_even_behind_many_backing_off(service: TicketService) -> None:
    """200 rows backing off (a LINE outage) do not stall a due Telegram message queued after them."""
    later = _now() + timedelta(minutes=5)
    with service.sessions() as session, session.begin():
        for i in range(200):
            session.add(m.OutboxMessage(channel="line", chat_id=f"U{i}", payload={"text": "x"}, next_attempt_at=later))
        add_messages(session, "telegram", "42", [{"text": "halo"}])
    batches = Outbox(service.sessions).claim_batches(limit=5)
    assert [(b[0].channel, b[0].chat_id) for b in batches] == [("telegram", "42")]


def test_a_waiting_row_holds_back_the_rest_of_its_chat(service: TicketService) -> None:
    with service.sessions() as session, session.begin():
        session.add(
            m.OutboxMessage(
                channel="telegram", chat_id="42", payload={"text": "1"}, next_attempt_at=_now() + timedelta(minutes=1)
            )
        )
        add_messages(session, "telegram", "42", [{"text": "2"}])
        add_messages(session, "telegram", "7", [{"text": "other"}])
    assert [b[0].payload["text"] for b in Outbox(service.sessions).claim_batches()] == ["other"]


def test_rows_of_one_inbound_message_go_as_one_batch(service: TicketService) -> None:
    inbox = Inbox(service.sessions)
    inbound_id = inbox.store(Inbound("line", "ev1", "U1", "U1", "text", "halo"))
    with service.sessions() as session, session.begin():
        add_messages(session, "line", "U1", [{"text": "a"}, {"text": "b"}], inbound_id=inbound_id)
        add_messages(session, "line", "U1", [{"text": "c"}])
    first = Outbox(service.sessions).claim_batches()
    assert [[msg.payload["text"] for msg in b] for b in first] == [["a", "b"]]


def test_a_late_worker_cannot_finish_a_row_another_worker_took_over(service: TicketService) -> None:
    with service.sessions() as session, session.begin():
        add_messages(session, "telegram", "42", [{"text": "satu"}])
    outbox = Outbox(service.sessions)
    (slow,) = outbox.claim_batches()
    _make_due(service)  # the slow worker's lease ran out
    (fresh,) = outbox.claim_batches()
    assert slow[0].lease != fresh[0].lease
    assert outbox.mark_sent([slow[0].id], slow[0].lease) is False
    outbox.reschedule([slow[0].id], timedelta(0), "late", give_up=True, lease=slow[0].lease)
    assert _statuses(service) == {"pending": 1}  # neither the late mark nor the late give-up counted
    assert outbox.mark_sent([fresh[0].id], fresh[0].lease, "send") is True
    assert _statuses(service) == {"sent": 1}


class Scripted:
    """A channel sender that fails as told, then delivers; records what arrived."""

    batch = False

    def __init__(self, failures: dict[str, list[Exception]]) -> None:
        self.failures = failures
        self.sent: list[str] = []

    async def send(self, chat_id: str, messages: list[OutMessage]) -> Delivery:
        for msg in messages:
            queue = self.failures.get(msg.payload["text"])
            if queue:
                raise queue.pop(0)
            self.sent.append(msg.payload["text"])
        return Delivery("send", {msg.id: [f"m{msg.id}"] for msg in messages})


def _drain(service: TicketService, sender: Scripted, rounds: int = 40) -> None:
    worker = OutboxWorker(Outbox(service.sessions), {"telegram": sender})
    for _ in range(rounds):
        _make_due(service)
        if not asyncio.run(worker.run_once()):
            break


def test_bounded_attempts_then_failed_and_the_chat_moves_on(service: TicketService) -> None:
    with service.sessions() as session, session.begin():
        add_messages(session, "telegram", "42", [{"text": "rusak"}, {"text": "berikutnya"}])
    sender = Scripted({"rusak": [RuntimeError("boom")] * 100})
    _drain(service, sender)
    assert sender.sent == ["berikutnya"]
    (failed,) = Outbox(service.sessions).failed()
    assert (failed.payload["text"], failed.attempts, failed.status) == ("rusak", MAX_ATTEMPTS, "failed")
    assert "boom" in (failed.last_error or "")
    assert Outbox(service.sessions).retry([failed.id]) == 1
    _drain(service, Scripted({}))
    assert _statuses(service) == {"sent": 2}


def test_rate_limit_waits_do_not_count_as_attempts(service: TicketService) -> None:
    with service.sessions() as session, session.begin():
        add_messages(session, "telegram", "42", [{"text": "pelan"}])
    sender = Scripted({"pelan": [RetryLater(0.01)] * (MAX_ATTEMPTS + 3)})
    _drain(service, sender)
    assert sender.sent == ["pelan"]
    with service.sessions() as session:
        assert session.scalar(select(m.OutboxMessage.attempts)) == 1


def test_blocked_bot_fails_at_once(service: TicketService) -> None:
    with service.sessions() as session, session.begin():
        add_messages(session, "telegram", "42", [{"text": "diblokir"}])
    sender = Scripted({"diblokir": [PermanentFailure("Forbidden: bot was blocked by the user")]})
    _drain(service, sender)
    (failed,) = Outbox(service.sessions).failed()
    assert failed.attempts == 1 and "blocked" in (failed.last_error or "")


def test_replicas_keep_each_chats_order_and_send_once(service: TicketService) -> None:
    """Four claimers at once (replicas) over 8 chats x 15 rows: each row once, in order per chat."""
    with service.sessions() as session, session.begin():
        for n in range(15):
            for chat in range(8):
                add_messages(session, "telegram", str(chat), [{"text": str(n)}])
    outbox = Outbox(service.sessions)
    seen: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            idle = 0
            while idle < 20:
                batches = outbox.claim_batches(limit=3)
                if not batches:
                    idle += 1
                    continue
                idle = 0
                for batch in batches:
                    with lock:
                        for msg in batch:
                            seen[msg.chat_id].append(int(msg.payload["text"]))
                    assert outbox.mark_sent([msg.id for msg in batch], batch[0].lease)
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert dict(seen) == {str(chat): list(range(15)) for chat in range(8)}


class FailingRasa:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    async def send(self, *args: object, **kwargs: object) -> list[dict[str, str]]:
        raise self.exc


def test_an_inbound_message_rasa_keeps_rejecting_fails_and_the_citizen_is_told(service: TicketService) -> None:
    inbox = Inbox(service.sessions)
    inbox.store(Inbound("telegram", "1", "42", "42", "text", "pesan yang bikin error"))
    inbox.store(Inbound("telegram", "2", "7", "7", "text", "warga lain"))
    processor = Processor(inbox, service.sessions, FailingRasa(ServiceDown("rasa answered HTTP 500")))  # type: ignore[arg-type]
    for _ in range(INBOUND_MAX_ATTEMPTS + 2):
        _make_due(service, m.InboundMessage)
        asyncio.run(processor.run_once())
    failed = inbox.failed()
    assert sorted(r.sender_id for r in failed) == ["telegram:42", "telegram:7"]
    assert all(r.attempts == INBOUND_MAX_ATTEMPTS for r in failed)
    with service.sessions() as session:
        texts = session.scalars(select(m.OutboxMessage.payload).where(m.OutboxMessage.chat_id == "42")).all()
    # Told once that it is saved, once that it could not be processed: never once per retry.
    assert len(texts) == 2
    assert "gangguan" in texts[0]["text"] and "belum berhasil" in texts[1]["text"]


def test_inbound_claims_are_due_only_and_in_order_per_sender(service: TicketService) -> None:
    inbox = Inbox(service.sessions)
    first = inbox.store(Inbound("telegram", "1", "42", "42", "text", "satu"))
    inbox.store(Inbound("telegram", "2", "42", "42", "text", "dua"))
    inbox.store(Inbound("telegram", "3", "7", "7", "text", "lain"))
    with service.sessions() as session, session.begin():
        session.execute(
            update(m.InboundMessage)
            .where(m.InboundMessage.id == first)
            .values(next_attempt_at=_now() + timedelta(minutes=1))
        )
    assert [c.text for c in inbox.claim()] == ["lain"]


def test_queue_report_counts_backlog_failures_and_line_pushes(service: TicketService) -> None:
    with service.sessions() as session, session.begin():
        session.add(
            m.OutboxMessage(channel="line", chat_id="U1", payload={}, status="sent", via="push", sent_at=_now())
        )
        session.add(
            m.OutboxMessage(channel="line", chat_id="U1", payload={}, status="sent", via="reply", sent_at=_now())
        )
        session.add(m.OutboxMessage(channel="telegram", chat_id="1", payload={}, status="failed"))
        session.add(
            m.OutboxMessage(channel="telegram", chat_id="2", payload={}, created_at=_now() - timedelta(seconds=30))
        )
    report = queue_report(service.sessions)
    assert report["line_pushes"] == {"total": 1, "last_24h": 1}
    assert report["outbox"]["pending"] == 1 and report["outbox"]["failed"] == 1
    assert report["outbox"]["oldest_due_seconds"] >= 29
    assert report["inbox"] == {"pending": 0, "failed": 0, "oldest_pending_seconds": None, "oldest_due_seconds": None}


def test_daily_failed_line_for_the_koordinator(service: TicketService) -> None:
    from bot import notify

    with service.sessions() as session, session.begin():
        session.add(m.AdminGroup(opd_id="diskominfo", channel="telegram", chat_id="-100999", role="koordinator"))
    since = _now() - timedelta(hours=24)
    with service.sessions() as session, session.begin():
        assert notify.failed_digest(session, service.taxonomy, since=since) == 0  # nothing failed: no line
    with service.sessions() as session, session.begin():
        session.add(m.OutboxMessage(channel="line", chat_id="U1", payload={}, status="failed"))
    with service.sessions() as session, session.begin():
        assert notify.failed_digest(session, service.taxonomy, since=since) == 1
    with service.sessions() as session:
        line = session.scalars(select(m.OutboxMessage).where(m.OutboxMessage.chat_id == "-100999")).one()
    assert "24 jam terakhir 1 pesan keluar gagal" in line.payload["text"]
