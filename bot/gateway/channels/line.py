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

import httpx
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexMessage,
    FlexText,
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
    GroupSource,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    RoomSource,
    TextMessageContent,
    UserSource,
)

from bot.gateway.inbox import Inbound, Inbox
from bot.gateway.outbox import Delivery, OutMessage, PermanentFailure, RetryLater
from bot.media import MediaStore

logger = logging.getLogger(__name__)

CHANNEL = "line"
MAX_TEXT = 5000
MAX_MESSAGES_PER_CALL = 5
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_FLEX_LABEL = 40
MAX_FLEX_BUTTONS = 14
MAX_FLEX_TITLE = 120
MAX_ALT_TEXT = 400
ADMIN_BUTTON_PREFIX = "adm:"
REPLY_TOKEN_FRESH_SECONDS = 50
MAX_REMEMBERED_TOKENS = 10_000  # LINE keeps a reply token valid for about a minute
RETRY_KEY_NAMESPACE = uuid.UUID("6f1d3c1e-8a4b-4e59-9a47-2f0d3e5b7c11")


class InvalidSignature(Exception):
    pass


class MalformedBody(Exception):
    """Correctly signed, but not a webhook body LINE sends (answered 400, nothing stored)."""


def action_card(text: str, buttons: list[dict[str, Any]]) -> FlexMessage:
    """A Flex bubble of postback buttons (LINE's answer to Telegram's inline keyboard)."""
    title = text.splitlines()[0][:MAX_FLEX_TITLE] if text.strip() else "Tindakan"
    contents: list[Any] = [FlexText(text=title, weight="bold", wrap=True)]
    contents += [
        FlexButton(
            action=PostbackAction(label=b["title"][:MAX_FLEX_LABEL], data=b["payload"], display_text=b["title"][:300]),
            style="primary" if index == 0 else "secondary",
            height="sm",
        )
        for index, b in enumerate(buttons[:MAX_FLEX_BUTTONS])
    ]
    return FlexMessage(
        alt_text=title[:MAX_ALT_TEXT],
        contents=FlexBubble(body=FlexBox(layout="vertical", spacing="sm", contents=contents)),
    )


def to_line_messages(
    payloads: list[dict[str, Any]], image_url: Callable[[str], str | None] = lambda ref: None
) -> list[TextMessage | ImageMessage | FlexMessage]:
    """LINE messages for outbox payloads; `image_url` turns a media-store ref into a signed public URL."""
    out: list[TextMessage | ImageMessage | FlexMessage] = []
    for payload in payloads:
        image = payload.get("image") or (image_url(payload["image_ref"]) if payload.get("image_ref") else None)
        if payload.get("image_ref") and not image:
            out.append(TextMessage(text=payload.get("caption") or "(foto)"))  # no public URL configured
        if image:
            out.append(ImageMessage(original_content_url=image, preview_image_url=image))
        if payload.get("text"):
            text = payload["text"]
            buttons = payload.get("buttons") or []
            if buttons and all(b["payload"].startswith(ADMIN_BUTTON_PREFIX) for b in buttons):
                # Admin posts: the text stays a plain message (admins quote it to answer the citizen),
                # the actions follow as a Flex card with postback buttons.
                out.append(TextMessage(text=text[:MAX_TEXT]))
                out.append(action_card(text, buttons))
                continue
            quick = None
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
        # Message content lives on api-data.line.me; a test fake serves both from one root.
        base = api_base_url.rstrip("/")
        self._data_url = "https://api-data.line.me" if base == "https://api.line.me" else base
        self._token = access_token
        self.media: MediaStore | None = None  # set by the gateway, with the public base URL
        self.public_base_url: str | None = None

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
        if isinstance(source, UserSource) and source.user_id:
            chat_id, chat_type = source.user_id, "user"
        elif isinstance(source, GroupSource) and source.group_id:
            chat_id, chat_type = source.group_id, "group"
        elif isinstance(source, RoomSource) and source.room_id:
            chat_id, chat_type = source.room_id, "room"
        else:
            return None
        # In groups and rooms the member is known only when LINE tells us (they may not have consented).
        user_id = getattr(source, "user_id", None) or chat_id
        base = {
            "channel": CHANNEL,
            "external_id": event.webhook_event_id,
            "user_id": user_id,
            "chat_id": chat_id,
        }
        hints: dict[str, Any] = {
            "reply_token": getattr(event, "reply_token", None),
            "timestamp": event.timestamp,
            "chat_type": chat_type,
        }
        if chat_type != "user" and not isinstance(event, (MessageEvent, PostbackEvent)):
            return None  # joins, leaves and the like in admin groups need no answer
        if (
            chat_type != "user"
            and isinstance(event, MessageEvent)
            and not isinstance(event.message, TextMessageContent)
        ):
            return None  # admins' photos and stickers stay in their group
        if isinstance(event, MessageEvent) and getattr(event.message, "id", None):
            hints["message_id"] = str(event.message.id)
        quoted = getattr(getattr(event, "message", None), "quoted_message_id", None)
        if quoted:
            hints["reply_to"] = str(quoted)
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

    async def download(self, message_id: str) -> bytes:
        """A citizen's image, fetched at intake from LINE's content API for the media store."""
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.get(
                f"{self._data_url}/v2/bot/message/{message_id}/content",
                headers={"Authorization": f"Bearer {self._token}"},
            )
        if response.status_code == 429:
            raise RetryLater(30, "line 429")
        response.raise_for_status()
        return response.content

    def _image_url(self, ref: str) -> str | None:
        """LINE fetches images itself: a signed, expiring URL on this gateway's GET /media route."""
        if self.media is None or not self.public_base_url:
            return None
        return self.public_base_url.rstrip("/") + self.media.signed_path(ref)

    # --- outbound -----------------------------------------------------------------------------

    async def send(self, chat_id: str, messages: list[OutMessage]) -> Delivery:
        """Reply while the event's token is fresh (free), else push (counted: pushes cost money).

        Returns LINE's ids of the sent messages per outbox row, so a quote of one maps to its ticket.
        """
        owners: list[int] = []
        line_messages: list[Any] = []
        for msg in messages:
            converted = to_line_messages([msg.payload], self._image_url)
            line_messages += converted
            owners += [msg.id] * len(converted)
        delivery = Delivery("reply")
        if not line_messages:
            delivery.via = "none"
            return delivery
        token = self._fresh_token(messages[0].payload)
        for index, start in enumerate(range(0, len(line_messages), MAX_MESSAGES_PER_CALL)):
            chunk = line_messages[start : start + MAX_MESSAGES_PER_CALL]
            response: Any = None
            if index == 0 and token:
                self._remember_token(token)
                try:
                    response = await self.api.reply_message(ReplyMessageRequest(reply_token=token, messages=chunk))
                except ApiException as exc:
                    if exc.status != 400:
                        raise self._translate_error(exc) from exc
                    logger.info("line reply token rejected, pushing instead")
            if response is None:
                delivery.via = "push"
                retry_key = str(uuid.uuid5(RETRY_KEY_NAMESPACE, f"{messages[0].id}:{index}"))
                try:
                    response = await self.api.push_message(
                        PushMessageRequest(to=chat_id, messages=chunk), x_line_retry_key=retry_key
                    )
                except ApiException as exc:
                    if exc.status == 409:  # this retry key was already accepted: delivered before
                        continue
                    raise self._translate_error(exc) from exc
            for offset, sent in enumerate(getattr(response, "sent_messages", None) or []):
                if start + offset < len(owners):
                    delivery.ids.setdefault(owners[start + offset], []).append(str(sent.id))
        return delivery

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
