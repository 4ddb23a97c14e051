"""Fake LINE Messaging API server for offline tests and demos.

line-bot-sdk v3 clients are pointed at it with ``Configuration(host=fake.base_url, ...)``.  The SDK
hardcodes ``https://api-data.line.me`` for the blob API (content downloads) but
``Configuration.host`` overrides every host, so this one server serves both ``api.line.me`` and
``api-data.line.me`` paths.  LINE pushes events to the bot, so injected events are built into a
signed webhook body and POSTed to the bot's webhook URL, exactly as the LINE Platform does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.fake_telegram import (
    SAMPLE_JPEG,
    BaseFakeServer,
    FailureSpec,
    SentPredicate,
    json_response,
    read_json_body,
    run_forever,
    sent_checker,
)

JSON = dict[str, Any]
_Endpoint = Callable[[web.Request, dict[str, str]], Awaitable[web.Response]]

DEFAULT_CHANNEL_SECRET = "fake-line-channel-secret"
DEFAULT_ACCESS_TOKEN = "fake-line-access-token"
DEFAULT_USER_ID = "U1234567890abcdef1234567890abcdef"
BOT_USER_ID = "Ufakebot0000000000000000000000000"
REPLY_TOKEN_TTL = 60.0
SAMPLE_M4A = b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 16

_AUTH_FAILED = "Authentication failed. Confirm that the access token in the authorization header is valid."
_MESSAGE_TYPES = frozenset(
    {"text", "sticker", "image", "video", "audio", "location", "imagemap", "template", "flex", "textV2"}
)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def sign_body(channel_secret: str, body: bytes) -> str:
    """X-Line-Signature value: base64(HMAC-SHA256(channel_secret, body)); tests use it to forge."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def new_ulid() -> str:
    """ULID-shaped id (48-bit ms timestamp + 80 random bits, Crockford base32), as webhookEventId."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


class LineApiError(Exception):
    """Raised inside handlers to produce a LINE-style error body."""

    def __init__(self, status: int, message: str, details: list[JSON] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


@dataclass
class _ReplyToken:
    user_id: str | None
    issued: float
    used: bool = False


@dataclass
class _LineState:
    reply_tokens: dict[str, _ReplyToken] = field(default_factory=dict)
    events: dict[str, JSON] = field(default_factory=dict)  # webhookEventId -> event
    deliveries: list[JSON] = field(default_factory=list)
    contents: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    sent: list[JSON] = field(default_factory=list)
    retry_keys: dict[str, tuple[str, list[JSON]]] = field(default_factory=dict)
    profiles: dict[str, JSON] = field(default_factory=dict)


def _validate_messages(messages: Any) -> None:
    """The checks LINE does on ``messages`` that a bot can realistically get wrong."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        raise LineApiError(
            400,
            "The request body has 1 error(s)",
            [{"message": "Size must be between 1 and 5", "property": "messages"}],
        )
    details = []
    for i, message in enumerate(messages):
        kind = message.get("type") if isinstance(message, dict) else None
        if kind not in _MESSAGE_TYPES:
            allowed = ", ".join(sorted(_MESSAGE_TYPES))
            details.append(
                {"message": f"Must be one of the following values: {allowed}", "property": f"messages[{i}].type"}
            )
            continue
        if kind == "text":
            text = message.get("text")
            if not text:
                details.append({"message": "May not be empty", "property": f"messages[{i}].text"})
            elif len(text) > 5000:
                details.append({"message": "Length must be between 0 and 5000", "property": f"messages[{i}].text"})
        items = ((message.get("quickReply") or {}).get("items")) if isinstance(message, dict) else None
        if items is not None and not 1 <= len(items) <= 13:
            details.append({"message": "Size must be between 1 and 13", "property": f"messages[{i}].quickReply.items"})
    if details:
        raise LineApiError(400, f"The request body has {len(details)} error(s)", details)


class FakeLineServer(BaseFakeServer):
    """In-process fake of the LINE Messaging API (api.line.me + api-data.line.me) with a control API.

    Args:
        channel_secret: used to sign webhook bodies (X-Line-Signature).
        access_token: expected ``Authorization: Bearer`` token; ``None`` accepts any bearer token.
        webhook_url: where injected events are POSTed (can be set later with :meth:`set_webhook`).
        host, port: bind address; port 0 picks a free port.
        reply_token_ttl: seconds a reply token stays valid (LINE: about a minute).
    """

    def __init__(
        self,
        channel_secret: str = DEFAULT_CHANNEL_SECRET,
        access_token: str | None = DEFAULT_ACCESS_TOKEN,
        webhook_url: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        reply_token_ttl: float = REPLY_TOKEN_TTL,
        bot_user_id: str = BOT_USER_ID,
    ) -> None:
        super().__init__(host, port)
        self.channel_secret = channel_secret
        self.access_token = access_token
        self.reply_token_ttl = reply_token_ttl
        self.bot_user_id = bot_user_id
        self._webhook_url = webhook_url
        self._state = _LineState()
        self._message_ids = itertools.count(500000000000000001)
        self._request_ids = itertools.count(1)

    # -- URLs --------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """Value for ``Configuration(host=...)`` / LINE_API_BASE_URL (also serves blob/content)."""
        return self.root_url

    @property
    def data_base_url(self) -> str:
        """Same server; named for code that keeps api-data.line.me separate."""
        return self.root_url

    @property
    def control_url(self) -> str:
        return f"{self.root_url}/_control"

    @property
    def webhook_url(self) -> str | None:
        with self._lock:
            return self._webhook_url

    def set_webhook(self, url: str | None) -> None:
        """Where the next injected events are delivered."""
        with self._lock:
            self._webhook_url = url

    # -- app ---------------------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        r = app.router
        r.add_post("/v2/bot/message/reply", self._api(self._reply, "reply"))
        r.add_post("/v2/bot/message/push", self._api(self._push, "push"))
        r.add_get("/v2/bot/profile/{user_id}", self._api(self._profile, "profile"))
        r.add_get("/v2/bot/info", self._api(self._info, "info"))
        r.add_get("/v2/bot/message/{message_id}/content", self._api(self._content, "content"))
        r.add_get("/v2/bot/message/{message_id}/content/preview", self._api(self._content, "content"))
        r.add_post("/_control/events", self._c_events)
        r.add_post("/_control/redeliver", self._c_redeliver)
        r.add_get("/_control/webhook", self._c_get_webhook)
        r.add_post("/_control/webhook", self._c_set_webhook)
        r.add_get("/_control/sent", self._c_sent)
        r.add_post("/_control/fail", self._c_fail)
        r.add_post("/_control/reset", self._c_reset)
        r.add_get("/_control/calls", self._c_calls)
        r.add_post("/_control/expire", self._c_expire)
        r.add_route("*", "/v2/{tail:.*}", self._api(self._not_found, "unknown"))
        return app

    def _api(self, handler: _Endpoint, name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Wrap an endpoint with auth, call counting, failure injection and LINE error bodies."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            request_id = f"fake-{next(self._request_ids):012d}"
            headers = {"x-line-request-id": request_id}
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or (
                self.access_token is not None and auth.removeprefix("Bearer ") != self.access_token
            ):
                return json_response({"message": _AUTH_FAILED}, 401, headers)
            self._count(name)
            failure = self._take_failure(name)
            if failure is not None:
                return await self._failure_response(failure, headers)
            try:
                return await handler(request, headers)
            except LineApiError as exc:
                body: JSON = {"message": exc.message}
                if exc.details:
                    body["details"] = exc.details
                return json_response(body, exc.status, headers)

        return wrapped

    async def _failure_response(self, failure: FailureSpec, headers: dict[str, str]) -> web.Response:
        if failure.delay:
            await asyncio.sleep(failure.delay)
        defaults = {
            400: "The request body has 1 error(s)",
            403: "Access to this API is not available for your account",
            429: "The API rate limit has been exceeded. Try again later.",
            500: "Internal Server Error",
        }
        message = failure.description or defaults.get(failure.status, "Error")
        if failure.status == 429 and failure.retry_after:
            headers = {**headers, "Retry-After": str(failure.retry_after)}
        return json_response({"message": message}, failure.status, headers)

    # -- Messaging API endpoints -------------------------------------------------------------------
    async def _read_api_json(self, request: web.Request) -> JSON:
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError as exc:
            raise LineApiError(400, "The request body could not be parsed as JSON") from exc
        if not isinstance(body, dict):
            raise LineApiError(400, "The request body could not be parsed as JSON")
        return body

    def _sent_messages(self, messages: list[JSON]) -> list[JSON]:
        out = []
        for message in messages:
            with self._lock:
                entry: JSON = {"id": str(next(self._message_ids))}
            if message.get("type") in ("text", "sticker", "image", "video", "textV2"):
                entry["quoteToken"] = uuid.uuid4().hex
            out.append(entry)
        return out

    def _record(self, kind: str, user_id: str | None, **extra: Any) -> JSON:
        entry: JSON = {"kind": kind, "user_id": user_id, "ts": time.time(), **extra}
        messages = entry.get("messages") or []
        entry["texts"] = [m.get("text") for m in messages if isinstance(m, dict) and m.get("type") == "text"]
        with self._lock:
            entry["seq"] = len(self._state.sent) + 1
            self._state.sent.append(entry)
        return entry

    async def _reply(self, request: web.Request, headers: dict[str, str]) -> web.Response:
        body = await self._read_api_json(request)
        messages = body.get("messages")
        _validate_messages(messages)
        token = str(body.get("replyToken") or "")
        now = time.monotonic()
        with self._lock:
            issued = self._state.reply_tokens.get(token)
            if issued is None or issued.used or now - issued.issued > self.reply_token_ttl:
                raise LineApiError(400, "Invalid reply token")
            issued.used = True
        sent = self._sent_messages(messages)
        self._record(
            "reply",
            issued.user_id,
            reply_token=token,
            messages=messages,
            sent_messages=sent,
            notification_disabled=bool(body.get("notificationDisabled", False)),
        )
        return json_response({"sentMessages": sent}, 200, headers)

    async def _push(self, request: web.Request, headers: dict[str, str]) -> web.Response:
        body = await self._read_api_json(request)
        to = body.get("to")
        if not isinstance(to, str) or not to:
            raise LineApiError(400, "The property, 'to', in the request body is invalid (line: -, column: -)")
        messages = body.get("messages")
        _validate_messages(messages)
        retry_key = request.headers.get("X-Line-Retry-Key")
        if retry_key:
            with self._lock:
                seen = self._state.retry_keys.get(retry_key)
            if seen is not None:  # LINE's idempotency: same key within 24 h is not sent twice
                accepted_id, sent = seen
                return json_response(
                    {"message": "The retry key is already accepted", "sentMessages": sent},
                    409,
                    {**headers, "x-line-accepted-request-id": accepted_id},
                )
        sent = self._sent_messages(messages)
        if retry_key:
            with self._lock:
                self._state.retry_keys[retry_key] = (headers["x-line-request-id"], sent)
        self._record(
            "push",
            to,
            messages=messages,
            sent_messages=sent,
            retry_key=retry_key,
            notification_disabled=bool(body.get("notificationDisabled", False)),
        )
        return json_response({"sentMessages": sent}, 200, headers)

    async def _profile(self, request: web.Request, headers: dict[str, str]) -> web.Response:
        user_id = request.match_info["user_id"]
        if not user_id.startswith("U"):
            raise LineApiError(404, "Not found")
        with self._lock:
            profile = dict(self._state.profiles.get(user_id) or {})
        profile.setdefault("displayName", "Warga LINE")
        profile.setdefault("language", "id")
        profile["userId"] = user_id
        return json_response(profile, 200, headers)

    async def _info(self, request: web.Request, headers: dict[str, str]) -> web.Response:
        info = {
            "userId": self.bot_user_id,
            "basicId": "@aduan-test",
            "displayName": "Aduan",
            "chatMode": "bot",
            "markAsReadMode": "auto",
        }
        return json_response(info, 200, headers)

    async def _content(self, request: web.Request, headers: dict[str, str]) -> web.Response:
        with self._lock:
            content = self._state.contents.get(request.match_info["message_id"])
        if content is None:
            raise LineApiError(404, "Not found")
        data, content_type = content
        return web.Response(body=data, content_type=content_type, headers=headers)

    async def _not_found(self, request: web.Request, headers: dict[str, str]) -> web.Response:
        raise LineApiError(404, "Not found")

    # -- event building and delivery ---------------------------------------------------------------
    def _issue_reply_token(self, user_id: str | None, token: str | None = None) -> str:
        token = token or uuid.uuid4().hex
        with self._lock:
            self._state.reply_tokens[token] = _ReplyToken(user_id, time.monotonic())
        return token

    def _message_id(self) -> str:
        with self._lock:
            return str(next(self._message_ids))

    def build_event(self, spec: JSON) -> JSON:
        """Turn a helper-friendly spec (or a raw event) into a LINE webhook event dict.

        Spec keys: user_id, display_name, timestamp, webhook_event_id, is_redelivery, group_id or
        room_id (the event comes from a group/room, written by user_id), quoted_message_id (a text
        quoting an earlier message: the id LINE returned in ``sentMessages``), and one of
        text | postback (data str, or {"data", "params"}) | location | image (true or
        {"bytes_b64", "content_type"}) | audio | sticker | follow | unfollow.  A dict with a
        ``type`` key is a raw event: missing envelope fields are filled in and its replyToken is
        registered as valid.
        """
        spec = dict(spec)
        if "type" in spec:
            event = json.loads(json.dumps(spec))
            user_id = (event.get("source") or {}).get("userId", DEFAULT_USER_ID)
            event.setdefault("source", {"type": "user", "userId": user_id})
            self._fill_envelope(event, spec)
            if event.get("replyToken"):
                self._issue_reply_token(user_id, event["replyToken"])
            return event

        user_id = str(spec.get("user_id", DEFAULT_USER_ID))
        if spec.get("display_name"):
            with self._lock:
                self._state.profiles[user_id] = {"displayName": spec["display_name"]}
        source: JSON = {"type": "user", "userId": user_id}
        if spec.get("group_id"):
            source = {"type": "group", "groupId": str(spec["group_id"]), "userId": user_id}
        elif spec.get("room_id"):
            source = {"type": "room", "roomId": str(spec["room_id"]), "userId": user_id}
        event: JSON = {"source": source}
        if "text" in spec:
            event.update(type="message", message=self._text(str(spec["text"])))
            if spec.get("quoted_message_id"):
                event["message"]["quotedMessageId"] = str(spec["quoted_message_id"])
        elif "postback" in spec:
            postback = spec["postback"] if isinstance(spec["postback"], dict) else {"data": str(spec["postback"])}
            event.update(type="postback", postback=postback)
        elif "location" in spec:
            loc = spec["location"]
            message: JSON = {
                "id": self._message_id(),
                "type": "location",
                "latitude": float(loc["latitude"]),
                "longitude": float(loc["longitude"]),
            }
            for key in ("title", "address"):
                if loc.get(key):
                    message[key] = loc[key]
            event.update(type="message", message=message)
        elif spec.get("image"):
            image = spec["image"] if isinstance(spec["image"], dict) else {}
            data = base64.b64decode(image["bytes_b64"]) if image.get("bytes_b64") else SAMPLE_JPEG
            message = {
                "id": self._message_id(),
                "type": "image",
                "contentProvider": {"type": "line"},
                "quoteToken": uuid.uuid4().hex,
            }
            with self._lock:
                self._state.contents[message["id"]] = (data, image.get("content_type", "image/jpeg"))
            event.update(type="message", message=message)
        elif spec.get("audio"):
            message = {
                "id": self._message_id(),
                "type": "audio",
                "duration": 3000,
                "contentProvider": {"type": "line"},
            }
            with self._lock:
                self._state.contents[message["id"]] = (SAMPLE_M4A, "audio/x-m4a")
            event.update(type="message", message=message)
        elif spec.get("sticker"):
            message = {
                "id": self._message_id(),
                "type": "sticker",
                "packageId": "446",
                "stickerId": "1988",
                "stickerResourceType": "STATIC",
                "keywords": ["happy"],
                "quoteToken": uuid.uuid4().hex,
            }
            event.update(type="message", message=message)
        elif spec.get("follow"):
            event.update(type="follow", follow={"isUnblocked": False})
        elif spec.get("unfollow"):
            event.update(type="unfollow")
        else:
            raise ValueError("event spec needs text, postback, location, image, audio, sticker, follow or type")
        if event["type"] != "unfollow":  # a reply goes to where the event came from (user, group or room)
            chat = source.get("groupId") or source.get("roomId") or user_id
            event["replyToken"] = self._issue_reply_token(chat)
        self._fill_envelope(event, spec)
        return event

    def _text(self, text: str) -> JSON:
        return {"id": self._message_id(), "type": "text", "text": text, "quoteToken": uuid.uuid4().hex}

    @staticmethod
    def _fill_envelope(event: JSON, spec: JSON) -> None:
        event.setdefault("mode", "active")
        event.setdefault("timestamp", int(spec.get("timestamp") or time.time() * 1000))
        event.setdefault("webhookEventId", str(spec.get("webhook_event_id") or new_ulid()))
        event.setdefault("deliveryContext", {"isRedelivery": bool(spec.get("is_redelivery", False))})

    def webhook_body(self, events: list[JSON]) -> bytes:
        """Serialize events the way LINE does (compact JSON, UTF-8)."""
        payload = {"destination": self.bot_user_id, "events": events}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    async def _send_webhook(self, events: list[JSON], signature: str | None = None) -> JSON:
        body = self.webhook_body(events)
        sig = signature if signature is not None else sign_body(self.channel_secret, body)
        with self._lock:
            for event in events:
                self._state.events[event["webhookEventId"]] = event
            url = self._webhook_url
        result: JSON = {
            "ok": True,
            "events": events,
            "webhook_event_ids": [e["webhookEventId"] for e in events],
            "reply_tokens": [e.get("replyToken") for e in events],
            "body": body.decode("utf-8"),
            "signature": sig,
            "webhook_status": None,
            "webhook_error": None,
        }
        if len(events) == 1:
            result["webhook_event_id"] = events[0]["webhookEventId"]
            result["reply_token"] = events[0].get("replyToken")
        if url:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "X-Line-Signature": sig,
                "User-Agent": "LineBotWebhook/2.0",
            }
            status, error = await self._post_json(url, body, headers)
            result.update(webhook_status=status, webhook_error=error)
        else:
            result["webhook_error"] = "no webhook URL configured"
        with self._lock:
            self._state.deliveries.append(
                {"ids": result["webhook_event_ids"], "status": result["webhook_status"], "ts": time.time()}
            )
        return result

    async def _deliver(self, spec: JSON) -> JSON:
        specs = spec["events"] if isinstance(spec.get("events"), list) else [spec]
        events = [self.build_event(s) for s in specs]
        return await self._send_webhook(events, spec.get("signature"))

    async def _redeliver(self, webhook_event_id: str | None) -> JSON:
        with self._lock:
            if webhook_event_id is None:
                if not self._state.events:
                    raise KeyError("nothing delivered yet")
                webhook_event_id = next(reversed(self._state.events))
            original = self._state.events[webhook_event_id]
        event = json.loads(json.dumps(original))
        event["deliveryContext"] = {"isRedelivery": True}
        return await self._send_webhook([event])

    # -- Python helper API -------------------------------------------------------------------------
    async def inject(self, spec: JSON | None = None, /, **kwargs: Any) -> JSON:
        """Inject a user event and deliver it signed to the webhook (``inject(text="halo")``).

        ``{"events": [spec, ...]}`` batches several events in one webhook call; ``signature=...``
        overrides X-Line-Signature (to test forged requests).  Returns ``{"webhook_status",
        "webhook_event_id", "reply_token", "events", "body", "signature", ...}``.
        """
        return await self._run_async(self._deliver({**(spec or {}), **kwargs}))

    def inject_sync(self, spec: JSON | None = None, /, **kwargs: Any) -> JSON:
        """Blocking :meth:`inject` for threaded mode (not from the server's own loop)."""
        return self._run_sync(self._deliver({**(spec or {}), **kwargs}))

    async def redeliver(self, webhook_event_id: str | None = None) -> JSON:
        """Resend a delivered event (default: the last one) with isRedelivery=true, same id."""
        return await self._run_async(self._redeliver(webhook_event_id))

    def redeliver_sync(self, webhook_event_id: str | None = None) -> JSON:
        return self._run_sync(self._redeliver(webhook_event_id))

    def expire_reply_tokens(self, reply_token: str | None = None) -> None:
        """Age one reply token (or all) past the TTL, to test the push fallback without sleeping."""
        with self._lock:
            for token, issued in self._state.reply_tokens.items():
                if reply_token is None or token == reply_token:
                    issued.issued -= self.reply_token_ttl + 1

    def add_content(self, data: bytes, content_type: str = "image/jpeg") -> str:
        """Register downloadable content; returns the message id to use in a raw event."""
        message_id = self._message_id()
        with self._lock:
            self._state.contents[message_id] = (data, content_type)
        return message_id

    def sent(self, user_id: str | None = None, kind: str | Iterable[str] | None = None) -> list[JSON]:
        """Replies/pushes (and loading indicators) the bot sent, oldest first."""
        kinds = {kind} if isinstance(kind, str) else set(kind) if kind else None
        with self._lock:
            return [
                dict(entry)
                for entry in self._state.sent
                if (user_id is None or entry.get("user_id") == user_id) and (kinds is None or entry["kind"] in kinds)
            ]

    def deliveries(self) -> list[JSON]:
        """Webhook deliveries made so far: event ids and the HTTP status the bot answered."""
        with self._lock:
            return list(self._state.deliveries)

    async def wait_for_sent(
        self,
        what: int | SentPredicate = 1,
        *,
        user_id: str | None = None,
        kind: str | Iterable[str] | None = ("reply", "push"),
        timeout: float = 5.0,
    ) -> list[JSON]:
        """Wait for ``what`` replies/pushes (int) or for one matching a predicate.

        Loading indicators are excluded by default (``kind``) so counts mean "messages".
        """
        check = sent_checker(lambda: self.sent(user_id, kind), what)
        return await self._wait_until(check, timeout, lambda: self._timeout_message(user_id, what))

    def wait_for_sent_sync(
        self,
        what: int | SentPredicate = 1,
        *,
        user_id: str | None = None,
        kind: str | Iterable[str] | None = ("reply", "push"),
        timeout: float = 5.0,
    ) -> list[JSON]:
        """Blocking :meth:`wait_for_sent` for threaded mode."""
        check = sent_checker(lambda: self.sent(user_id, kind), what)
        return self._wait_until_sync(check, timeout, lambda: self._timeout_message(user_id, what))

    def _timeout_message(self, user_id: str | None, what: Any) -> str:
        summary = [(e["kind"], e.get("user_id"), e.get("texts")) for e in self.sent(user_id)]
        return f"bot did not send {what!r} to {user_id!r} in time; sent so far: {summary}"

    def reset(self) -> None:
        """Forget tokens, events, content, sent messages, failures and counters (keeps webhook)."""
        with self._lock:
            self._state = _LineState()
            self._failures.clear()
            self._calls.clear()

    # -- control API -------------------------------------------------------------------------------
    async def _c_events(self, request: web.Request) -> web.Response:
        body = await read_json_body(request)
        try:
            return json_response(await self._deliver(body))
        except (KeyError, TypeError, ValueError) as exc:
            return json_response({"ok": False, "error": f"bad event spec: {exc!r}"}, 400)

    async def _c_redeliver(self, request: web.Request) -> web.Response:
        body = await read_json_body(request)
        try:
            return json_response(await self._redeliver(body.get("webhook_event_id")))
        except KeyError as exc:
            return json_response({"ok": False, "error": f"unknown event: {exc}"}, 404)

    async def _c_get_webhook(self, request: web.Request) -> web.Response:
        return json_response({"ok": True, "url": self.webhook_url})

    async def _c_set_webhook(self, request: web.Request) -> web.Response:
        self.set_webhook((await read_json_body(request)).get("url"))
        return json_response({"ok": True, "url": self.webhook_url})

    async def _c_sent(self, request: web.Request) -> web.Response:
        return json_response({"ok": True, "sent": self.sent(request.query.get("user_id"), request.query.get("kind"))})

    async def _c_fail(self, request: web.Request) -> web.Response:
        self._failure_from_body(await read_json_body(request))
        return json_response({"ok": True})

    async def _c_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return json_response({"ok": True})

    async def _c_calls(self, request: web.Request) -> web.Response:
        return json_response({"ok": True, "calls": self.calls()})

    async def _c_expire(self, request: web.Request) -> web.Response:
        self.expire_reply_tokens((await read_json_body(request)).get("reply_token"))
        return json_response({"ok": True})


def main(
    host: str = "127.0.0.1",
    port: int = 8082,
    channel_secret: str = DEFAULT_CHANNEL_SECRET,
    access_token: str | None = DEFAULT_ACCESS_TOKEN,
    webhook_url: str | None = None,
) -> None:
    """Run the fake standalone (blocking) for manual demos."""
    server = FakeLineServer(channel_secret, access_token, webhook_url, host=host, port=port)

    def banner() -> str:
        return (
            f"Fake LINE Messaging API listening on {server.root_url}\n"
            f"  LINE_API_BASE_URL={server.base_url}\n"
            f"  webhook -> {webhook_url or '<unset: POST /_control/webhook>'}  control: {server.control_url}/"
        )

    run_forever(server, banner)


if __name__ == "__main__":
    main()
