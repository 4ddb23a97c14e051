"""`aduan chat` is a citizen's chat through the gateway: stable session, replies and notifications arrive."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.gateway.outbox import add_messages
from bot.store.migrate import upgrade
from bot.terminal_chat import TerminalChat, session_for
from tests.integration.stack import GatewayThread, free_port


@pytest.fixture
def gateway(sqlite_url: str, tmp_path: Path) -> Iterator[GatewayThread]:
    upgrade(sqlite_url)
    dead = f"http://127.0.0.1:{free_port()}"  # Rasa is down: the gateway answers honestly instead
    settings = Settings(
        _env_file=None,
        ADUAN_DATABASE_URL=sqlite_url,
        ADUAN_RASA_URL=dead,
        ADUAN_ACTION_SERVER_URL=dead,
        ADUAN_HTTP_PORT=free_port(),
        ADUAN_MEDIA_DIR=str(tmp_path / "media"),
    )
    with GatewayThread(settings) as gw:
        yield gw


def wait_for(out: io.StringIO, needle: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while needle not in out.getvalue():
        assert time.monotonic() < deadline, out.getvalue()
        time.sleep(0.1)


def test_session_is_stable_per_user() -> None:
    assert session_for("budi") == session_for("budi") != session_for("siti")
    assert session_for("a b/c") == "terminal-a-b-c"


def test_terminal_chat_gets_replies_and_later_notifications(gateway: GatewayThread) -> None:
    out = io.StringIO()
    chat = TerminalChat(gateway.url, session_for("budi"), out=out)
    with httpx.Client(timeout=10) as client:
        chat.catch_up(client)
        listener = threading.Thread(target=chat.listen, daemon=True)
        listener.start()
        try:
            chat.send(client, "lampu jalan mati")
            wait_for(out, "gangguan")  # Rasa is down: the saved message is acknowledged honestly
            with gateway.gateway.sessions() as session, session.begin():
                add_messages(session, "web", session_for("budi"), [{"text": "Kabar terbaru untuk laporan ADU-2345678"}])
            wait_for(out, "Kabar terbaru")  # a notification reaches the same terminal
        finally:
            chat.stop()
    # a later run of the same user continues after what was already shown
    again = TerminalChat(gateway.url, session_for("budi"), out=io.StringIO())
    with httpx.Client(timeout=10) as client:
        again.catch_up(client)
    assert again.after == chat.after
