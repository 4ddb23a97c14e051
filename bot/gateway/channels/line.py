"""LINE through line-bot-sdk 3: verified webhook events in, reply (fresh token) or push out.

The signature is checked before anything is parsed; an invalid one stores nothing. Events are
stored and the webhook answers 200 at once; the shared pipeline processes them afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    ImageMessage,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhooks import (
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UserSource,
)

from bot.gateway.inbox import Inbound, Inbox
from bot.gateway.outbox import OutMessage, PermanentFailure, RetryLater

logger = logging.getLogger(__name__)

CHANNEL = "line"
MAX_TEXT = 5000
MAX_MESSAGES_PER_CALL = 5
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
REPLY_TOKEN_FRESH_SECONDS = 50
MAX_REMEMBERED_TOKENS = 10_000  # LINE keeps a reply token valid for about a minute
RETRY_KEY_NAMESPACE = uuid.UUID("6f1d3c1e-8a4b-4e59-9a47-2f0d3e5b7c11")


class InvalidSignature(Exception):
    pass


class MalformedBody(Exception):
    """Correctly signed, but not a webhook body LINE sends (answered 400, nothing stored)."""


def to_line_messages(payloads: list[dict[str, Any]]) -> list[TextMessage | ImageMessage]:
    out: list[TextMessage | ImageMessage] = []
    for payload in payloads:
        if payload.get("image"):
            out.append(ImageMessage(original_content_url=payload["image"], preview_image_url=payload["image"]))
        if payload.get("text"):
            text = payload["text"]
            quick = None
            buttons = payload.get("buttons") or []
            if buttons:
                quick = QuickReply(
                    items=[
                        QuickReplyItem(
                            action=PostbackAction(
                                label=b["title"][:MAX_LABEL], data=b["payload"], display_text=b["title"][:300]
                            )
                        )
                        for b in buttons[:MAX_QUICK_REPLIES]
                    ]
                )
            out.append(TextMessage(text=text[:MAX_TEXT], quick_reply=quick))
    return out


class LineChannel:
    batch = True

    def __init__(
        self,
        channel_secret: str,
        access_token: str,
        api_base_url: str,
        inbox: Inbox,
        on_inbound: Callable[[], None],
    ) -> None:
        self.parser = WebhookParser(channel_secret)
        self.inbox = inbox
        self.on_inbound = on_inbound
        self._config = Configuration(host=api_base_url.rstrip("/"), access_token=access_token)
        self._client: AsyncApiClient | None = None
        self._api: AsyncMessagingApi | None = None
        self._used_tokens: OrderedDict[str, None] = OrderedDict()  # bounded: tokens expire in a minute

    async def start(self) -> None:
        # The SDK's aiohttp session binds to the running loop, so it is made here, not in __init__
        # (the app is built before uvicorn starts its loop).
        self._client = AsyncApiClient(self._config)
        self._api = AsyncMessagingApi(self._client)
        logger.info("line channel ready (webhook /webhooks/line)")

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = self._api = None

    @property
    def api(self) -> AsyncMessagingApi:
        if self._api is None:
            raise RuntimeError("line channel not started")
        return self._api

    # --- inbound ------------------------------------------------------------------------------

    async def handle_webhook(self, body: bytes, signature: str | None) -> int:
        """Verify, store and acknowledge; returns how many new events were stored."""
        try:
            events = self.parser.parse(body.decode("utf-8"), signature or "")
        except (InvalidSignatureError, UnicodeDecodeError) as exc:  # LINE never sends either
            raise InvalidSignature(str(exc)) from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # signed garbage: not JSON, no events
            raise MalformedBody(f"{type(exc).__name__}: {exc}") from exc
        inbound = [i for i in (self._translate(e) for e in events) if i is not None]
        stored = 0
        for item in inbound:
            if await asyncio.to_thread(self.inbox.store, item) is not None:
                stored += 1
        if stored:
            self.on_inbound()
        return stored

    def _translate(self, event: Any) -> Inbound | None:
        source = getattr(event, "source", None)
        if not isinstance(source, UserSource) or not source.user_id:
            return None  # group/room events belong to the admin relay
        base = {
            "channel": CHANNEL,
            "external_id": event.webhook_event_id,
            "user_id": source.user_id,
            "chat_id": source.user_id,
        }
        hints = {"reply_token": getattr(event, "reply_token", None), "timestamp": event.timestamp}
        if isinstance(event, FollowEvent):
            return Inbound(**base, kind="postback", text="follow", payload={**hints, "data": "/greet"})
        if isinstance(event, PostbackEvent):
            data = event.postback.data
            return Inbound(**base, kind="postback", text=data, payload={**hints, "data": data})
        if not isinstance(event, MessageEvent):
            return None
        message = event.message
        if isinstance(message, TextMessageContent):
            return Inbound(**base, kind="text", text=message.text, payload=hints)
        if isinstance(message, LocationMessageContent):
            return Inbound(
                **base,
                kind="location",
                payload={
                    **hints,
                    "latitude": message.latitude,
                    "longitude": message.longitude,
                    "address": message.address,
                },
            )
        if isinstance(message, ImageMessageContent):
            return Inbound(**base, kind="photo", payload={**hints, "photo_ref": f"line:{message.id}"})
        return Inbound(**base, kind="unsupported", payload={**hints, "what": message.type})

    # --- outbound -----------------------------------------------------------------------------

    async def send(self, chat_id: str, messages: list[OutMessage]) -> None:
        line_messages = to_line_messages([m.payload for m in messages])
        if not line_messages:
            return
        token = self._fresh_token(messages[0].payload)
        chunks = [
            line_messages[i : i + MAX_MESSAGES_PER_CALL] for i in range(0, len(line_messages), MAX_MESSAGES_PER_CALL)
        ]
        for index, chunk in enumerate(chunks):
            if index == 0 and token:
                self._remember_token(token)
                try:
                    await self.api.reply_message(ReplyMessageRequest(reply_token=token, messages=chunk))
                    continue
                except ApiException as exc:
                    if exc.status != 400:
                        raise self._translate_error(exc) from exc
                    logger.info("line reply token rejected, pushing instead")
            retry_key = str(uuid.uuid5(RETRY_KEY_NAMESPACE, f"{messages[0].id}:{index}"))
            try:
                await self.api.push_message(PushMessageRequest(to=chat_id, messages=chunk), x_line_retry_key=retry_key)
            except ApiException as exc:
                if exc.status == 409:  # this retry key was already accepted: delivered before
                    continue
                raise self._translate_error(exc) from exc

    def _remember_token(self, token: str) -> None:
        self._used_tokens[token] = None
        while len(self._used_tokens) > MAX_REMEMBERED_TOKENS:
            self._used_tokens.popitem(last=False)

    def _fresh_token(self, payload: dict[str, Any]) -> str | None:
        token, ts = payload.get("_reply_token"), payload.get("_reply_token_ts")
        if not token or token in self._used_tokens or ts is None:
            return None
        return token if time.time() - float(ts) / 1000 < REPLY_TOKEN_FRESH_SECONDS else None

    @staticmethod
    def _translate_error(exc: ApiException) -> Exception:
        if exc.status == 429:
            return RetryLater(30, "line 429")
        if exc.status in (400, 401, 403):
            return PermanentFailure(f"line {exc.status}: {exc.body}")
        return exc
