"""Fault test: the gateway process is SIGKILLed while 200 notifications are pending and Telegram
answers 429 to some; after a restart every notification arrives exactly once, in order per chat.

The gateway runs as a real `aduan serve` process (Rasa is not needed for delivery) against the
fake Bot API. The kill happens while Telegram is answering 429, so no send is in flight with an
unknown outcome (Telegram has no idempotency key; that window is the one limit of any sender).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select

from bot.config import REPO_ROOT
from bot.gateway.outbox import add_messages
from bot.store import models as m
from bot.store.db import session_factory
from bot.store.migrate import upgrade
from tests.integration.stack import free_port
from tests.support.fake_telegram import FakeTelegramServer

CHATS = 20
PER_CHAT = 10


def _gateway(database_url: str, fake: FakeTelegramServer, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "ADUAN_DATABASE_URL": database_url,
        "ADUAN_HTTP_PORT": str(free_port()),
        "ADUAN_RASA_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: not needed here
        "ADUAN_ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
        "TELEGRAM_BOT_TOKEN": fake.token or "",
        "TELEGRAM_API_BASE_URL": fake.root_url,
    }
    log = open(workdir / "gateway.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def _delivered(fake: FakeTelegramServer) -> list[dict]:
    return fake.sent(method="sendMessage")


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_with_200_pending_and_429s(db_url: str, tmp_path: Path) -> None:
    upgrade(db_url)
    sessions = session_factory(db_url)
    with sessions() as session, session.begin():
        for n in range(PER_CHAT):
            for chat in range(CHATS):
                add_messages(session, "telegram", str(10_000 + chat), [{"text": f"pesan {n}"}])
    with FakeTelegramServer() as fake:
        first = _gateway(db_url, fake, tmp_path)
        try:
            _wait(lambda: len(_delivered(fake)) >= 40, 60, "the first deliveries")
            fake.fail_next("sendMessage", 429, retry_after=1, times=10**6)  # Telegram starts refusing
            calls = fake.calls().get("sendMessage", 0)
            _wait(lambda: fake.calls().get("sendMessage", 0) >= calls + 10, 30, "429 answers")
            time.sleep(1.0)  # sends that were in flight when the 429s began are answered and recorded
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        before_restart = len(_delivered(fake))
        assert 40 <= before_restart < CHATS * PER_CHAT
        fake.clear_failures()

        second = _gateway(db_url, fake, tmp_path)
        try:
            # Rows the killed process had claimed come back when their 60 s lease runs out.
            _wait(lambda: len(_delivered(fake)) >= CHATS * PER_CHAT, 150, "all 200 notifications")
            time.sleep(3)  # a duplicate would show up now
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                second.wait(20)
            except subprocess.TimeoutExpired:
                second.kill()

        per_chat: dict[str, list[str]] = defaultdict(list)
        for entry in _delivered(fake):
            per_chat[str(entry["chat_id"])].append(entry["text"])
        expected = [f"pesan {n}" for n in range(PER_CHAT)]
        assert {chat: texts for chat, texts in per_chat.items()} == {
            str(10_000 + chat): expected for chat in range(CHATS)
        }
        assert fake.calls()["sendMessage"] > CHATS * PER_CHAT  # the 429s really happened
    with sessions() as session:
        statuses = dict(
            session.execute(select(m.OutboxMessage.status, func.count()).group_by(m.OutboxMessage.status)).all()
        )
    assert statuses == {"sent": CHATS * PER_CHAT}
