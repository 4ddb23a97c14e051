"""Hostile input against the gateway's webhooks and web-chat API (property-based, hypothesis).

The real gateway app runs in-process (Starlette TestClient, lifespan and workers included) with
Telegram in webhook mode on the fake Bot API and LINE on a signed webhook; Rasa and the action
server are down on purpose (nothing here needs them). Whatever arrives: no crash, no 5xx, nothing
forged or replayed is stored, and what a citizen typed is stored exactly as typed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from bot.config import Settings
from bot.gateway.app import create_app
from bot.gateway.pipeline import MAX_TEXT
from bot.store import models as m
from bot.store.db import engine_for
from bot.store.migrate import upgrade
from tests.conftest import IN_CI, PG_URL, _pg_driver_url, postgres_available
from tests.integration.stack import free_port
from tests.support.fake_telegram import FakeTelegramServer

TG_SECRET = "rahasia-webhook-hostile"
LINE_SECRET = "line-secret-hostile"
HOSTILE = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

ATTACK_STRINGS = [
    "'; DROP TABLE tickets; --",
    "1' OR '1'='1",
    'Robert"); DELETE FROM inbound_messages WHERE ("1"="1',
    "<script>alert('xss')</script>",
    '<img src=x onerror="fetch(`//evil`)">',
    "{{7*7}} ${7*7} {% raw %}",
    "\x00\x01\x02 null bytes",
    "‮ right-to-left override ‭",
    "jalan rusak 🕳️🚧 di gang mawar" * 3,
    "\ufeffBOM di depan",
    "%s %d %n {0} {text}",
    "../../etc/passwd",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
typed_text = st.one_of(st.sampled_from(ATTACK_STRINGS), st.text(min_size=1, max_size=300))
content_types = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "", "image/png"]
)


def line_signature(body: bytes, secret: str = LINE_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The gateway's store on each backend (a throw-away PostgreSQL schema for this module)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'gateway.db'}"
        return
    if not postgres_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but {PG_URL} is not reachable")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    schema = f"hostile_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_pg_driver_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = _pg_driver_url(PG_URL) + f"{sep}options={quote(f'-csearch_path={schema}')}"
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def gateway(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Any]]:
    workdir: Path = tmp_path_factory.mktemp("hostile")
    upgrade(database_url)
    down = f"http://127.0.0.1:{free_port()}"  # Rasa and the action server are not running
    with FakeTelegramServer() as fake:
        settings_ = Settings(
            _env_file=None,
            ADUAN_DATABASE_URL=database_url,
            ADUAN_RASA_URL=down,
            ADUAN_ACTION_SERVER_URL=down,
            ADUAN_HTTP_PORT=free_port(),
            ADUAN_MEDIA_DIR=str(workdir / "media"),
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=fake.root_url,
            TELEGRAM_WEBHOOK_URL="https://aduan.example/webhooks/telegram",
            TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
            LINE_CHANNEL_SECRET=LINE_SECRET,
            LINE_CHANNEL_ACCESS_TOKEN="line-token-hostile",
            LINE_API_BASE_URL=down,
        )
        app = create_app(settings_)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, app.state.gateway


def inbox_count(gw: Any, channel: str | None = None) -> int:
    with gw.sessions() as session:
        query = select(func.count()).select_from(m.InboundMessage)
        if channel:
            query = query.where(m.InboundMessage.channel == channel)
        return session.scalar(query) or 0


def rows_for(gw: Any, sender_id: str) -> list[m.InboundMessage]:
    with gw.sessions() as session:
        rows = session.scalars(
            select(m.InboundMessage).where(m.InboundMessage.sender_id == sender_id).order_by(m.InboundMessage.id)
        ).all()
        session.expunge_all()
        return list(rows)


def as_stored(typed: str) -> str:
    """What the inbox keeps of a typed text: all of it but U+0000, which PostgreSQL cannot hold."""
    return typed.replace("\x00", "")


def assert_no_5xx(status: int) -> None:
    assert status < 500, f"server error {status}"


# --- web chat ---------------------------------------------------------------------------------------


@HOSTILE
@given(body=json_values)
def test_web_chat_any_json_body_gets_a_clear_answer(gateway: tuple[TestClient, Any], body: Any) -> None:
    client, _ = gateway
    response = client.post("/api/web/messages", json=body)
    assert response.status_code in (202, 400), response.text
    assert response.headers["content-type"].startswith("application/json")


@HOSTILE
@given(
    raw=st.one_of(
        st.binary(max_size=2000),
        st.sampled_from([b"NaN", b'{"session": Infinity, "text": NaN}', b'{"session": "s", "text": "a', b"\xff{}"]),
    ),
    content_type=content_types,
)
def test_web_chat_malformed_bodies_and_wrong_content_types(
    gateway: tuple[TestClient, Any], raw: bytes, content_type: str
) -> None:
    client, _ = gateway
    response = client.post("/api/web/messages", content=raw, headers={"Content-Type": content_type})
    assert response.status_code in (202, 400), response.text


@HOSTILE
@given(text=typed_text)
def test_web_chat_stores_text_exactly_as_typed(gateway: tuple[TestClient, Any], text: str) -> None:
    client, gw = gateway
    session = uuid.uuid4().hex
    response = client.post("/api/web/messages", json={"session": session, "id": uuid.uuid4().hex, "text": text})
    assert response.status_code == 202
    [row] = rows_for(gw, f"web:{session}")
    assert row.text == as_stored(text)


@HOSTILE
@given(session=st.text(max_size=80), after=st.text(max_size=30))
def test_web_chat_polling_with_odd_parameters(gateway: tuple[TestClient, Any], session: str, after: str) -> None:
    client, _ = gateway
    response = client.get("/api/web/messages", params={"session": session, "after": after})
    assert response.status_code == 200
    assert isinstance(response.json()["messages"], list)


def test_web_chat_huge_and_empty_bodies(gateway: tuple[TestClient, Any]) -> None:
    client, gw = gateway
    assert client.post("/api/web/messages", content=b"").status_code == 400
    session = uuid.uuid4().hex
    huge = "sampah numpuk " * 300_000  # ~4 MB of text
    response = client.post("/api/web/messages", json={"session": session, "text": huge})
    assert_no_5xx(response.status_code)
    for row in rows_for(gw, f"web:{session}"):
        assert len(row.text or "") <= MAX_TEXT * 4  # refused politely later, never stored as megabytes


def test_web_chat_replayed_message_id_is_stored_once(gateway: tuple[TestClient, Any]) -> None:
    client, gw = gateway
    session, message_id = uuid.uuid4().hex, uuid.uuid4().hex
    body = {"session": session, "id": message_id, "text": "lampu jalan mati di gang mawar"}
    first = client.post("/api/web/messages", json=body)
    again = client.post("/api/web/messages", json=body)
    assert first.json() == {"stored": True} and again.json() == {"stored": False}
    assert len(rows_for(gw, f"web:{session}")) == 1


# --- Telegram webhook -------------------------------------------------------------------------------


def telegram_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 100_000 + 1,
            "date": 1_764_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Warga"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Warga"},
            "text": text,
        },
    }


def tg_post(client: TestClient, body: Any, secret: str | None = TG_SECRET, **kwargs: Any) -> Any:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    if isinstance(body, bytes):
        return client.post("/webhooks/telegram", content=body, headers=headers, **kwargs)
    return client.post("/webhooks/telegram", json=body, headers=headers, **kwargs)


@HOSTILE
@given(secret=st.one_of(st.none(), st.text(max_size=64).filter(lambda s: s != TG_SECRET)), text=typed_text)
def test_telegram_forged_secret_is_refused_and_stores_nothing(
    gateway: tuple[TestClient, Any], secret: str | None, text: str
) -> None:
    client, gw = gateway
    before = inbox_count(gw, "telegram")
    try:
        response = tg_post(client, telegram_update(uuid.uuid4().int % 10**9, 424242, text), secret)
    except (UnicodeEncodeError, ValueError):
        return  # a header value HTTP cannot carry never reaches the gateway
    assert response.status_code == 403
    assert inbox_count(gw, "telegram") == before


@HOSTILE
@given(body=json_values)
def test_telegram_any_json_with_the_right_secret_gets_no_5xx(gateway: tuple[TestClient, Any], body: Any) -> None:
    client, _ = gateway
    response = tg_post(client, body)
    assert response.status_code in (200, 400), response.text


@HOSTILE
@given(raw=st.binary(max_size=2000), content_type=content_types)
def test_telegram_malformed_bodies(gateway: tuple[TestClient, Any], raw: bytes, content_type: str) -> None:
    client, _ = gateway
    response = client.post(
        "/webhooks/telegram",
        content=raw,
        headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": content_type},
    )
    assert response.status_code in (200, 400), response.text


@pytest.mark.parametrize(
    "kind",
    [
        {"edited_message": telegram_update(1, 7, "diedit")["message"]},
        {"channel_post": {"message_id": 1, "date": 1, "chat": {"id": -1001, "type": "channel"}, "text": "x"}},
        {"poll": {"id": "p1", "question": "?", "options": [], "total_voter_count": 0, "is_closed": False}},
        {"my_chat_member": {"chat": {"id": 7, "type": "private"}}},
        {"totally_new_update_kind_2030": {"anything": [1, 2, 3]}},
        {},
    ],
)
def test_telegram_unknown_or_unhandled_update_kinds(gateway: tuple[TestClient, Any], kind: dict[str, Any]) -> None:
    client, gw = gateway
    before = inbox_count(gw, "telegram")
    response = tg_post(client, {"update_id": uuid.uuid4().int % 10**9, **kind})
    assert response.status_code in (200, 400)
    assert inbox_count(gw, "telegram") == before


@HOSTILE
@given(text=typed_text)
def test_telegram_text_is_stored_as_typed_and_a_replay_is_not_stored_again(
    gateway: tuple[TestClient, Any], text: str
) -> None:
    client, gw = gateway
    user_id = uuid.uuid4().int % 10**9 + 1
    update = telegram_update(uuid.uuid4().int % 10**9, user_id, text)
    assert tg_post(client, update).status_code == 200
    assert tg_post(client, update).status_code == 200  # Telegram retries: acknowledged, not stored twice
    rows = rows_for(gw, f"telegram:{user_id}")
    assert len(rows) == 1
    if not text.startswith("/"):
        assert rows[0].text == as_stored(text)


# --- LINE webhook -------------------------------------------------------------------------------------


def line_body(text: str, user_id: str | None = None, event_id: str | None = None, **extra: Any) -> bytes:
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": 1_764_000_000_000,
        "source": {"type": "user", "userId": user_id or "U" + uuid.uuid4().hex},
        "webhookEventId": event_id or uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
        "replyToken": uuid.uuid4().hex,
        "message": {"id": str(uuid.uuid4().int % 10**15), "type": "text", "quoteToken": "q", "text": text},
        **extra,
    }
    return json.dumps({"destination": "Uaduanbot", "events": [event]}).encode()


def line_post(client: TestClient, body: bytes, signature: str | None, content_type: str = "application/json") -> Any:
    headers = {"Content-Type": content_type}
    if signature is not None:
        headers["X-Line-Signature"] = signature
    return client.post("/webhooks/line", content=body, headers=headers)


@HOSTILE
@given(
    text=typed_text,
    forged=st.one_of(
        st.none(),
        st.just(""),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", max_size=60),
        st.binary(min_size=32, max_size=32).map(lambda b: base64.b64encode(b).decode()),
    ),
)
def test_line_forged_signature_is_refused_and_stores_nothing(
    gateway: tuple[TestClient, Any], text: str, forged: str | None
) -> None:
    client, gw = gateway
    before = inbox_count(gw, "line")
    body = line_body(text)
    for signature in (forged, line_signature(body, "another-channels-secret"), line_signature(body + b" ")):
        response = line_post(client, body, signature)
        assert response.status_code == 400, response.text
    assert inbox_count(gw, "line") == before


@HOSTILE
@given(text=typed_text)
def test_line_signed_text_is_stored_as_typed_and_a_replay_is_not_stored_again(
    gateway: tuple[TestClient, Any], text: str
) -> None:
    client, gw = gateway
    user_id = "U" + uuid.uuid4().hex
    body = line_body(text, user_id)
    signature = line_signature(body)
    assert line_post(client, body, signature).status_code == 200
    assert line_post(client, body, signature).status_code == 200  # replayed: acknowledged, not stored again
    rows = rows_for(gw, f"line:{user_id}")
    assert len(rows) == 1 and rows[0].text == as_stored(text)


@HOSTILE
@given(raw=st.one_of(st.binary(max_size=2000), json_values.map(lambda v: json.dumps(v).encode())))
def test_line_correctly_signed_garbage_gets_no_5xx(gateway: tuple[TestClient, Any], raw: bytes) -> None:
    client, _ = gateway
    response = line_post(client, raw, line_signature(raw))
    assert response.status_code in (200, 400), response.text


@pytest.mark.parametrize(
    "event",
    [
        {"type": "unfollow"},
        {"type": "memberJoined", "joined": {"members": []}},
        {"type": "beacon", "beacon": {"hwid": "d41d8cd98f", "type": "enter"}},
        {"type": "videoPlayComplete", "videoPlayComplete": {"trackingId": "t"}},
        {"type": "brandNewEventType2030", "whatever": {"x": 1}},
        {"type": "message", "message": {"id": "1", "type": "futureMessageType"}},
    ],
)
def test_line_unknown_event_types(gateway: tuple[TestClient, Any], event: dict[str, Any]) -> None:
    client, _ = gateway
    base = {
        "mode": "active",
        "timestamp": 1_764_000_000_000,
        "source": {"type": "user", "userId": "U" + uuid.uuid4().hex},
        "webhookEventId": uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
        "replyToken": uuid.uuid4().hex,
    }
    body = json.dumps({"destination": "Uaduanbot", "events": [{**base, **event}]}).encode()
    response = line_post(client, body, line_signature(body))
    assert response.status_code == 200, response.text


def test_line_huge_and_empty_bodies(gateway: tuple[TestClient, Any]) -> None:
    client, _ = gateway
    assert line_post(client, b"", None).status_code == 400
    assert line_post(client, b"", line_signature(b"")).status_code in (200, 400)
    huge = line_body("banjir " * 700_000)  # ~5 MB
    assert line_post(client, huge, "Zm9yZ2Vk").status_code == 400
    assert_no_5xx(line_post(client, huge, line_signature(huge)).status_code)


# --- a store that is down: an honest 5xx (the sender retries), then exactly one row -------------------


def test_database_down_answers_5xx_so_the_sender_retries_and_nothing_is_lost(
    gateway: tuple[TestClient, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, gw = gateway
    user_id = uuid.uuid4().int % 10**9 + 1
    update = telegram_update(uuid.uuid4().int % 10**9, user_id, "air pdam mati 3 hari")
    line_user = "U" + uuid.uuid4().hex
    body = line_body("sampah numpuk di TPS", line_user)
    web = {"session": uuid.uuid4().hex, "id": uuid.uuid4().hex, "text": "jalan berlubang"}

    def store_down(msg: Any) -> int | None:
        raise OperationalError("INSERT", {}, Exception("database is down"))

    with monkeypatch.context() as patch:
        patch.setattr(gw.inbox, "store", store_down)
        assert tg_post(client, update).status_code >= 500
        assert line_post(client, body, line_signature(body)).status_code >= 500
        assert client.post("/api/web/messages", json=web).status_code >= 500
    # The senders retry once the store is back: each message is stored exactly once.
    assert tg_post(client, update).status_code == 200
    assert line_post(client, body, line_signature(body)).status_code == 200
    assert client.post("/api/web/messages", json=web).status_code == 202
    assert len(rows_for(gw, f"telegram:{user_id}")) == 1
    assert len(rows_for(gw, f"line:{line_user}")) == 1
    assert len(rows_for(gw, f"web:{web['session']}")) == 1


# --- the gateway is still answering afterwards ------------------------------------------------------


def test_gateway_still_healthy_apart_from_the_missing_rasa(gateway: tuple[TestClient, Any]) -> None:
    client, _ = gateway
    response = client.get("/healthz")
    assert response.status_code == 503  # Rasa and the action server are down on purpose: honest, not a crash
    assert response.json()["ok"] is False
