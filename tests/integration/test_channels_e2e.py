"""Telegram and LINE end to end: fake Bot API / Messaging API -> real gateway -> real Rasa + actions.

The gateway runs its real python-telegram-bot and line-bot-sdk clients against the fakes in
`tests.support`; the citizen is played through the fakes' injection helpers. Each test uses its own
user ids because every conversation lands in the one session-wide Rasa server.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.gateway.pipeline import MAX_TEXT
from bot.store import models as m
from bot.store.migrate import upgrade
from bot.texts import render
from tests.integration.stack import GatewayThread, Stack, free_port
from tests.support.fake_line import FakeLineServer
from tests.support.fake_telegram import SAMPLE_JPEG, FakeTelegramServer

CODE = re.compile(r"ADU-[2-9A-HJKMNP-TV-Z]{7}")
WAIT = 30.0
COMPLAINT = "min jalan depan SD 3 berlubang bgt, udh 2 org jatuh"
LAT, LON = -7.56123, 110.83456
SERVICE_DOWN = render("service_down")
UNSUPPORTED = "belum dapat membaca"
TOO_LONG = render("too_long", limit=MAX_TEXT)
TG_SECRET = "rahasia-webhook-123"
SAMPLE_REF = "media:" + hashlib.sha256(SAMPLE_JPEG).hexdigest() + ".jpg"  # what the fakes send as a photo

JSON = dict[str, Any]


# --- citizens ----------------------------------------------------------------------------------


def _sender_rows(gateway: GatewayThread, sender_id: str) -> list[m.InboundMessage]:
    with gateway.gateway.sessions() as session:
        rows = session.scalars(
            select(m.InboundMessage).where(m.InboundMessage.sender_id == sender_id).order_by(m.InboundMessage.id)
        ).all()
        session.expunge_all()
        return list(rows)


class TelegramCitizen:
    """One private chat on the fake Bot API; waits only look at messages sent after the last `send`."""

    def __init__(self, fake: FakeTelegramServer, gateway: GatewayThread) -> None:
        self.fake = fake
        self.gateway = gateway
        self.user_id = random.randint(10**8, 10**9 - 1)
        self._mark = 0

    @property
    def sender_id(self) -> str:
        return f"telegram:{self.user_id}"

    def send(self, raw: JSON | None = None, **spec: Any) -> JSON:
        """Inject a message from this citizen (spec keys of the fake), or a raw update again."""
        self._mark = self.last_seq()
        return self.fake.inject_sync(raw) if raw is not None else self.fake.inject_sync(user_id=self.user_id, **spec)

    def last_seq(self) -> int:
        sent = self.fake.sent()
        return sent[-1]["seq"] if sent else 0

    def messages(self) -> list[JSON]:
        return self.fake.sent(self.user_id, "sendMessage")

    def texts(self) -> list[str]:
        return [e["text"] or "" for e in self.messages()]

    def wait_for(self, needle: str | Callable[[str], bool], timeout: float = WAIT) -> JSON:
        """The newest message since the last `send` whose text contains `needle` (case-insensitive)."""
        match = needle if callable(needle) else (lambda text: needle.lower() in text.lower())
        mark = self._mark
        found = self.fake.wait_for_sent_sync(
            lambda e: e["seq"] > mark and match(e["text"] or ""),
            chat_id=self.user_id,
            method="sendMessage",
            timeout=timeout,
        )
        return found[-1]

    def click(self, title: str) -> JSON:
        """Press the inline button whose label contains `title` on the newest message that has buttons."""
        for entry in reversed(self.messages()):
            rows = (entry.get("reply_markup") or {}).get("inline_keyboard") or []
            for button in (b for row in rows for b in row):
                if title in button["text"]:
                    return self.send(callback_data=button["callback_data"], message_id=entry["message_id"])
        raise AssertionError(f"no button {title!r} in {self.texts()}")

    def rows(self) -> list[m.InboundMessage]:
        return _sender_rows(self.gateway, self.sender_id)


class LineCitizen:
    """One LINE user on the fake Messaging API; signed events go to the gateway's webhook."""

    def __init__(self, fake: FakeLineServer, gateway: GatewayThread) -> None:
        self.fake = fake
        self.gateway = gateway
        self.user_id = "U" + uuid.uuid4().hex
        self._mark = 0

    @property
    def sender_id(self) -> str:
        return f"line:{self.user_id}"

    def send(self, expect_status: int = 200, **spec: Any) -> JSON:
        self._mark = self.last_seq()
        result = self.fake.inject_sync(user_id=self.user_id, **spec)
        assert result["webhook_status"] == expect_status, result
        return result

    def last_seq(self) -> int:
        sent = self.fake.sent()
        return sent[-1]["seq"] if sent else 0

    def entries(self) -> list[JSON]:
        return self.fake.sent(self.user_id, ("reply", "push"))

    def texts(self) -> list[str]:
        return [t for e in self.entries() for t in e["texts"]]

    def wait_for(self, needle: str, timeout: float = WAIT) -> JSON:
        mark = self._mark
        found = self.fake.wait_for_sent_sync(
            lambda e: e["seq"] > mark and any(needle.lower() in (t or "").lower() for t in e["texts"]),
            user_id=self.user_id,
            timeout=timeout,
        )
        return found[-1]

    def click(self, title: str) -> JSON:
        """Tap the quick-reply button whose label contains `title` (LINE sends its postback data)."""
        for entry in reversed(self.entries()):
            for message in entry["messages"]:
                for item in (message.get("quickReply") or {}).get("items", []):
                    action = item["action"]
                    if title in action["label"]:
                        assert action["type"] == "postback"
                        return self.send(postback=action["data"])
        raise AssertionError(f"no quick reply {title!r} in {self.texts()}")

    def rows(self) -> list[m.InboundMessage]:
        return _sender_rows(self.gateway, self.sender_id)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_tg() -> Iterator[FakeTelegramServer]:
    with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def fake_line() -> Iterator[FakeLineServer]:
    with FakeLineServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def gateway(stack: Stack, fake_tg: FakeTelegramServer, fake_line: FakeLineServer) -> Iterator[GatewayThread]:
    """One gateway with Telegram (long polling) and LINE, both on the fakes."""
    settings = stack.settings(
        TELEGRAM_BOT_TOKEN=fake_tg.token,
        TELEGRAM_API_BASE_URL=fake_tg.root_url,
        LINE_CHANNEL_SECRET=fake_line.channel_secret,
        LINE_CHANNEL_ACCESS_TOKEN=fake_line.access_token,
        LINE_API_BASE_URL=fake_line.base_url,
    )
    with GatewayThread(settings) as gw:
        fake_line.set_webhook(f"{gw.url}/webhooks/line")
        yield gw


@pytest.fixture
def tg(fake_tg: FakeTelegramServer, gateway: GatewayThread) -> TelegramCitizen:
    return TelegramCitizen(fake_tg, gateway)


@pytest.fixture
def line(fake_line: FakeLineServer, gateway: GatewayThread) -> LineCitizen:
    return LineCitizen(fake_line, gateway)


# --- 1. Telegram complaint -----------------------------------------------------------------------


def test_telegram_citizen_files_a_complaint_with_location_and_photo(stack: Stack, tg: TelegramCitizen) -> None:
    tg.send(text=COMPLAINT)
    tg.wait_for("lokasi")
    tg.send(location={"latitude": LAT, "longitude": LON})
    tg.wait_for("foto")
    tg.send(photo=True)
    tg.wait_for("identitas")

    tg.click("Biasa")
    summary = tg.wait_for("ringkasan")["text"]
    assert "Titik lokasi" in summary and "Jalan dan Infrastruktur" in summary
    final = tg.click("Kirim laporan")
    done = tg.wait_for(lambda text: bool(CODE.search(text)))["text"]
    code = CODE.search(done).group(0)

    ticket = stack.tickets.get(code)
    assert ticket.citizen_sender == tg.sender_id and ticket.channel == "telegram"
    assert ticket.latitude == pytest.approx(LAT) and ticket.longitude == pytest.approx(LON)
    assert ticket.photos == (SAMPLE_REF,)  # downloaded at intake (getFile) into the media store

    # Both button presses were answered (spinner stops) and their keyboards removed.
    answered = tg.fake.sent(tg.user_id, "answerCallbackQuery")
    assert len(answered) == 2
    assert {e["callback_query_id"] for e in answered} >= {final["update"]["callback_query"]["id"]}
    assert len(tg.fake.sent(tg.user_id, "editMessageReplyMarkup")) == 2

    # 3. Telegram delivers the last update again (same update_id): nothing new happens.
    rows_before, texts_before = len(tg.rows()), tg.texts()
    tg.send(final["update"])
    tg.send(text="terima kasih")  # barrier: the same sender's messages are processed in order
    tg.wait_for("sama-sama")
    assert len(tg.rows()) == rows_before + 1
    assert tg.texts()[: len(texts_before)] == texts_before
    assert sum(bool(CODE.search(t)) for t in tg.texts()) == 1
    assert len(stack.tickets.for_citizen("telegram", str(tg.user_id))) == 1
    assert all(r.status == "done" for r in tg.rows())


# --- 2. LINE complaint -----------------------------------------------------------------------------


def test_line_citizen_files_a_complaint_with_location_and_photo(stack: Stack, line: LineCitizen) -> None:
    line.send(text=COMPLAINT)
    line.wait_for("lokasi")
    line.send(location={"latitude": LAT, "longitude": LON, "address": "Jl. Kenanga, Jebres"})
    line.wait_for("foto")
    line.send(image=True)
    line.wait_for("identitas")

    line.click("Biasa")
    line.wait_for("ringkasan")
    final = line.click("Kirim laporan")
    done = line.wait_for("Kode laporan")
    code = CODE.search("\n".join(done["texts"])).group(0)

    ticket = stack.tickets.get(code)
    assert ticket.citizen_sender == line.sender_id and ticket.channel == "line"
    assert ticket.latitude == pytest.approx(LAT) and ticket.longitude == pytest.approx(LON)
    assert ticket.photos == (SAMPLE_REF,)  # downloaded at intake (content API) into the media store
    # Every answer came within a minute, so each used its event's reply token (no paid pushes).
    assert {e["kind"] for e in line.entries()} == {"reply"}

    # 3. LINE redelivers the last event (same webhookEventId): nothing new happens.
    rows_before, texts_before = len(line.rows()), line.texts()
    again = line.fake.redeliver_sync(final["webhook_event_id"])
    assert again["webhook_status"] == 200
    line.send(text="terima kasih")
    line.wait_for("sama-sama")
    assert len(line.rows()) == rows_before + 1
    assert line.texts()[: len(texts_before)] == texts_before
    assert sum(bool(CODE.search(t)) for t in line.texts()) == 1
    assert len(stack.tickets.for_citizen("line", line.user_id)) == 1


def test_line_pushes_when_the_reply_token_is_stale_or_rejected(line: LineCitizen) -> None:
    old = int((time.time() - 120) * 1000)  # the event waited two minutes (e.g. Rasa was down)
    line.send(text="halo", timestamp=old)
    assert line.wait_for("halo")["kind"] == "push"

    line.fake.fail_next("reply", 400, description="Invalid reply token")
    line.send(text="terima kasih")
    assert line.wait_for("sama-sama")["kind"] == "push"
    assert [e["kind"] for e in line.entries()] == ["push", "push"]


# --- 4. forged and unauthenticated webhooks --------------------------------------------------------


def test_forged_line_signature_is_refused_and_stores_nothing(line: LineCitizen) -> None:
    line.send(expect_status=400, text="pesan palsu", signature="Zm9yZ2VkLXNpZ25hdHVyZQ==")
    line.send(expect_status=400, text="tanpa tanda tangan", signature="")
    assert line.rows() == []
    line.send(text="terima kasih")
    line.wait_for("sama-sama")
    assert [r.text for r in line.rows()] == ["terima kasih"]
    assert len(line.entries()) == 1


def test_telegram_webhook_mode_checks_the_secret_and_deduplicates(stack: Stack, tmp_path: Path) -> None:
    # Its own inbox/outbox database: the module's polling gateway would otherwise claim these rows
    # and answer them through the other fake (two bots sharing one database).
    database_url = f"sqlite:///{tmp_path / 'webhook.db'}"
    upgrade(database_url)
    port = free_port()
    with FakeTelegramServer() as fake:
        settings = stack.settings(
            ADUAN_DATABASE_URL=database_url,
            ADUAN_HTTP_PORT=port,
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=fake.root_url,
            TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/webhooks/telegram",
            TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
        )
        with GatewayThread(settings) as gw:
            assert fake.webhook_url == settings.telegram_webhook_url  # registered at start-up
            citizen = TelegramCitizen(fake, gw)
            url = f"{gw.url}/webhooks/telegram"

            forged = fake.build_update({"user_id": citizen.user_id, "text": "halo"})
            for headers in ({"X-Telegram-Bot-Api-Secret-Token": "salah"}, {}):
                response = httpx.post(url, json=forged, headers=headers, timeout=10)
                assert response.status_code == 403
            assert citizen.rows() == []

            first = citizen.send(text="halo")
            assert first["delivered_via"] == "webhook" and first["webhook_status"] == 200
            citizen.wait_for("halo")
            texts_before = citizen.texts()
            again = citizen.send(first["update"])  # Telegram retries the same update_id
            assert again["webhook_status"] == 200
            citizen.send(text="terima kasih")
            citizen.wait_for("sama-sama")
            assert [r.text for r in citizen.rows()] == ["halo", "terima kasih"]
            assert citizen.texts()[: len(texts_before)] == texts_before
            assert len(citizen.texts()) == len(texts_before) + 1


# --- 5. Rasa down mid-conversation -----------------------------------------------------------------


def test_rasa_outage_keeps_messages_and_tells_the_citizen_once(stack: Stack, tg: TelegramCitizen) -> None:
    tg.send(text="lampu jalan di gang mawar mati sudah seminggu, gelap sekali")
    tg.wait_for("lokasi")
    stopped = False
    try:
        stack.stop_rasa()
        stopped = True
        tg.send(text="gang mawar 3 RT 04 kel. kerten, depan masjid")
        tg.wait_for(SERVICE_DOWN)
        tg.send(photo=True)  # sent while still down: queued behind the first one
        time.sleep(3)  # at least one retry of the first message happens in this window
        assert tg.texts().count(SERVICE_DOWN) == 1
        assert [r.status for r in tg.rows()] == ["done", "pending", "pending"]

        stack.start_rasa()
        stopped = False
        tg.wait_for("identitas", timeout=60)  # location, then photo, in order
    finally:
        if stopped:  # never leave the session's Rasa down for the tests that follow
            stack.stop_rasa()
            stack.start_rasa()

    tg.click("Anonim")
    tg.wait_for("ringkasan")
    tg.click("Kirim laporan")
    code = CODE.search(tg.wait_for(lambda text: bool(CODE.search(text)))["text"]).group(0)
    ticket = stack.tickets.get(code)
    assert "gang mawar 3" in (ticket.location_text or "") and ticket.anonymous
    assert ticket.photos == (SAMPLE_REF,)

    texts = tg.texts()
    assert texts.count(SERVICE_DOWN) == 1
    assert sum("foto" in t.lower() and "pendukung" in t.lower() for t in texts) == 1  # asked once
    assert sum("bagaimana identitas" in t.lower() for t in texts) == 1
    assert len(texts) == len(set(texts))  # nothing answered twice
    assert all(r.status == "done" for r in tg.rows())


# --- 6. content Aduan cannot read --------------------------------------------------------------------


def test_unsupported_and_too_long_messages_get_a_friendly_answer(tg: TelegramCitizen, line: LineCitizen) -> None:
    tg.send(sticker=True)
    assert "stiker" in tg.wait_for(UNSUPPORTED)["text"]
    tg.send(text=("jalan rusak " * 400)[:4090])  # over our limit, within what Telegram lets a user send
    tg.wait_for(TOO_LONG)
    tg.send(text="terima kasih")
    tg.wait_for("sama-sama")
    assert len(tg.messages()) == 3

    line.send(sticker=True)
    assert "stiker" in line.wait_for(UNSUPPORTED)["texts"][0]
    line.send(text="sampah " * (MAX_TEXT // 6))  # LINE itself allows 5,000
    line.wait_for(TOO_LONG)
    line.send(text="terima kasih")
    line.wait_for("sama-sama")
    assert len(line.texts()) == 3
    assert all(r.status == "done" for r in tg.rows() + line.rows())


# --- 7. Telegram rate limit ------------------------------------------------------------------------------


def test_telegram_429_retry_after_is_honoured(tg: TelegramCitizen) -> None:
    calls_before = tg.fake.calls().get("sendMessage", 0)
    tg.fake.fail_next("sendMessage", 429, retry_after=2)
    started = time.time()
    tg.send(text="terima kasih")
    reply = tg.wait_for("sama-sama")
    assert reply["ts"] - started >= 2.0
    tg.send(text="halo")  # barrier: a second delivery of the first answer would come before this
    tg.wait_for("halo")
    assert sum("sama-sama" in t.lower() for t in tg.texts()) == 1
    assert tg.fake.calls()["sendMessage"] - calls_before == len(tg.messages()) + 1
