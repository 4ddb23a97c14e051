"""Rasa's tracker store follows the deployment, never falls back to memory, and /healthz checks it.

Issue 8: on PostgreSQL without `var/`, Rasa silently kept conversations in memory per turn and the
citizen was asked for the complaint and the location forever. These tests type the issue's two
messages exactly, on Telegram and on LINE, against a whole stack on PostgreSQL.
"""

from __future__ import annotations

import re
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.config import Settings
from bot.rasa_endpoints import render_endpoints
from tests.conftest import PG_URL, pg_schema
from tests.integration.stack import MODEL, RASA_BIN, REPO_ROOT, GatewayThread, Stack, ensure_model, free_port
from tests.integration.test_channels_e2e import LineCitizen, TelegramCitizen
from tests.support.fake_line import FakeLineServer
from tests.support.fake_telegram import FakeTelegramServer

CODE = re.compile(r"ADU-[2-9A-HJKMNP-TV-Z]{7}")
OPENER = "selamat siang, jalan di depan SD Negeri 3 Podosugih berlubang besar dan sudah banyak motor jatuh"
ADDRESS = "Jl. Merdeka No. 12, RT 03 RW 05, Kelurahan Podosugih, dekat SD Negeri 3"


# --- a whole stack on PostgreSQL ------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_stack(pg_ok: bool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa, actions and tickets on a fresh PostgreSQL schema; the tracker gets `<schema>_rasa`."""
    if not pg_ok:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    ensure_model()
    with pg_schema() as url:
        stack = Stack(tmp_path_factory.mktemp("pgstack"), url)
        try:
            stack.start()
            yield stack
        finally:
            stack.stop()


@pytest.fixture(scope="module")
def pg_gateway(pg_stack: Stack) -> Iterator[tuple[GatewayThread, FakeTelegramServer, FakeLineServer]]:
    with FakeTelegramServer() as fake_tg, FakeLineServer() as fake_line:
        settings = pg_stack.settings(
            TELEGRAM_BOT_TOKEN=fake_tg.token,
            TELEGRAM_API_BASE_URL=fake_tg.root_url,
            LINE_CHANNEL_SECRET=fake_line.channel_secret,
            LINE_CHANNEL_ACCESS_TOKEN=fake_line.access_token,
            LINE_API_BASE_URL=fake_line.base_url,
        )
        with GatewayThread(settings) as gw:
            fake_line.set_webhook(f"{gw.url}/webhooks/line")
            yield gw, fake_tg, fake_line


def _tracker_events(stack: Stack, sender_id: str) -> int:
    engine = create_engine(stack.settings().tracker_store_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("select count(*) from events where sender_id = :s"), {"s": sender_id}).scalar_one()
    finally:
        engine.dispose()


def _body(entry: dict) -> str:
    return entry["text"] if "text" in entry else "\n".join(entry["texts"])


def _file_ticket(citizen: TelegramCitizen | LineCitizen) -> tuple[str, str]:
    """The issue's conversation, typed exactly; buttons only where the bot offers a choice.

    Returns the ticket code and the bot's location question (asked once, never again).
    """
    citizen.send(text=OPENER)
    question = _body(citizen.wait_for("lokasi"))
    citizen.send(text=ADDRESS)
    citizen.wait_for("foto")
    citizen.click("Lewati")
    citizen.wait_for("identitas")
    citizen.click("Biasa")
    citizen.wait_for("ringkasan")
    citizen.click("Kirim laporan")
    done = citizen.wait_for("Kode laporan")
    return CODE.search(_body(done)).group(0), question


def _assert_ticket(stack: Stack, code: str, channel: str) -> None:
    ticket = stack.tickets.get(code)
    assert ticket.channel == channel
    assert ticket.category_id == "infrastruktur"
    assert "Podosugih" in ticket.description and "motor jatuh" in ticket.description
    assert "Jl. Merdeka No. 12" in (ticket.location_text or "")


def test_postgres_telegram_conversation_files_a_ticket(pg_stack: Stack, pg_gateway: tuple) -> None:
    gateway, fake_tg, _ = pg_gateway
    citizen = TelegramCitizen(fake_tg, gateway)
    code, question = _file_ticket(citizen)
    _assert_ticket(pg_stack, code, "telegram")
    assert citizen.texts().count(question) == 1  # the location was asked once, never again
    assert _tracker_events(pg_stack, citizen.sender_id) > 0  # the conversation is in PostgreSQL


def test_postgres_line_conversation_files_a_ticket(pg_stack: Stack, pg_gateway: tuple) -> None:
    gateway, _, fake_line = pg_gateway
    citizen = LineCitizen(fake_line, gateway)
    code, question = _file_ticket(citizen)
    _assert_ticket(pg_stack, code, "line")
    assert sum(question in t for t in citizen.texts()) == 1
    assert _tracker_events(pg_stack, citizen.sender_id) > 0


def test_postgres_healthz_reports_the_tracker_store(pg_stack: Stack) -> None:
    with GatewayThread(pg_stack.settings()) as gw:
        report = httpx.get(f"{gw.url}/healthz").json()
        assert report["ok"] and report["tracker_store"]["ok"]


# --- SQLite: owner-only, and checked by /healthz ----------------------------------------------------


def test_sqlite_tracker_store_is_owner_only(stack: Stack) -> None:
    stack.say(f"perm-{uuid.uuid4().hex[:6]}", "halo")
    tracker = Path(stack.settings().tracker_store_url.removeprefix("sqlite:///"))
    assert tracker.parent == stack.workdir / "rasa"
    assert stat.S_IMODE(tracker.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(tracker.stat().st_mode) == 0o600


def test_healthz_fails_when_the_tracker_store_is_gone(stack: Stack, tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'nowhere' / 'tracker.db'}"
    with GatewayThread(stack.settings(ADUAN_TRACKER_STORE_URL=missing)) as gw:
        response = httpx.get(f"{gw.url}/healthz")
        assert response.status_code == 503
        body = response.json()
        assert body["tracker_store"]["ok"] is False and body["database"]["ok"] is True
    assert not (tmp_path / "nowhere").exists()  # the check never creates a store


# --- a store that cannot be opened stops Rasa ---------------------------------------------------------


@pytest.mark.parametrize(
    "tracker_url",
    [
        "sqlite:////dev/null/aduan/tracker.db",  # a directory that cannot exist
        "postgresql+psycopg://postgres@127.0.0.1:{port}/aduan",  # nothing listens there
    ],
    ids=["sqlite-unopenable", "postgres-down"],
)
def test_rasa_refuses_to_start_on_an_unopenable_tracker_store(tmp_path: Path, tracker_url: str) -> None:
    ensure_model()
    settings = Settings(
        _env_file=None,
        ADUAN_DATABASE_URL=f"sqlite:///{tmp_path / 'tickets.db'}",
        ADUAN_TRACKER_STORE_URL=tracker_url.format(port=free_port()),
    )
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(render_endpoints(settings))  # Rasa itself must refuse, whatever wrote the file
    port = free_port()
    result = subprocess.run(
        [str(RASA_BIN), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port), "--model", str(MODEL)]
        + ["--endpoints", str(endpoints), "--credentials", "credentials.yml"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    assert "tracker store" in output and "cannot be opened" in output
    assert "InMemoryTrackerStore" not in output
