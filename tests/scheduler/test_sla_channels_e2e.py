"""Deadlines over a real channel: the real python-telegram-bot client of the gateway talks to the fake Bot API.

A scheduler pass at a controlled instant writes outbox rows; the gateway's worker delivers them to the OPD
group, the koordinator and the citizen. After `selesai` the citizen presses "Belum selesai" and gives a reason
through Rasa and the action server.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from bot.config import Settings
from bot.scheduler import Scheduler
from bot.store import models as m
from bot.store.migrate import upgrade
from bot.tickets import NewTicket, TicketService
from tests.integration.stack import GatewayThread, Stack, free_port
from tests.integration.test_channels_e2e import TelegramCitizen
from tests.scheduler.conftest import at
from tests.support.fake_telegram import FakeTelegramServer

WAIT = 30.0


@pytest.fixture
def fake_tg() -> Iterator[FakeTelegramServer]:
    with FakeTelegramServer() as fake:
        yield fake


def _texts(fake: FakeTelegramServer, chat_id: str | int) -> list[str]:
    return [e.get("text") or "" for e in fake.sent(chat_id, "sendMessage")]


def _wait(fake: FakeTelegramServer, chat_id: str | int, needle: str) -> str:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = [t for t in _texts(fake, chat_id) if needle in t]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} not sent to {chat_id}: {_texts(fake, chat_id)}")


def test_overdue_escalation_reaches_the_groups_and_the_citizen(tmp_path: Path, fake_tg: FakeTelegramServer) -> None:
    url = f"sqlite:///{tmp_path / 'sla.db'}"
    upgrade(url)
    svc = TicketService.from_url(url)
    svc.sync_opds()
    with svc.sessions() as s, s.begin():
        s.add(m.AdminGroup(opd_id="disdukcapil", channel="telegram", chat_id="-100777"))
        s.add(m.AdminGroup(opd_id="diskominfo", channel="telegram", chat_id="-100999"))
    citizen = "424242"
    t = svc.create_ticket(
        NewTicket("telegram", citizen, citizen, "KTP-el belum jadi sejak 3 bulan", "adminduk"),
        now=at("2026-12-23 10:00"),
    )
    settings = Settings(
        _env_file=None,
        ADUAN_DATABASE_URL=url,
        ADUAN_RASA_URL=f"http://127.0.0.1:{free_port()}",
        ADUAN_ACTION_SERVER_URL=f"http://127.0.0.1:{free_port()}",
        ADUAN_HTTP_PORT=free_port(),
        ADUAN_SLA_INTERVAL_SECONDS=0,
        TELEGRAM_BOT_TOKEN=fake_tg.token,
        TELEGRAM_API_BASE_URL=fake_tg.root_url,
    )
    with GatewayThread(settings):
        done = Scheduler(svc.sessions, svc).tick(at("2026-12-31 08:00"))
        assert {d.kind for d in done} >= {"overdue_escalation", "first_response_escalation", "digest"}
        assert t.code in _wait(fake_tg, "-100999", "🚨 Lewat tenggat")
        assert "Ringkasan harian" in _wait(fake_tg, "-100777", "Ringkasan")
        apology = _wait(fake_tg, citizen, "batas waktu")
        assert t.code in apology and "koordinator" in apology
        time.sleep(1.5)  # the worker's next poll: nothing more, nothing twice
        assert sum("🚨 Lewat tenggat" in x for x in _texts(fake_tg, "-100999")) == 1
        assert Scheduler(svc.sessions, svc).tick(at("2026-12-31 09:00")) == []


@pytest.mark.integration
def test_citizen_presses_belum_selesai_on_telegram(stack: Stack, fake_tg: FakeTelegramServer) -> None:
    group = str(-(10**12) - random.randint(1, 10**6))
    with stack.tickets.sessions() as s, s.begin():
        s.add(m.AdminGroup(opd_id="dlh", channel="telegram", chat_id=group))
    settings = stack.settings(
        TELEGRAM_BOT_TOKEN=fake_tg.token, TELEGRAM_API_BASE_URL=fake_tg.root_url, ADUAN_SLA_INTERVAL_SECONDS=0
    )
    try:
        with GatewayThread(settings) as gw:
            tg = TelegramCitizen(fake_tg, gw)
            uid = str(tg.user_id)
            t = stack.tickets.create_ticket(NewTicket("telegram", uid, uid, "sampah TPS menumpuk", "lingkungan"))
            stack.tickets.change_status(t.code, "diproses", actor="admin:dlh")
            stack.tickets.change_status(t.code, "selesai", actor="admin:dlh", note="Sudah diangkut")
            asked = _wait(fake_tg, uid, "Apakah masalah Anda sudah teratasi?")
            assert t.code in asked
            tg.click("Belum selesai")
            tg.wait_for("apa yang masih belum beres")
            tg.send(text="sampahnya cuma dipindah ke pinggir jalan")
            tg.wait_for("buka kembali")
            assert stack.tickets.get(t.code).status == "diproses"
            told = _wait(fake_tg, group, "dibuka kembali")
            assert "dipindah ke pinggir jalan" in told
    finally:
        with stack.tickets.sessions() as s, s.begin():
            s.execute(delete(m.AdminGroup).where(m.AdminGroup.chat_id == group))
