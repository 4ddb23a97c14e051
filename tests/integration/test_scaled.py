"""The scaled profile: two Rasa servers behind a token, one PostgreSQL tracker store, a Redis lock store.

Rasa's `--auth-token` guards its HTTP API but not the channels' webhooks, so the test calls every
door a stranger could knock on without the token. Then a citizen types a complaint through the
gateway (the real python-telegram-bot client on the fake Bot API), the Rasa server that sender is
pinned to is SIGKILLed in the middle of the form, and the next typed answer is taken by the other
server where the conversation left off: the form's next question, not a new start, and in the end
exactly one ticket.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from bot.store.migrate import upgrade
from tests.conftest import PG_URL, pg_schema
from tests.integration.stack import GatewayThread, Stack, ensure_model
from tests.integration.test_channels_e2e import TelegramCitizen
from tests.support.fake_telegram import FakeTelegramServer

CODE = re.compile(r"ADU-[2-9A-HJKMNP-TV-Z]{7}")
LOCK_STORE = "redis://127.0.0.1:6379/14"
COMPLAINT = "lampu jalan di gang melati mati sudah seminggu, gelap sekali kalau malam"
ADDRESS = "Gang Melati RT 02 RW 07, Kelurahan Jebres, dekat mushola Al Ikhlas"


@pytest.fixture(scope="module")
def replicas(pg_ok: bool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Stack]]:
    if not pg_ok:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    redis.Redis.from_url(LOCK_STORE, socket_connect_timeout=3).ping()  # Redis runs on these machines and in CI
    ensure_model()
    token = secrets.token_urlsafe(24)
    workdir: Path = tmp_path_factory.mktemp("scaled")
    with pg_schema() as url:
        upgrade(url)
        a = Stack(workdir, url, token=token, lock_store_url=LOCK_STORE, name="-a")
        b = Stack(workdir, url, token=token, lock_store_url=LOCK_STORE, name="-b")
        try:
            a.start()
            b.start()
            yield a, b
        finally:
            a.stop()
            b.stop()


def test_rasa_refuses_every_call_without_the_token(replicas: tuple[Stack, Stack]) -> None:
    a, _ = replicas
    body = {"sender": "stranger", "message": "halo"}
    assert httpx.get(f"{a.rasa_url}/status").status_code == 401
    assert httpx.post(f"{a.rasa_url}/model/parse", json={"text": "halo"}).status_code == 401
    assert httpx.get(f"{a.rasa_url}/conversations/stranger/tracker").status_code == 401
    assert httpx.put(f"{a.rasa_url}/model", json={"model_file": "/etc/passwd"}).status_code == 401
    assert httpx.post(f"{a.rasa_url}/webhooks/aduan/webhook", json=body).status_code == 401
    assert httpx.post(f"{a.rasa_url}/webhooks/aduan/webhook", params={"token": "salah"}, json=body).status_code == 401
    assert httpx.post(f"{a.rasa_url}/webhooks/rest/webhook", json=body).status_code == 404  # not mounted at all
    # With the token the same doors open.
    assert httpx.get(f"{a.rasa_url}/status", params=a.auth).json()["model_file"]
    answer = httpx.post(f"{a.rasa_url}/webhooks/aduan/webhook", params=a.auth, json=body, timeout=60)
    assert answer.status_code == 200 and answer.json()["messages"]


def test_conversation_moves_to_the_other_rasa_server_when_its_own_dies(replicas: tuple[Stack, Stack]) -> None:
    a, b = replicas
    with FakeTelegramServer() as fake:
        settings = a.settings(
            ADUAN_RASA_URL=f"{a.rasa_url},{b.rasa_url}",
            ADUAN_ACTION_SERVER_URL=f"{a.action_url},{b.action_url}",
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=fake.root_url,
        )
        with GatewayThread(settings) as gw:
            citizen = TelegramCitizen(fake, gw)
            pinned = gw.gateway.rasa.order_for(citizen.sender_id)[0]
            first, other = (a, b) if pinned.url == a.rasa_url else (b, a)

            citizen.send(text=COMPLAINT)
            citizen.wait_for("lokasi")
            first.kill_rasa()
            citizen.send(text=ADDRESS)
            citizen.wait_for("foto")  # the other server went on with the same form
            citizen.send(text="ga ada foto")
            citizen.wait_for("identitas")
            citizen.send(text="1")
            citizen.wait_for("ringkasan")
            citizen.send(text="ya, kirim")
            done = citizen.wait_for("Kode laporan")["text"]

            health = httpx.get(f"{gw.url}/healthz", timeout=30)
            assert health.status_code == 200, health.text  # one Rasa server down is reported, not fatal
            servers = {s["url"]: s["ok"] for s in health.json()["rasa_servers"]}
            assert servers == {first.rasa_url: False, other.rasa_url: True}
            assert health.json()["lock_store"]["ok"] is True

    code = CODE.search(done).group(0)
    tickets = a.tickets.for_citizen("telegram", str(citizen.user_id))
    assert [t.code for t in tickets] == [code]
    assert tickets[0].category_id == "penerangan_jalan"
    assert "Gang Melati" in (tickets[0].location_text or "")
    assert sum(bool(CODE.search(t)) for t in citizen.texts()) == 1
