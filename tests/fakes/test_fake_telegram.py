"""The fake Telegram server must satisfy the real python-telegram-bot client, or gateway tests lie."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter

from tests.support.fake_telegram import DEFAULT_TOKEN, SAMPLE_JPEG, FakeTelegramServer

CHAT = 424242


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegramServer) -> AsyncIterator[Bot]:
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "aduan_test_bot" and me.id == 123456789


async def test_send_message_with_inline_keyboard(bot: Bot, fake: FakeTelegramServer) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ya", callback_data="confirm:yes")]])
    first = await bot.send_message(CHAT, "Halo, ada yang bisa dibantu?", reply_markup=markup)
    second = await bot.send_message(CHAT, "Kedua")

    assert second.message_id == first.message_id + 1
    assert first.reply_markup == markup
    sent = fake.sent(CHAT)
    assert [e["text"] for e in sent] == ["Halo, ada yang bisa dibantu?", "Kedua"]
    assert sent[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "confirm:yes"
    assert sent[0]["chat_id"] == CHAT and fake.sent(chat_id=999) == []


async def test_get_updates_returns_injected_update_and_confirms_offset(bot: Bot, fake: FakeTelegramServer) -> None:
    injected = await fake.inject(user_id=CHAT, text="/start")
    updates = await bot.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [injected["update_id"]]
    message = updates[0].message
    assert message is not None and message.text == "/start" and message.chat.id == CHAT
    assert message.from_user is not None and message.from_user.id == CHAT
    assert message.entities[0].type == "bot_command"  # CommandHandler needs this

    # Not confirmed yet -> delivered again; confirmed by offset -> gone.
    assert [u.update_id for u in await bot.get_updates()] == [injected["update_id"]]
    assert await bot.get_updates(offset=injected["update_id"] + 1) == ()
    assert fake.pending_updates() == []


async def test_long_poll_wakes_up_on_injection(bot: Bot, fake: FakeTelegramServer) -> None:
    async def inject_later() -> None:
        await asyncio.sleep(0.1)
        await fake.inject(user_id=CHAT, location={"latitude": -6.2, "longitude": 106.8})

    started = time.monotonic()
    _, updates = await asyncio.gather(inject_later(), bot.get_updates(timeout=5))
    assert time.monotonic() - started < 2
    location = updates[0].message.location
    assert (location.latitude, location.longitude) == (-6.2, 106.8)


async def test_duplicate_update_id_is_redelivered(bot: Bot, fake: FakeTelegramServer) -> None:
    first = await fake.inject(user_id=CHAT, text="satu")
    await bot.get_updates(offset=0)
    assert await bot.get_updates(offset=first["update_id"] + 1) == ()
    await fake.inject(user_id=CHAT, text="satu", update_id=first["update_id"])
    again = await bot.get_updates(offset=first["update_id"] + 1)
    assert [u.update_id for u in again] == [first["update_id"]]


async def test_callback_query_answer_and_edit(bot: Bot, fake: FakeTelegramServer) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ya", callback_data="yes")]])
    prompt = await bot.send_message(CHAT, "Kirim laporan?", reply_markup=markup)
    await fake.inject(user_id=CHAT, callback_data="yes", message_id=prompt.message_id)

    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "yes"
    assert query.message is not None and query.message.message_id == prompt.message_id
    assert query.message.reply_markup == markup

    assert await query.answer("Terkirim") is True
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()
    edited = await bot.edit_message_reply_markup(CHAT, prompt.message_id, reply_markup=None)
    assert edited.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(CHAT, prompt.message_id, reply_markup=None)
    await bot.edit_message_text("Laporan terkirim", CHAT, prompt.message_id)
    methods = [e["method"] for e in fake.sent(CHAT)]
    assert methods == ["sendMessage", "answerCallbackQuery", "editMessageReplyMarkup", "editMessageText"]


async def test_photo_get_file_and_download(bot: Bot, fake: FakeTelegramServer) -> None:
    await fake.inject(user_id=CHAT, photo=True, caption="jalan berlubang")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.caption == "jalan berlubang"
    largest = update.message.photo[-1]
    tg_file = await bot.get_file(largest.file_id)
    assert tg_file.file_path is not None and tg_file.file_path.startswith(fake.base_file_url)
    assert bytes(await tg_file.download_as_bytearray()) == SAMPLE_JPEG


async def test_send_photo_upload(bot: Bot, fake: FakeTelegramServer) -> None:
    message = await bot.send_photo(CHAT, photo=SAMPLE_JPEG, caption="Peta lokasi")
    assert message.photo and message.caption == "Peta lokasi"
    entry = fake.sent(CHAT, method="sendPhoto")[0]
    assert entry["photo"]["size"] == len(SAMPLE_JPEG) and entry["text"] == "Peta lokasi"


GROUP = -1001234567890


async def test_group_reply_to_a_bot_message(bot: Bot, fake: FakeTelegramServer) -> None:
    post = await bot.send_message(GROUP, "Tiket baru AD-1")
    await fake.inject(user_id=777, chat_id=GROUP, text="Kami cek besok", reply_to=post.message_id)
    (update,) = await bot.get_updates()
    message = update.message
    assert message is not None and message.chat.type == "supergroup" and message.from_user.id == 777
    assert message.reply_to_message is not None and message.reply_to_message.message_id == post.message_id
    answer = await bot.send_message(GROUP, "Tercatat", reply_to_message_id=message.message_id)
    assert answer.reply_to_message is not None and answer.reply_to_message.message_id == message.message_id


async def test_forum_topics_threads_and_deleted_topic(bot: Bot, fake: FakeTelegramServer) -> None:
    with pytest.raises(BadRequest, match="not a forum"):
        await bot.create_forum_topic(GROUP, "AD-1")
    fake.make_forum(GROUP)
    topic = await bot.create_forum_topic(GROUP, "AD-1 jalan rusak")
    sent = await bot.send_message(GROUP, "Tiket baru", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id and sent.chat.is_forum
    await fake.inject(user_id=777, chat_id=GROUP, text="balasan di topik", thread_id=topic.message_thread_id)
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.message_thread_id == topic.message_thread_id
    fake.delete_topic(GROUP, topic.message_thread_id)
    with pytest.raises(BadRequest, match="thread not found"):
        await bot.send_message(GROUP, "lagi", message_thread_id=topic.message_thread_id)


async def test_blocked_bot_and_removed_from_group_are_forbidden(bot: Bot, fake: FakeTelegramServer) -> None:
    fake.block(CHAT)
    fake.block(GROUP)
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(CHAT, "halo")
    with pytest.raises(Forbidden, match="kicked"):
        await bot.send_message(GROUP, "halo")


async def test_429_surfaces_as_retry_after(bot: Bot, fake: FakeTelegramServer) -> None:
    fake.fail_next("sendMessage", 429, retry_after=1, times=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(CHAT, "halo")
        assert info.value.retry_after in (1, timedelta(seconds=1))  # int or timedelta across PTB 22.x
    await bot.send_message(CHAT, "halo")
    assert fake.calls()["sendMessage"] == 3
    assert len(fake.sent(CHAT)) == 1


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_surface_as_network_error(bot: Bot, fake: FakeTelegramServer, status: int) -> None:
    fake.fail_next("*", status)
    with pytest.raises(NetworkError):
        await bot.send_message(CHAT, "halo")


async def test_unknown_method_and_bad_token(fake: FakeTelegramServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}{DEFAULT_TOKEN}/sendTelepathy", json={}) as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method sendTelepathy",
            }
        async with http.post(f"{fake.base_url}0:wrong/getMe") as resp:
            assert resp.status == 401


async def test_webhook_delivery_with_secret_token(bot: Bot, fake: FakeTelegramServer) -> None:
    received: list[tuple[str | None, dict]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=200 if len(received) == 1 else 503)

    app = web.Application()
    app.router.add_post("/tg", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/tg", secret_token="s3cret")
        assert fake.webhook_url.endswith("/tg")

        first = await fake.inject(user_id=CHAT, text="lewat webhook")
        second = await fake.inject(user_id=CHAT, text="lagi")
        assert (first["delivered_via"], first["webhook_status"], second["webhook_status"]) == ("webhook", 200, 503)
        assert received[0][0] == "s3cret"
        assert received[0][1]["message"]["text"] == "lewat webhook"
        with pytest.raises(Conflict):
            await bot.get_updates()

        assert await bot.delete_webhook()
        third = await fake.inject(user_id=CHAT, text="polling lagi")
        assert third["delivered_via"] == "polling"
    finally:
        await runner.cleanup()


async def test_control_http_api(fake: FakeTelegramServer, bot: Bot) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.control_url}/updates", json={"user_id": CHAT, "text": "via http"}) as resp:
            update_id = (await resp.json())["update_id"]
        (update,) = await bot.get_updates()
        assert update.update_id == update_id

        fail = {"method": "sendMessage", "status": 429, "retry_after": 2, "times": 1}
        async with http.post(f"{fake.control_url}/fail", json=fail) as resp:
            assert resp.status == 200
        with pytest.raises(RetryAfter):
            await bot.send_message(CHAT, "x")
        await bot.send_message(CHAT, "balasan")

        async with http.get(f"{fake.control_url}/sent", params={"chat_id": str(CHAT)}) as resp:
            assert [e["text"] for e in (await resp.json())["sent"]] == ["balasan"]
        async with http.get(f"{fake.control_url}/calls") as resp:
            assert (await resp.json())["calls"]["sendMessage"] == 2
        async with http.post(f"{fake.control_url}/reset") as resp:
            assert resp.status == 200
    assert fake.sent() == [] and fake.calls() == {}


async def test_wait_for_sent(bot: Bot, fake: FakeTelegramServer) -> None:
    async def reply_later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(CHAT, "nomor tiket ADU-0001")

    task = asyncio.create_task(reply_later())
    matched = await fake.wait_for_sent(lambda e: "ADU-" in (e["text"] or ""), chat_id=CHAT, timeout=2)
    await task
    assert matched[0]["text"] == "nomor tiket ADU-0001"
    with pytest.raises(TimeoutError, match="sent so far"):
        await fake.wait_for_sent(2, chat_id=CHAT, timeout=0.1)


def test_threaded_mode_without_event_loop() -> None:
    with FakeTelegramServer(token=None) as fake:
        fake.inject_sync(user_id=CHAT, text="dari thread")
        url = f"{fake.base_url}any-token/getUpdates?timeout=1"
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = json.load(resp)
        assert body["ok"] and body["result"][0]["message"]["text"] == "dari thread"

        request = urllib.request.Request(
            f"{fake.base_url}any-token/sendMessage",
            data=json.dumps({"chat_id": CHAT, "text": "oke"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=5).close()
        assert fake.wait_for_sent_sync(1, chat_id=CHAT, timeout=2)[0]["text"] == "oke"
    assert not fake.running
