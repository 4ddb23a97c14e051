"""The fake LINE server must satisfy the real line-bot-sdk v3 client and webhook parser."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    MessageAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.messaging.exceptions import ApiException
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import ImageMessageContent, MessageEvent, PostbackEvent, TextMessageContent

from tests.support.fake_line import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_CHANNEL_SECRET,
    FakeLineServer,
    sign_body,
)
from tests.support.fake_telegram import SAMPLE_JPEG

USER = "Uaaaabbbbccccddddeeeeffff00001111"


@dataclass
class Receiver:
    """Tiny webhook endpoint that validates signatures with the SDK, like the real gateway will."""

    parser: WebhookParser = field(default_factory=lambda: WebhookParser(DEFAULT_CHANNEL_SECRET))
    bodies: list[str] = field(default_factory=list)
    events: list[object] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.bodies.append(body)
        try:
            self.events.extend(self.parser.parse(body, request.headers.get("X-Line-Signature", "")))
        except InvalidSignatureError:
            return web.Response(status=400, text="bad signature")
        return web.Response(text="OK")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/line", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/line"
    yield rec
    await runner.cleanup()


@pytest.fixture
async def fake() -> AsyncIterator[FakeLineServer]:
    async with FakeLineServer() as server:
        yield server


@pytest.fixture
async def api_client(fake: FakeLineServer) -> AsyncIterator[AsyncApiClient]:
    config = Configuration(host=fake.base_url, access_token=DEFAULT_ACCESS_TOKEN)
    async with AsyncApiClient(config) as client:
        yield client


@pytest.fixture
def api(api_client: AsyncApiClient) -> AsyncMessagingApi:
    return AsyncMessagingApi(api_client)


def sign_check(secret: str, body: str, signature: str) -> bool:
    try:
        WebhookParser(secret).parse(body, signature)
    except InvalidSignatureError:
        return False
    return True


async def test_push_message_with_quick_reply(api: AsyncMessagingApi, fake: FakeLineServer) -> None:
    quick = QuickReply(items=[QuickReplyItem(action=MessageAction(label="Ya", text="ya"))])
    response = await api.push_message(
        PushMessageRequest(to=USER, messages=[TextMessage(text="Laporan diterima", quickReply=quick)])
    )
    assert len(response.sent_messages) == 1 and response.sent_messages[0].id

    (entry,) = fake.sent(USER)
    assert entry["kind"] == "push" and entry["texts"] == ["Laporan diterima"]
    assert entry["messages"][0]["quickReply"]["items"][0]["action"]["text"] == "ya"


async def test_reply_token_is_single_use_and_expires(api: AsyncMessagingApi, fake: FakeLineServer) -> None:
    injected = await fake.inject(user_id=USER, text="halo")  # no webhook: the token is still issued
    token = injected["reply_token"]
    await api.reply_message(ReplyMessageRequest(replyToken=token, messages=[TextMessage(text="Halo juga")]))
    assert fake.sent(USER, kind="reply")[0]["texts"] == ["Halo juga"]

    with pytest.raises(ApiException) as reused:
        await api.reply_message(ReplyMessageRequest(replyToken=token, messages=[TextMessage(text="lagi")]))
    assert reused.value.status == 400 and json.loads(reused.value.body)["message"] == "Invalid reply token"

    stale = (await fake.inject(user_id=USER, text="lama"))["reply_token"]
    fake.expire_reply_tokens(stale)
    with pytest.raises(ApiException) as expired:
        await api.reply_message(ReplyMessageRequest(replyToken=stale, messages=[TextMessage(text="telat")]))
    assert expired.value.status == 400

    with pytest.raises(ApiException):
        await api.reply_message(ReplyMessageRequest(replyToken="forged", messages=[TextMessage(text="x")]))
    assert len(fake.sent(USER, kind="reply")) == 1


async def test_reply_token_ttl() -> None:
    async with FakeLineServer(reply_token_ttl=0.0) as short:
        token = (await short.inject(user_id=USER, text="halo"))["reply_token"]
        config = Configuration(host=short.base_url, access_token=DEFAULT_ACCESS_TOKEN)
        async with AsyncApiClient(config) as client:
            with pytest.raises(ApiException):
                await AsyncMessagingApi(client).reply_message(
                    ReplyMessageRequest(replyToken=token, messages=[TextMessage(text="x")])
                )


async def test_get_content_via_blob_api(api_client: AsyncApiClient, fake: FakeLineServer) -> None:
    injected = await fake.inject(user_id=USER, image=True)
    message_id = injected["events"][0]["message"]["id"]
    content = await AsyncMessagingApiBlob(api_client).get_message_content(message_id)
    assert bytes(content) == SAMPLE_JPEG

    with pytest.raises(ApiException) as missing:
        await AsyncMessagingApiBlob(api_client).get_message_content("404")
    assert missing.value.status == 404


async def test_profile_and_bot_info(api: AsyncMessagingApi, fake: FakeLineServer) -> None:
    await fake.inject(user_id=USER, text="hai", display_name="Budi")
    profile = await api.get_profile(USER)
    assert (profile.user_id, profile.display_name) == (USER, "Budi")
    info = await api.get_bot_info()
    assert info.user_id == fake.bot_user_id and info.chat_mode == "bot"


async def test_wrong_access_token_is_rejected(fake: FakeLineServer) -> None:
    config = Configuration(host=fake.base_url, access_token="not-the-token")
    async with AsyncApiClient(config) as client:
        with pytest.raises(ApiException) as info:
            await AsyncMessagingApi(client).get_bot_info()
    assert info.value.status == 401


async def test_webhook_is_signed_and_parsed_by_sdk(fake: FakeLineServer, receiver: Receiver) -> None:
    fake.set_webhook(receiver.url)
    result = await fake.inject(user_id=USER, text="Ada sampah menumpuk")
    assert result["webhook_status"] == 200

    (event,) = receiver.events
    assert isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent)
    assert event.message.text == "Ada sampah menumpuk"
    assert event.source.user_id == USER  # type: ignore[union-attr]
    assert event.reply_token == result["reply_token"]
    assert event.webhook_event_id == result["webhook_event_id"] and len(event.webhook_event_id) == 26
    assert event.delivery_context.is_redelivery is False

    body = receiver.bodies[0]
    assert sign_check(DEFAULT_CHANNEL_SECRET, body, sign_body(DEFAULT_CHANNEL_SECRET, body.encode()))
    assert not sign_check(DEFAULT_CHANNEL_SECRET, body, sign_body("other-secret", body.encode()))
    tampered = body.replace("menumpuk", "hilang")
    assert not sign_check(DEFAULT_CHANNEL_SECRET, tampered, result["signature"])


async def test_forged_signature_is_rejected_by_receiver(fake: FakeLineServer, receiver: Receiver) -> None:
    fake.set_webhook(receiver.url)
    result = await fake.inject(user_id=USER, text="palsu", signature="Zm9yZ2Vk")
    assert result["webhook_status"] == 400 and receiver.events == []


async def test_postback_location_sticker_and_batch(fake: FakeLineServer, receiver: Receiver) -> None:
    fake.set_webhook(receiver.url)
    result = await fake.inject(
        events=[
            {"user_id": USER, "postback": "action=confirm"},
            {"user_id": USER, "location": {"latitude": -6.9, "longitude": 107.6, "address": "Bandung"}},
            {"user_id": USER, "sticker": True},
            {"user_id": USER, "image": True},
        ]
    )
    assert result["webhook_status"] == 200 and len(receiver.bodies) == 1
    postback, location, sticker, image = receiver.events
    assert isinstance(postback, PostbackEvent) and postback.postback.data == "action=confirm"
    assert location.message.latitude == -6.9  # type: ignore[attr-defined]
    assert sticker.message.type == "sticker"  # type: ignore[attr-defined]
    assert isinstance(image.message, ImageMessageContent)  # type: ignore[attr-defined]
    assert len(set(result["webhook_event_ids"])) == 4


async def test_group_and_room_sources_quote_and_reply_to_the_group(
    api: AsyncMessagingApi, fake: FakeLineServer, receiver: Receiver
) -> None:
    fake.set_webhook(receiver.url)
    post = await api.push_message(PushMessageRequest(to="Cgroup1", messages=[TextMessage(text="Tiket baru")]))
    quoted = post.sent_messages[0].id
    await fake.inject(
        events=[
            {"user_id": USER, "group_id": "Cgroup1", "text": "kami cek", "quoted_message_id": quoted},
            {"user_id": USER, "room_id": "Rroom1", "text": "dari room"},
        ]
    )
    in_group, in_room = receiver.events
    assert in_group.source.type == "group" and in_group.source.group_id == "Cgroup1"  # type: ignore[attr-defined]
    assert in_group.source.user_id == USER  # type: ignore[attr-defined]
    assert in_group.message.quoted_message_id == quoted  # type: ignore[attr-defined]
    assert in_room.source.type == "room" and in_room.source.room_id == "Rroom1"  # type: ignore[attr-defined]
    await api.reply_message(
        ReplyMessageRequest(reply_token=in_group.reply_token, messages=[TextMessage(text="Tercatat")])  # type: ignore[attr-defined]
    )
    assert fake.sent("Cgroup1", kind="reply")[0]["texts"] == ["Tercatat"]


async def test_redeliver_keeps_event_id(fake: FakeLineServer, receiver: Receiver) -> None:
    fake.set_webhook(receiver.url)
    first = await fake.inject(user_id=USER, text="sekali")
    again = await fake.redeliver()
    assert again["webhook_status"] == 200
    original, redelivered = receiver.events
    assert original.webhook_event_id == redelivered.webhook_event_id == first["webhook_event_id"]
    assert redelivered.delivery_context.is_redelivery is True
    assert [d["status"] for d in fake.deliveries()] == [200, 200]


async def test_failures_and_retry_key(api: AsyncMessagingApi, fake: FakeLineServer) -> None:
    request = PushMessageRequest(to=USER, messages=[TextMessage(text="coba")])
    fake.fail_next("push", 500)
    with pytest.raises(ApiException) as failed:
        await api.push_message(request, x_line_retry_key="123e4567-e89b-12d3-a456-426614174000")
    assert failed.value.status == 500
    fake.fail_next("push", 429)
    with pytest.raises(ApiException) as limited:
        await api.push_message(request)
    assert limited.value.status == 429

    await api.push_message(request, x_line_retry_key="123e4567-e89b-12d3-a456-426614174000")
    with pytest.raises(ApiException) as duplicate:
        await api.push_message(request, x_line_retry_key="123e4567-e89b-12d3-a456-426614174000")
    assert duplicate.value.status == 409
    assert len(fake.sent(USER)) == 1 and fake.calls()["push"] == 4


async def test_invalid_messages_rejected(api: AsyncMessagingApi, fake: FakeLineServer) -> None:
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"}
        body = {"to": USER, "messages": []}
        async with http.post(f"{fake.base_url}/v2/bot/message/push", json=body, headers=headers) as resp:
            assert resp.status == 400
            assert (await resp.json())["details"][0]["property"] == "messages"
    assert fake.sent() == []


async def test_control_http_api(fake: FakeLineServer, receiver: Receiver) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.control_url}/webhook", json={"url": receiver.url}) as resp:
            assert (await resp.json())["url"] == receiver.url
        async with http.post(f"{fake.control_url}/events", json={"user_id": USER, "text": "via http"}) as resp:
            result = await resp.json()
        assert result["webhook_status"] == 200
        async with http.post(f"{fake.control_url}/redeliver", json={}) as resp:
            assert (await resp.json())["webhook_event_id"] == result["webhook_event_id"]
        async with http.post(f"{fake.control_url}/fail", json={"endpoint": "push", "status": 500}) as resp:
            assert resp.status == 200
        async with http.get(f"{fake.control_url}/sent", params={"user_id": USER}) as resp:
            assert (await resp.json())["sent"] == []
        async with http.post(f"{fake.control_url}/reset") as resp:
            assert resp.status == 200
    assert len(receiver.events) == 2


def test_threaded_mode_without_event_loop() -> None:
    with FakeLineServer() as fake:
        token = fake.inject_sync(user_id=USER, text="dari thread")["reply_token"]
        request = urllib.request.Request(
            f"{fake.base_url}/v2/bot/message/reply",
            data=json.dumps({"replyToken": token, "messages": [{"type": "text", "text": "oke"}]}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"},
        )
        urllib.request.urlopen(request, timeout=5).close()
        assert fake.wait_for_sent_sync(1, user_id=USER, timeout=2)[0]["texts"] == ["oke"]
    assert not fake.running
