"""The scheduler against real stores (SQLite and PostgreSQL) with a controlled clock: every action once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from bot.domain.lifecycle import TransitionError
from bot.gateway.channels.telegram import MAX_CALLBACK_DATA
from bot.scheduler import Scheduler
from bot.store import models as m
from bot.store.migrate import upgrade
from bot.tickets import NewTicket, TicketService
from tests.scheduler.conftest import at

NEW_TICKET_MARK = "🆕"
CHATS = {"disdukcapil": "-100", "dpupr": "-200", "dlh": "-300", "diskominfo": "-900"}


def register_chats(service: TicketService) -> None:
    with service.sessions() as s, s.begin():
        for opd, chat in CHATS.items():
            s.add(m.AdminGroup(opd_id=opd, channel="telegram", chat_id=chat))


def new(category: str = "adminduk", user: str = "111") -> NewTicket:
    return NewTicket(
        channel="telegram",
        user_id=user,
        chat_id=user,
        description="KTP-el saya belum jadi padahal sudah rekam 3 bulan",
        category_id=category,
        location_text="Kel. Kemlayan",
    )


def sent(service: TicketService, chat_id: str) -> list[str]:
    """What the scheduler sent to a chat (the relay's new-ticket announcement is not the scheduler's)."""
    with service.sessions() as s:
        rows = s.scalars(select(m.OutboxMessage).where(m.OutboxMessage.chat_id == chat_id).order_by(m.OutboxMessage.id))
        return [r.payload["text"] for r in rows if not r.payload["text"].startswith(NEW_TICKET_MARK)]


def outbox_count(service: TicketService) -> int:
    with service.sessions() as s:
        return s.scalar(select(func.count()).select_from(m.OutboxMessage))


def ticket_kinds(done) -> list[str]:
    return [d.kind for d in done if d.kind != "digest"]


@pytest.fixture
def svc(service: TicketService) -> TicketService:
    register_chats(service)
    return service


def test_reminders_escalation_and_honest_citizen_message(svc: TicketService) -> None:
    t = svc.create_ticket(new(), now=at("2026-12-23 10:00"))  # Wed; Thu cuti bersama, Fri Christmas
    assert t.due_at == at("2026-12-30 23:59:59")
    sched = Scheduler(svc.sessions, svc)
    assert sched.tick(at("2026-12-24 10:00")) == []  # holiday: nothing, not even a digest
    assert sched.tick(at("2026-12-26 10:00")) == []  # Saturday
    assert ticket_kinds(sched.tick(at("2026-12-28 10:00"))) == ["first_response_nudge"]
    assert ticket_kinds(sched.tick(at("2026-12-28 15:00"))) == []
    assert ticket_kinds(sched.tick(at("2026-12-29 08:00"))) == ["due_reminder"]
    assert ticket_kinds(sched.tick(at("2026-12-30 08:00"))) == ["due_today"]
    assert ticket_kinds(sched.tick(at("2026-12-30 10:00"))) == ["first_response_escalation"]
    assert sched.tick(at("2026-12-30 20:00")) == []  # after office hours
    assert sched.tick(at("2026-12-31 00:30")) == []  # night
    assert ticket_kinds(sched.tick(at("2026-12-31 08:00"))) == ["overdue_escalation"]
    assert ticket_kinds(sched.tick(at("2027-01-04 08:00"))) == []  # once, not daily

    opd = [x for x in sent(svc, "-100") if t.code in x]
    assert len(opd) == 3 and "1 hari kerja" in opd[0] and "satu hari kerja lagi" in opd[1] and "Hari ini" in opd[2]
    coordinator = [x for x in sent(svc, "-900") if t.code in x]
    assert len(coordinator) == 2 and "Eskalasi" in coordinator[0] and "Lewat tenggat" in coordinator[1]
    assert "Riwayat" in coordinator[1] and "warga" in coordinator[1] and "111" not in coordinator[1]
    citizen = [x for x in sent(svc, "111") if "batas waktu" in x]
    assert len(citizen) == 1 and "Mohon maaf" in citizen[0] and "koordinator" in citizen[0]


def test_first_response_resets_when_the_opd_acts(svc: TicketService) -> None:
    t = svc.create_ticket(new(), now=at("2026-12-23 10:00"))
    svc.change_status(t.code, "diproses", actor="admin:disdukcapil", now=at("2026-12-23 11:00"))
    sched = Scheduler(svc.sessions, svc)
    assert ticket_kinds(sched.tick(at("2026-12-28 12:00"))) == []
    assert ticket_kinds(sched.tick(at("2026-12-30 12:00"))) == ["due_today"]


def test_ping_pong_escalates_and_a_third_reroute_by_an_opd_is_refused(svc: TicketService) -> None:
    t = svc.create_ticket(new("infrastruktur"), now=at("2026-12-21 09:00"))
    svc.change_status(
        t.code, "didisposisikan", actor="admin:dpupr", note="saluran", opd_id="dlh", now=at("2026-12-21 10:00")
    )
    svc.change_status(
        t.code, "didisposisikan", actor="admin:dlh", note="jalan", opd_id="dpupr", now=at("2026-12-21 11:00")
    )
    sched = Scheduler(svc.sessions, svc)
    assert ticket_kinds(sched.tick(at("2026-12-21 11:01"))) == ["ping_pong_escalation"]
    assert ticket_kinds(sched.tick(at("2026-12-21 11:02"))) == []
    assert "2 kali dialihkan" in sent(svc, "-900")[-1] or any("2 kali dialihkan" in x for x in sent(svc, "-900"))
    with pytest.raises(TransitionError, match="koordinator"):
        svc.change_status(t.code, "didisposisikan", actor="admin:dpupr", note="lagi", opd_id="dlh")
    assert svc.get(t.code).opd_id == "dpupr"
    decided = svc.change_status(t.code, "didisposisikan", actor="koordinator:telegram:9", note="PUPR", opd_id="dlh")
    assert decided.opd_id == "dlh"
    # The relay's /disposisi says explicitly that the koordinator acts, whatever its actor string.
    again = svc.change_status(
        t.code, "didisposisikan", actor="telegram:9", note="kembali", opd_id="dpupr", by_coordinator=True
    )
    assert again.opd_id == "dpupr"


def test_digest_content_and_no_repeats(svc: TicketService) -> None:
    a = svc.create_ticket(new("infrastruktur"), now=at("2026-12-21 09:00"))
    svc.create_ticket(new("infrastruktur", user="222"), now=at("2026-12-21 09:30"))
    sched = Scheduler(svc.sessions, svc)
    first = [d for d in sched.tick(at("2026-12-22 08:00")) if d.kind == "digest"]
    assert len(first) == len(CHATS)
    dpupr = sent(svc, "-200")[-1]
    assert "Ringkasan harian" in dpupr and "Laporan terbuka: 2" in dpupr and a.code in dpupr
    coordinator = sent(svc, "-900")[-1]
    assert "Per OPD" in coordinator and "Kepatuhan SLA" in coordinator
    assert [d for d in sched.tick(at("2026-12-22 09:00")) if d.kind == "digest"] == []  # once a day
    sched.tick(at("2026-12-23 08:00"))
    assert "tidak ada perubahan" in sent(svc, "-200")[-1] and "\n" not in sent(svc, "-200")[-1]
    svc.change_status(a.code, "diproses", actor="admin:dpupr", now=at("2026-12-23 10:00"))
    sched.tick(at("2026-12-28 08:00"))
    latest = sent(svc, "-200")[-1]
    assert "Perubahan sejak ringkasan sebelumnya" in latest and f"{a.code}: didisposisikan → diproses" in latest


def test_rating_does_not_close_and_auto_close_tells_the_citizen(svc: TicketService) -> None:
    t = svc.create_ticket(new(), now=at("2026-11-23 09:00"))
    svc.change_status(t.code, "diproses", actor="admin:disdukcapil", now=at("2026-11-24 09:00"))
    svc.change_status(t.code, "selesai", actor="admin:disdukcapil", note="KTP sudah jadi", now=at("2026-11-30 10:00"))
    asked = sent(svc, "111")[-1]
    assert "Apakah masalah Anda sudah teratasi?" in asked
    with svc.sessions() as s:
        last = s.scalars(select(m.OutboxMessage).order_by(m.OutboxMessage.id.desc()).limit(1)).one()
    titles = [b["title"] for b in last.payload["buttons"]]
    assert titles == ["⭐ 1", "⭐ 2", "⭐ 3", "⭐ 4", "⭐ 5", "Belum selesai"]
    assert all(len(b["payload"].encode()) <= MAX_CALLBACK_DATA for b in last.payload["buttons"])
    rated = svc.rate(t.code, "telegram", "111", 5, now=at("2026-11-30 11:00"))
    assert rated.status == "selesai" and rated.rating == 5 and rated.closed_at is None
    assert rated.events[-1].note == "Penilaian warga: 5/5"
    assert "5/5" in sent(svc, "-100")[-1]
    sched = Scheduler(svc.sessions, svc)
    assert ticket_kinds(sched.tick(at("2026-12-14 15:00"))) == []
    assert ticket_kinds(sched.tick(at("2026-12-15 08:00"))) == ["auto_close"]
    closed = svc.get(t.code)
    assert closed.status == "ditutup" and closed.events[-1].actor == "sistem:sla" and closed.rating == 5
    assert "kami tutup" in sent(svc, "111")[-1]
    assert ticket_kinds(sched.tick(at("2026-12-16 08:00"))) == []


def test_reopen_inside_and_outside_the_window(svc: TicketService) -> None:
    t = svc.create_ticket(new(), now=at("2026-11-23 09:00"))
    svc.change_status(t.code, "diproses", actor="admin:disdukcapil", now=at("2026-11-24 09:00"))
    svc.change_status(t.code, "selesai", actor="admin:disdukcapil", now=at("2026-11-30 10:00"))
    svc.rate(t.code, "telegram", "111", 1, now=at("2026-11-30 11:00"))
    back = svc.reopen(t.code, "telegram", "111", "KTP belum saya terima", now=at("2026-12-14 15:00"))
    assert back.status == "diproses" and back.events[-1].actor == "warga:telegram:111"
    assert "dibuka kembali" in sent(svc, "-100")[-1] and "KTP belum saya terima" in sent(svc, "-100")[-1]
    assert back.due_at > at("2026-12-14 15:00")
    svc.change_status(t.code, "selesai", actor="admin:disdukcapil", now=at("2026-12-15 09:00"))
    with pytest.raises(TransitionError, match="10 hari kerja"):
        svc.reopen(t.code, "telegram", "111", "masih belum", now=at("2027-01-04 09:00"))
    assert svc.get(t.code).status == "selesai"


def test_a_restart_between_two_ticks_sends_nothing_twice(db_url: str) -> None:
    upgrade(db_url)
    svc = TicketService.from_url(db_url)
    svc.sync_opds()
    register_chats(svc)
    svc.create_ticket(new(), now=at("2026-12-23 10:00"))
    first = Scheduler(svc.sessions, svc).tick(at("2026-12-31 08:00"))
    assert first and outbox_count(svc) > 0
    before = outbox_count(svc)
    restarted = TicketService.from_url(db_url)
    assert Scheduler(restarted.sessions, restarted).tick(at("2026-12-31 08:00")) == []
    assert Scheduler(restarted.sessions, restarted).tick(at("2026-12-31 09:00")) == []
    assert outbox_count(svc) == before


def test_two_schedulers_at_the_same_instant_send_each_message_once(pg_url: str) -> None:
    upgrade(pg_url)
    svc = TicketService.from_url(pg_url)
    svc.sync_opds()
    register_chats(svc)
    for user in range(5):
        svc.create_ticket(new(user=str(100 + user)), now=at("2026-12-23 10:00"))
    announced = outbox_count(svc)  # the relay's new-ticket posts
    instant = at("2026-12-31 08:00")
    barrier = threading.Barrier(2)
    results: list[list] = [[], []]

    def run(i: int) -> None:
        sched = Scheduler(TicketService.from_url(pg_url).sessions)
        barrier.wait()
        results[i] = sched.tick(instant)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    keys = [(d.kind, d.subject, d.deadline) for r in results for d in r]
    assert len(keys) == len(set(keys))
    with svc.sessions() as s:
        actions = s.scalar(select(func.count()).select_from(m.SlaAction))
    assert len(keys) == actions == 5 * 2 + len(CHATS)  # per ticket: first-response + overdue; digests
    assert outbox_count(svc) - announced == 5 + 5 * 2 + len(CHATS)  # escalations to the coordinator, citizens, digests
    assert date(2026, 12, 31).isoformat() in {d.deadline for r in results for d in r}


def test_a_wita_city_gets_its_own_office_hours_and_due_day(sqlite_url: str) -> None:
    from zoneinfo import ZoneInfo

    upgrade(sqlite_url)
    wita = ZoneInfo("Asia/Makassar")
    svc = TicketService(TicketService.from_url(sqlite_url).sessions, tz=wita)
    svc.sync_opds()
    register_chats(svc)
    t = svc.create_ticket(new(), now=at("2026-12-23 10:00"))
    assert t.due_at.astimezone(wita).date() == date(2026, 12, 30)
    sched = Scheduler(svc.sessions, svc)
    assert "due_today" in ticket_kinds(sched.tick(at("2026-12-30 07:30")))  # 08:30 WITA
    assert sched.tick(at("2026-12-30 15:30")) == []  # 16:30 WITA: closed, though 15:30 in Jakarta


def test_housekeeping_hook_runs_once_a_working_day(sqlite_service: TicketService) -> None:
    calls: list = []
    sched = Scheduler(sqlite_service.sessions, sqlite_service, housekeeping=lambda now: calls.append(now) or "purged")
    assert sched.tick(at("2026-12-26 09:00")) == []  # Saturday
    done = sched.tick(at("2026-12-28 09:00"))
    assert [d.line() for d in done] == ["housekeeping purged [system @ 2026-12-28]"]
    assert sched.tick(at("2026-12-28 10:00")) == [] and len(calls) == 1


def test_two_tick_processes_at_the_same_instant_send_each_message_once(pg_url: str) -> None:
    import os
    import subprocess
    import sys

    from bot.config import REPO_ROOT

    upgrade(pg_url)
    svc = TicketService.from_url(pg_url)
    svc.sync_opds()
    register_chats(svc)
    for user in range(3):
        svc.create_ticket(new(user=str(200 + user)), now=at("2026-12-23 10:00"))
    announced = outbox_count(svc)  # the relay's new-ticket posts
    env = {**os.environ, "ADUAN_DATABASE_URL": pg_url, "PYTHONPATH": str(REPO_ROOT)}
    cmd = [sys.executable, "-m", "bot.cli", "sla", "tick", "--at", "2026-12-31T08:00+07:00"]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    lines = [line for out, _ in outputs for line in out.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)) == 3 * 2 + len(CHATS)
    assert outbox_count(svc) - announced == 3 + 3 * 2 + len(CHATS)
