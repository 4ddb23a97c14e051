"""Web chat routes without Rasa: history of both sides, photos, locations, event stream, public status."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.config import Settings
from bot.gateway import web_routes
from bot.gateway.app import create_app
from bot.gateway.outbox import add_messages
from bot.store import models as m
from bot.store.migrate import upgrade
from bot.throttle import Throttle
from bot.tickets import NewTicket

SESSION = "a1b2c3d4e5f6a7b8"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path) -> Iterator[TestClient]:
    upgrade(sqlite_url)
    settings = Settings(
        _env_file=None,
        ADUAN_DATABASE_URL=sqlite_url,
        ADUAN_MEDIA_DIR=str(tmp_path / "media"),
        ADUAN_RASA_URL="http://127.0.0.1:9",
        ADUAN_ACTION_SERVER_URL="http://127.0.0.1:9",
    )
    app = create_app(settings)  # no lifespan: no workers, no Rasa needed
    client = TestClient(app)
    client.app_state = app.state  # type: ignore[attr-defined]
    yield client


def gateway(client: TestClient):
    return client.app_state.gateway  # type: ignore[attr-defined]


def inbound(client: TestClient) -> list[m.InboundMessage]:
    with gateway(client).sessions() as session:
        return list(session.scalars(select(m.InboundMessage).order_by(m.InboundMessage.id)))


def test_history_has_both_sides_in_order(client: TestClient) -> None:
    r = client.post("/api/web/messages", json={"session": SESSION, "id": "m1", "text": "sampah numpuk"})
    assert r.status_code == 202
    first = inbound(client)[0]
    with gateway(client).sessions() as session, session.begin():
        add_messages(session, "web", SESSION, [{"text": "Di mana lokasinya?", "buttons": []}], inbound_id=first.id)
    client.post("/api/web/messages", json={"session": SESSION, "id": "m2", "text": "Lewati", "payload": "/skip"})
    data = client.get("/api/web/history", params={"session": SESSION}).json()
    assert [(x["side"], x["text"]) for x in data["messages"]] == [
        ("me", "sampah numpuk"),
        ("bot", "Di mana lokasinya?"),
        ("me", "Lewati"),
    ]
    assert data["after"] == data["messages"][1]["id"]
    # the JSON endpoints keep working as before
    old = client.get("/api/web/messages", params={"session": SESSION, "after": 0}).json()
    assert old["messages"][0]["text"] == "Di mana lokasinya?"
    assert client.get("/api/web/history", params={"session": "x"}).status_code == 400


def test_photo_upload_checked_and_stored_like_channel_photos(client: TestClient, tmp_path: Path) -> None:
    r = client.post(f"/api/web/photo?session={SESSION}&id=p1", content=png(), headers={"Content-Type": "image/png"})
    assert r.status_code == 202, r.text
    row = inbound(client)[-1]
    assert row.kind == "photo" and row.payload["photo_ref"].startswith("media:")
    name = row.payload["photo_ref"].removeprefix("media:")
    assert (tmp_path / "media" / name).is_file()
    bad = client.post(f"/api/web/photo?session={SESSION}", content=b"%PDF-1.4 not a photo")
    assert bad.status_code == 415 and "JPG" in bad.json()["error"]
    big = client.post(f"/api/web/photo?session={SESSION}", content=b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024))
    assert big.status_code == 413 and "10 MB" in big.json()["error"]
    assert len(inbound(client)) == 1


def test_location(client: TestClient) -> None:
    ok = client.post(
        "/api/web/location", json={"session": SESSION, "id": "l1", "latitude": -7.5666, "longitude": 110.8166}
    )
    assert ok.status_code == 202
    row = inbound(client)[-1]
    assert row.kind == "location" and row.payload == {"latitude": -7.5666, "longitude": 110.8166}
    for bad in ({"latitude": 91, "longitude": 0}, {"latitude": "x", "longitude": 1}, {}):
        r = client.post("/api/web/location", json={"session": SESSION, **bad})
        assert r.status_code == 400 and "alamat" in r.json()["error"]


def test_event_stream_sends_replies_after_the_given_id(client: TestClient, monkeypatch) -> None:
    monkeypatch.setattr(web_routes, "STREAM_SECONDS", 0.5)
    monkeypatch.setattr(web_routes, "HEARTBEAT_SECONDS", 0.2)
    with gateway(client).sessions() as session, session.begin():
        add_messages(session, "web", SESSION, [{"text": "satu"}, {"text": "dua"}])
    first_id = client.get("/api/web/messages", params={"session": SESSION}).json()["messages"][0]["id"]
    body = client.get("/api/web/events", params={"session": SESSION}, headers={"Last-Event-ID": str(first_id)}).text
    events = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    assert [e["text"] for e in events] == ["dua"]
    assert "retry:" in body and f"id: {first_id + 1}" in body


def test_public_status_shows_no_identity_and_is_throttled(client: TestClient, monkeypatch) -> None:
    from bot.tickets import TicketService

    service = TicketService(gateway(client).sessions)
    service.sync_opds()
    t = service.create_ticket(
        NewTicket("web", SESSION, SESSION, "rahasia: pungli di kelurahan", "pelayanan_aparatur", confidential=True)
    )
    r = client.get(f"/api/public/status/{t.code.lower()}")
    assert r.status_code == 200
    body = r.json()
    assert body["code"] == t.code and body["opd"] and body["due"]
    assert "pungli" not in json.dumps(body) and SESSION not in json.dumps(body)
    assert client.get("/api/public/status/ADU-2345678").status_code == 404
    monkeypatch.setattr(web_routes, "STATUS_LOOKUPS", Throttle(limit=2, window_seconds=60))
    codes = [client.get("/api/public/status/ADU-2345678").status_code for _ in range(3)]
    assert codes == [404, 404, 429]


def test_page_and_favicon(client: TestClient) -> None:
    page = client.get("/").text
    assert 'rel="icon"' in page and "EventSource" in page and 'maxlength="4000"' not in page
    fav = client.get("/favicon.ico")
    assert fav.status_code == 200 and fav.headers["content-type"].startswith("image/svg")


def test_throttle_window() -> None:
    t = Throttle(limit=2, window_seconds=10)
    assert t.allow("a", now=0) and t.allow("a", now=1) and not t.allow("a", now=2)
    assert t.allow("b", now=2)
    assert t.allow("a", now=11)
