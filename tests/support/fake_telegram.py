"""Fake Telegram Bot API server for offline tests and demos.

The machine running the tests has no internet, so the real python-telegram-bot client is pointed at
this server (``Bot(token, base_url=fake.base_url, base_file_url=fake.base_file_url)``).  It speaks
the same URL layout and JSON envelopes as ``api.telegram.org`` for the methods the bot uses, and
adds a ``/_control/`` API (plus the :class:`FakeTelegramServer` Python helper) so tests can play
the citizen: inject updates, inspect what the bot sent and make calls fail the way Telegram does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Self, TypeVar

import aiohttp
from aiohttp import web

T = TypeVar("T")
JSON = dict[str, Any]
SentPredicate = Callable[[JSON], bool]

DEFAULT_TOKEN = "123456789:AAFakeTokenForOfflineTests"
DEFAULT_USER_ID = 111111
POLL_INTERVAL = 0.01

# A real 2x2 JPEG so code that decodes or re-encodes user photos works on fake downloads too.
SAMPLE_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1R"
    "V19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2P/wAARCAACAAIDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAA"
    "AgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6"
    "Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXG"
    "x8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREA"
    "AgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5"
    "OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPE"
    "xcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDHooorhPqD/9k="
)
SAMPLE_OGG = b"OggS\x00\x02" + b"\x00" * 58  # enough bytes to look like a voice note header
SAMPLE_WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 28


# --------------------------------------------------------------------------------------------------
# Shared plumbing (also used by fake_line.py)
# --------------------------------------------------------------------------------------------------


@dataclass
class FailureSpec:
    """One armed failure: the next ``times`` calls of ``method`` answer with ``status``."""

    method: str
    status: int
    times: int = 1
    retry_after: int | None = None
    description: str | None = None
    delay: float = 0.0

    def matches(self, method: str) -> bool:
        return self.times > 0 and (self.method == "*" or self.method.lower() == method.lower())


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON response with UTF-8 text kept readable (Indonesian text in logs and dumps)."""
    return web.Response(
        status=status,
        body=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
        headers=headers,
    )


async def read_json_body(request: web.Request) -> JSON:
    """Control endpoints accept an empty body as ``{}`` so curl one-liners stay short."""
    raw = await request.read()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="control body must be a JSON object")
    return data


class BaseFakeServer:
    """Runs an aiohttp app either on the caller's event loop or on a private background thread.

    Tests written with pytest-asyncio use ``await start()`` / ``await stop()`` (or ``async with``);
    synchronous code (demo scripts, threaded gateways) uses ``start_thread()`` / ``stop_thread()``
    (or ``with``).  State lives behind a lock so the inspection helpers work from any thread.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._thread: threading.Thread | None = None
        self._failures: list[FailureSpec] = []
        self._calls: Counter[str] = Counter()
        self.closing = False

    # -- to be provided by subclasses -------------------------------------------------------------
    def build_app(self) -> web.Application:
        raise NotImplementedError

    def _on_stopping(self) -> None:
        """Hook to release long-running handlers before the runner shuts down."""

    # -- lifecycle ---------------------------------------------------------------------------------
    @property
    def root_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self.port is None:
            raise RuntimeError("server is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> Self:
        """Start on the current event loop; port 0 picks a free port (see ``.port``)."""
        if self._runner is not None:
            raise RuntimeError("already started")
        self._loop = asyncio.get_running_loop()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.closing = False
        # handler_cancellation: a client giving up on a long poll must not leave a zombie poller.
        runner = web.AppRunner(
            self.build_app(),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            handler_cancellation=True,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port, reuse_address=True)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Stop the server started with :meth:`start` (idempotent)."""
        self.closing = True
        self._on_stopping()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def start_thread(self, timeout: float = 10.0) -> Self:
        """Start on a private event loop in a daemon thread; returns once the port is bound."""
        ready = threading.Event()
        errors: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name=type(self).__name__, daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("fake server did not start in time")
        if errors:
            raise errors[0]
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop a server started with :meth:`start_thread` (idempotent)."""
        thread, self._thread = self._thread, None
        if thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        thread.join(timeout)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __enter__(self) -> Self:
        return self.start_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop_thread()

    # -- running work on the server loop -----------------------------------------------------------
    def _on_server_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    async def _run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the server loop, from the server loop or from any other loop."""
        if self._loop is None:
            coro.close()
            raise RuntimeError("server is not running")
        if self._on_server_loop():
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def _run_sync(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Blocking variant for threaded mode; refuses to deadlock the server's own loop."""
        if self._loop is None:
            coro.close()
            raise RuntimeError("server is not running")
        if self._on_server_loop():
            coro.close()
            raise RuntimeError("called from the server's event loop: use the async variant")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _post_json(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        """Deliver a webhook; returns (HTTP status, error text) instead of raising."""
        assert self._session is not None
        try:
            async with self._session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                return resp.status, None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}"

    # -- failure injection and call counting -------------------------------------------------------
    def fail_next(
        self,
        method: str,
        status: int = 500,
        *,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ("*" = any) fail with ``status``."""
        if status == 429 and retry_after is None:
            retry_after = 1
        spec = FailureSpec(method, status, times, retry_after, description, delay)
        with self._lock:
            self._failures.append(spec)

    def clear_failures(self) -> None:
        """Forget failures set with :meth:`fail_next` that have not happened yet."""
        with self._lock:
            self._failures.clear()

    def _take_failure(self, method: str) -> FailureSpec | None:
        with self._lock:
            for spec in self._failures:
                if spec.matches(method):
                    spec.times -= 1
                    if spec.times <= 0:
                        self._failures.remove(spec)
                    return spec
        return None

    def _failure_from_body(self, body: JSON) -> None:
        self.fail_next(
            str(body.get("method") or body.get("endpoint") or "*"),
            int(body.get("status", 500)),
            times=int(body.get("times", 1)),
            retry_after=body.get("retry_after"),
            description=body.get("description") or body.get("message"),
            delay=float(body.get("delay", 0.0)),
        )

    def calls(self) -> dict[str, int]:
        """How many times each API method was called (failed attempts included)."""
        with self._lock:
            return dict(self._calls)

    def _count(self, method: str) -> None:
        with self._lock:
            self._calls[method] += 1

    # -- waiting -----------------------------------------------------------------------------------
    async def _wait_until(self, check: Callable[[], T | None], timeout: float, what: Callable[[], str]) -> T:
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result is not None:
                return result
            if time.monotonic() >= deadline:
                raise TimeoutError(what())
            await asyncio.sleep(POLL_INTERVAL)

    def _wait_until_sync(self, check: Callable[[], T | None], timeout: float, what: Callable[[], str]) -> T:
        if self._on_server_loop():
            raise RuntimeError("called from the server's event loop: use the async variant")
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result is not None:
                return result
            if time.monotonic() >= deadline:
                raise TimeoutError(what())
            time.sleep(POLL_INTERVAL)


def sent_checker(entries: Callable[[], list[JSON]], what: int | SentPredicate) -> Callable[[], list[JSON] | None]:
    """Shared logic of ``wait_for_sent``: a count threshold or a predicate over sent entries."""

    def check() -> list[JSON] | None:
        items = entries()
        if isinstance(what, int):
            return items if len(items) >= what else None
        matched = [item for item in items if what(item)]
        return matched or None

    return check


def run_forever(server: BaseFakeServer, banner: Callable[[], str]) -> None:
    """Blocking CLI runner: start, print the banner, serve until Ctrl+C."""

    async def serve() -> None:
        await server.start()
        print(banner(), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


# --------------------------------------------------------------------------------------------------
# Telegram specifics
# --------------------------------------------------------------------------------------------------

# Parameters that python-telegram-bot sends as raw strings; everything else is JSON encoded.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "file_id",
        "url",
        "secret_token",
        "ip_address",
        "parse_mode",
        "action",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "language_code",
        "photo",
        "document",
        "sticker",
        "voice",
        "audio",
        "video",
        "animation",
        "title",
        "address",
        "description",
        "short_description",
        "name",
        "emoji",
        "phone_number",
        "first_name",
        "last_name",
    }
)

# Methods whose calls are logged as "things the bot sent" (what the citizen would see).
_OUTGOING = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "editMessageText",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
        "createForumTopic",
    }
)

_UPDATE_KINDS = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "poll",
        "poll_answer",
        "pre_checkout_query",
        "shipping_query",
        "message_reaction",
    }
)

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_OLD_QUERY = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class TelegramError(Exception):
    """Raised inside handlers to produce a Telegram-style error envelope."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class _Queued:
    update: JSON
    delivered: bool = False


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


@dataclass
class _TelegramState:
    queue: list[_Queued] = field(default_factory=list)
    sent: list[JSON] = field(default_factory=list)
    files: dict[str, _StoredFile] = field(default_factory=dict)
    messages: dict[tuple[str, int], JSON] = field(default_factory=dict)
    callback_queries: dict[str, JSON] = field(default_factory=dict)  # id -> {"chat_id", "answered"}
    forums: dict[str, dict[int, str]] = field(default_factory=dict)  # forum chat -> live topic id -> name
    blocked: set[str] = field(default_factory=set)  # chats that blocked the bot / removed it
    webhook_url: str = ""
    webhook_secret: str | None = None
    webhook_allowed_updates: list[str] | None = None
    injected: list[JSON] = field(default_factory=list)


def _coerce_form(values: dict[str, str]) -> JSON:
    """Undo python-telegram-bot's form encoding: non-string params arrive JSON-dumped."""
    out: JSON = {}
    for key, value in values.items():
        if key in _STRING_PARAMS:
            out[key] = value
            continue
        try:
            out[key] = json.loads(value)
        except (TypeError, ValueError):
            out[key] = value
    return out


def _chat_for(chat_id: Any) -> JSON:
    """Private chats have positive ids, groups negative ones (as on Telegram)."""
    try:
        numeric = int(chat_id)
    except (TypeError, ValueError):
        return {"id": chat_id, "type": "channel", "title": str(chat_id)}
    if numeric > 0:
        return {"id": numeric, "type": "private", "first_name": "Warga"}
    return {"id": numeric, "type": "supergroup" if str(numeric).startswith("-100") else "group", "title": "Grup"}


def _validate_markup(markup: Any) -> None:
    """Reject what Telegram rejects, so bugs in keyboards show up offline too."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise TelegramError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return
    for row in rows:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise TelegramError(400, "Bad Request: text buttons are unallowed in the inline keyboard")


class FakeTelegramServer(BaseFakeServer):
    """In-process fake of ``api.telegram.org`` with a control API for tests.

    Args:
        token: bot token expected in ``/bot<TOKEN>/...``; ``None`` accepts any token.
        host, port: bind address; port 0 picks a free port.
        bot_username, bot_first_name: what ``getMe`` reports.
    """

    def __init__(
        self,
        token: str | None = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "aduan_test_bot",
        bot_first_name: str = "Aduan",
    ) -> None:
        super().__init__(host, port)
        self.token = token
        bot_id = token.split(":", 1)[0] if token else ""
        self.bot_user: JSON = {
            "id": int(bot_id) if bot_id.isdigit() else 123456789,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._state = _TelegramState()
        # Like the real Bot API, ids start somewhere large and arbitrary: two fakes in one test session
        # must not hand out the same update_id to gateways sharing a database (the inbox de-duplicates them).
        self._update_ids = itertools.count(random.randint(10**6, 10**9))
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._poll_generation = 0
        self._wakeup: asyncio.Event | None = None
        self._methods: dict[str, Callable[[JSON, dict[str, web.FileField]], Awaitable[Any]]] = {
            name: getattr(self, f"_m_{name}")
            for name in (
                "getMe",
                "getUpdates",
                "sendMessage",
                "sendPhoto",
                "answerCallbackQuery",
                "editMessageText",
                "editMessageReplyMarkup",
                "getFile",
                "setWebhook",
                "deleteWebhook",
                "createForumTopic",
            )
        }
        self._methods_lower = {name.lower(): name for name in self._methods}

    # -- URLs --------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """Value for ``Bot(base_url=...)`` / TELEGRAM_API_BASE_URL (the token is appended)."""
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``Bot(base_file_url=...)`` (the token is appended)."""
        return f"{self.root_url}/file/bot"

    @property
    def control_url(self) -> str:
        return f"{self.root_url}/_control"

    # -- app ---------------------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_post("/_control/updates", self._c_inject)
        app.router.add_get("/_control/updates", self._c_pending)
        app.router.add_get("/_control/sent", self._c_sent)
        app.router.add_post("/_control/fail", self._c_fail)
        app.router.add_post("/_control/reset", self._c_reset)
        app.router.add_get("/_control/calls", self._c_calls)
        app.router.add_get("/_control/webhook", self._c_webhook)
        return app

    async def start(self) -> Self:
        self._wakeup = asyncio.Event()
        return await super().start()

    def _on_stopping(self) -> None:
        self._wake_pollers()

    def _wake_pollers(self) -> None:
        """Release every long-polling getUpdates so it re-checks the queue (thread-safe)."""
        loop = self._loop
        if loop is None or self._wakeup is None:
            return

        def fire() -> None:
            assert self._wakeup is not None
            old, self._wakeup = self._wakeup, asyncio.Event()
            old.set()

        if self._on_server_loop():
            fire()
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(fire)

    # -- Bot API dispatch --------------------------------------------------------------------------
    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if self.token is not None and request.match_info["token"] != self.token:
            return json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        raw_method = request.match_info["method"]
        method = self._methods_lower.get(raw_method.lower(), raw_method)
        self._count(method)
        failure = self._take_failure(method)
        if failure is not None:
            return await self._failure_response(failure)
        handler = self._methods.get(method)
        if handler is None:
            return json_response(
                {"ok": False, "error_code": 404, "description": f"Not Found: method {raw_method}"}, 404
            )
        try:
            params, files = await self._read_params(request)
            result = await handler(params, files)
        except TelegramError as exc:
            body: JSON = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return json_response(body, exc.status)
        if isinstance(result, tuple):  # (result, description)
            return json_response({"ok": True, "result": result[0], "description": result[1]})
        return json_response({"ok": True, "result": result})

    async def _failure_response(self, failure: FailureSpec) -> web.Response:
        if failure.delay:
            await asyncio.sleep(failure.delay)
        status = failure.status
        if status in (502, 504):  # Telegram's front proxy answers these with HTML, not JSON.
            phrase = HTTPStatus(status).phrase
            html = f"<html><head><title>{status} {phrase}</title></head><body><h1>{phrase}</h1></body></html>"
            return web.Response(status=status, text=html, content_type="text/html")
        body: JSON = {"ok": False, "error_code": status}
        if status == 429:
            retry_after = failure.retry_after or 1
            body["description"] = failure.description or f"Too Many Requests: retry after {retry_after}"
            body["parameters"] = {"retry_after": retry_after}
        else:
            defaults = {
                400: "Bad Request",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                409: "Conflict",
                500: "Internal Server Error",
            }
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Error"
            body["description"] = failure.description or defaults.get(status, phrase)
        return json_response(body, status)

    @staticmethod
    async def _read_params(request: web.Request) -> tuple[JSON, dict[str, web.FileField]]:
        params: JSON = _coerce_form(dict(request.query))
        files: dict[str, web.FileField] = {}
        if request.method != "POST" or not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            raw = await request.read()
            if raw.strip():
                try:
                    data = json.loads(raw)
                except ValueError as exc:
                    raise TelegramError(400, "Bad Request: can't parse JSON") from exc
                if not isinstance(data, dict):
                    raise TelegramError(400, "Bad Request: parameters must be a JSON object")
                params.update(data)
            return params, files
        form = await request.post()
        strings: dict[str, str] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value
            else:
                strings[key] = str(value)
        params.update(_coerce_form(strings))
        return params, files

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if self.token is not None and request.match_info["token"] != self.token:
            return json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        path = request.match_info["path"]
        self._count("file_download")
        with self._lock:
            stored = next((f for f in self._state.files.values() if f.file_path == path), None)
        if stored is None:
            return json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # -- helpers for building objects --------------------------------------------------------------
    def _new_message_id(self) -> int:
        with self._lock:
            return next(self._message_ids)

    def _store_file(self, data: bytes, folder: str, ext: str, file_id: str | None = None) -> _StoredFile:
        with self._lock:
            n = next(self._file_ids)
            stored = _StoredFile(
                file_id=file_id or f"AgAC-fake-{folder}-{n}",
                file_unique_id=f"AQAD{n:06d}",
                file_path=f"{folder}/file_{n}.{ext}",
                data=data,
            )
            self._state.files[stored.file_id] = stored
        return stored

    def _photo_sizes(self, data: bytes) -> list[JSON]:
        """Two sizes like Telegram (thumbnail first, largest last), both backed by ``data``."""
        sizes = []
        for width, height in ((90, 90), (1280, 960)):
            stored = self._store_file(data, "photos", "jpg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(data),
                    "width": width,
                    "height": height,
                }
            )
        return sizes

    def _chat(self, chat_id: Any) -> JSON:
        chat = _chat_for(chat_id)
        if str(chat_id) in self._state.forums:
            chat["is_forum"] = True
        return chat

    def _bot_message(self, chat_id: Any, **content: Any) -> JSON:
        message: JSON = {
            "message_id": self._new_message_id(),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": dict(self.bot_user),
        }
        message.update({k: v for k, v in content.items() if v is not None})
        with self._lock:
            self._state.messages[(str(chat_id), message["message_id"])] = message
        return message

    def _record(self, method: str, params: JSON, chat_id: Any = None, **extra: Any) -> JSON:
        entry: JSON = {
            "method": method,
            "chat_id": chat_id if chat_id is not None else params.get("chat_id"),
            "text": params.get("text", params.get("caption")),
            "reply_markup": params.get("reply_markup"),
            "photo": None,
            "params": dict(params),
            "ts": time.time(),
        }
        entry.update(extra)
        with self._lock:
            entry["seq"] = len(self._state.sent) + 1
            self._state.sent.append(entry)
        return entry

    @staticmethod
    def _require_chat(params: JSON) -> Any:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise TelegramError(400, "Bad Request: chat_id is empty")
        return chat_id

    def _resolve_upload(
        self, params: JSON, files: dict[str, web.FileField], name: str, folder: str, ext: str
    ) -> tuple[_StoredFile | None, Any]:
        """Returns (stored file, loggable description) for an upload, file_id or URL param."""
        upload = files.get(name)
        if upload is not None:
            data = upload.file.read()
            stored = self._store_file(data, folder, ext)
            return stored, {"upload": upload.filename, "size": len(data), "file_id": stored.file_id}
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            attached = files.get(value.removeprefix("attach://"))
            if attached is not None:
                data = attached.file.read()
                stored = self._store_file(data, folder, ext)
                return stored, {"upload": attached.filename, "size": len(data), "file_id": stored.file_id}
        if not isinstance(value, str) or not value:
            raise TelegramError(400, f"Bad Request: there is no {name} in the request")
        if value.startswith(("http://", "https://")):
            return self._store_file(SAMPLE_JPEG, folder, ext), value
        with self._lock:
            known = self._state.files.get(value)
        if known is None:
            raise TelegramError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return known, value

    # -- Bot API methods ---------------------------------------------------------------------------
    async def _m_getMe(self, params: JSON, files: dict[str, web.FileField]) -> JSON:
        return dict(self.bot_user)

    async def _m_getUpdates(self, params: JSON, files: dict[str, web.FileField]) -> list[JSON]:
        with self._lock:
            if self._state.webhook_url:
                raise TelegramError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            self._poll_generation += 1
            generation = self._poll_generation
        self._wake_pollers()  # an older long poll must now end with 409, like on Telegram
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates") or None
        deadline = time.monotonic() + timeout
        while True:
            assert self._wakeup is not None
            wakeup = self._wakeup
            with self._lock:
                if generation != self._poll_generation:
                    raise TelegramError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                batch = self._take_updates(offset, limit, allowed)
            if batch or self.closing or time.monotonic() >= deadline:
                return batch
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wakeup.wait(), max(0.0, deadline - time.monotonic()))

    def _take_updates(self, offset: int, limit: int, allowed: list[str] | None) -> list[JSON]:
        """Confirm (drop) delivered updates below ``offset`` and return what is still pending.

        Updates injected with an already-confirmed update_id (duplicates) are still delivered once,
        so gateways can be tested against Telegram re-sending an update.
        """
        queue = self._state.queue
        if offset < 0:
            del queue[: max(0, len(queue) + offset)]
        elif offset > 0:
            queue[:] = [q for q in queue if not (q.delivered and q.update["update_id"] < offset)]
        batch: list[JSON] = []
        for queued in queue:
            if allowed and not any(kind in queued.update for kind in allowed):
                continue
            queued.delivered = True
            batch.append(queued.update)
            if len(batch) >= limit:
                break
        if allowed:  # Telegram silently drops update kinds the bot did not ask for
            queue[:] = [q for q in queue if any(kind in q.update for kind in allowed)]
        return batch

    def _check_target(self, chat_id: Any, params: JSON) -> dict[str, Any]:
        """Blocked chats and deleted forum topics fail as on Telegram; returns the thread fields."""
        key = str(chat_id)
        with self._lock:
            if key in self._state.blocked:
                what = (
                    "bot was blocked by the user" if not key.startswith("-") else "bot was kicked from the group chat"
                )
                raise TelegramError(403, f"Forbidden: {what}")
            topics = self._state.forums.get(key)
        thread = params.get("message_thread_id")
        if thread in (None, ""):
            return {}
        if topics is None or int(thread) not in topics:
            raise TelegramError(400, "Bad Request: message thread not found")
        return {"message_thread_id": int(thread), "is_topic_message": True}

    async def _m_sendMessage(self, params: JSON, files: dict[str, web.FileField]) -> JSON:
        chat_id = self._require_chat(params)
        thread = self._check_target(chat_id, params)
        text = params.get("text")
        if not text or not str(text).strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if len(str(text)) > 4096:
            raise TelegramError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        _validate_markup(markup)
        inline = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        reply = self._reply_target(chat_id, params)
        message = self._bot_message(chat_id, text=str(text), reply_markup=inline, reply_to_message=reply, **thread)
        self._record("sendMessage", params, message_id=message["message_id"])
        return message

    async def _m_sendPhoto(self, params: JSON, files: dict[str, web.FileField]) -> JSON:
        chat_id = self._require_chat(params)
        thread = self._check_target(chat_id, params)
        stored, described = self._resolve_upload(params, files, "photo", "photos", "jpg")
        assert stored is not None
        markup = params.get("reply_markup")
        _validate_markup(markup)
        inline = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        message = self._bot_message(
            chat_id,
            photo=self._photo_sizes(stored.data),
            caption=params.get("caption"),
            reply_markup=inline,
            reply_to_message=self._reply_target(chat_id, params),
            **thread,
        )
        self._record("sendPhoto", params, message_id=message["message_id"], photo=described)
        return message

    def _reply_target(self, chat_id: Any, params: JSON) -> JSON | None:
        """The message a bot message answers (reply_parameters or the older reply_to_message_id)."""
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        message_id = message_id or params.get("reply_to_message_id")
        if not message_id:
            return None
        with self._lock:
            target = self._state.messages.get((str(chat_id), int(message_id)))
        if target is None:
            if isinstance(reply, dict) and reply.get("allow_sending_without_reply"):
                return None
            raise TelegramError(400, "Bad Request: message to be replied not found")
        return {k: v for k, v in target.items() if k != "reply_to_message"}

    async def _m_createForumTopic(self, params: JSON, files: dict[str, web.FileField]) -> JSON:
        chat_id = str(self._require_chat(params))
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise TelegramError(
                400, "Bad Request: TOPIC_TITLE_EMPTY" if not name else "Bad Request: TOPIC_TITLE_TOO_LONG"
            )
        with self._lock:
            topics = self._state.forums.get(chat_id)
            if topics is None:
                raise TelegramError(400, "Bad Request: the chat is not a forum")
            thread_id = self._new_message_id()
            topics[thread_id] = name
        self._record("createForumTopic", params, message_thread_id=thread_id)
        return {"message_thread_id": thread_id, "name": name, "icon_color": 7322096}

    async def _m_answerCallbackQuery(self, params: JSON, files: dict[str, web.FileField]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        with self._lock:
            query = self._state.callback_queries.get(query_id)
            if query is None or query["answered"]:
                raise TelegramError(400, _OLD_QUERY)
            query["answered"] = True
        self._record(
            "answerCallbackQuery",
            params,
            chat_id=query["chat_id"],
            callback_query_id=query_id,
            show_alert=bool(params.get("show_alert", False)),
        )
        return True

    def _find_message(self, params: JSON) -> JSON:
        key = (str(params.get("chat_id")), int(params.get("message_id") or 0))
        with self._lock:
            message = self._state.messages.get(key)
        if message is None:
            raise TelegramError(400, "Bad Request: message to edit not found")
        return message

    async def _m_editMessageText(self, params: JSON, files: dict[str, web.FileField]) -> JSON | bool:
        markup = params.get("reply_markup")
        _validate_markup(markup)
        text = params.get("text")
        if not text:
            raise TelegramError(400, "Bad Request: message text is empty")
        if params.get("inline_message_id"):
            self._record("editMessageText", params)
            return True
        message = self._find_message(params)
        with self._lock:
            if message.get("text") == text and message.get("reply_markup") == markup:
                raise TelegramError(400, _NOT_MODIFIED)
            message["text"] = str(text)
            message["edit_date"] = int(time.time())
            if markup is None:
                message.pop("reply_markup", None)
            else:
                message["reply_markup"] = markup
            snapshot = json.loads(json.dumps(message))
        self._record("editMessageText", params, message_id=message["message_id"])
        return snapshot

    async def _m_editMessageReplyMarkup(self, params: JSON, files: dict[str, web.FileField]) -> JSON | bool:
        markup = params.get("reply_markup")
        _validate_markup(markup)
        if params.get("inline_message_id"):
            self._record("editMessageReplyMarkup", params)
            return True
        message = self._find_message(params)
        with self._lock:
            if message.get("reply_markup") == markup:
                raise TelegramError(400, _NOT_MODIFIED)
            if markup is None:
                message.pop("reply_markup", None)
            else:
                message["reply_markup"] = markup
            message["edit_date"] = int(time.time())
            snapshot = json.loads(json.dumps(message))
        self._record("editMessageReplyMarkup", params, message_id=message["message_id"])
        return snapshot

    async def _m_getFile(self, params: JSON, files: dict[str, web.FileField]) -> JSON:
        with self._lock:
            stored = self._state.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise TelegramError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    async def _m_setWebhook(self, params: JSON, files: dict[str, web.FileField]) -> tuple[bool, str]:
        url = str(params.get("url") or "")
        with self._lock:
            self._state.webhook_url = url
            self._state.webhook_secret = params.get("secret_token") or None
            self._state.webhook_allowed_updates = params.get("allowed_updates") or None
            if params.get("drop_pending_updates"):
                self._state.queue.clear()
        self._wake_pollers()
        return True, "Webhook was set" if url else "Webhook was deleted"

    async def _m_deleteWebhook(self, params: JSON, files: dict[str, web.FileField]) -> tuple[bool, str]:
        with self._lock:
            was_set = bool(self._state.webhook_url)
            self._state.webhook_url = ""
            self._state.webhook_secret = None
            if params.get("drop_pending_updates"):
                self._state.queue.clear()
        return True, "Webhook was deleted" if was_set else "Webhook is already deleted"

    # -- update injection --------------------------------------------------------------------------
    def build_update(self, spec: JSON) -> JSON:
        """Turn a helper-friendly spec (or a raw update) into a Telegram ``Update`` dict.

        Spec keys: user_id, chat_id, first_name, username, language_code, date, update_id, and one
        of text | callback_data (+ message_id) | location | photo (true or {"bytes_b64", "caption"})
        | sticker | voice; ``extra`` is merged into the message.  A dict that already contains an
        update kind (``message``, ``callback_query``, ...) is taken as a raw update.
        """
        spec = dict(spec)
        if _UPDATE_KINDS & spec.keys():
            update = json.loads(json.dumps(spec))
            with self._lock:
                if "update_id" not in update:
                    update["update_id"] = next(self._update_ids)
                query = update.get("callback_query")
                if isinstance(query, dict) and "id" in query:
                    chat = (query.get("message") or {}).get("chat") or {}
                    self._state.callback_queries[str(query["id"])] = {
                        "chat_id": chat.get("id", (query.get("from") or {}).get("id")),
                        "answered": False,
                    }
            return update

        user_id = int(spec.get("user_id", DEFAULT_USER_ID))
        chat_id = spec.get("chat_id", user_id)
        user: JSON = {
            "id": user_id,
            "is_bot": False,
            "first_name": spec.get("first_name", "Warga"),
            "language_code": spec.get("language_code", "id"),
        }
        if spec.get("username"):
            user["username"] = spec["username"]
        chat = self._chat(chat_id)
        if chat["type"] == "private":
            chat["first_name"] = user["first_name"]
        date = int(spec.get("date", time.time()))
        with self._lock:
            update_id = int(spec["update_id"]) if "update_id" in spec else next(self._update_ids)

        if "callback_data" in spec:
            return {"update_id": update_id, "callback_query": self._callback_query(spec, user, chat, date)}

        message: JSON = {"message_id": self._new_message_id(), "date": date, "chat": chat, "from": user}
        if spec.get("reply_to") is not None:  # a reply to an earlier message of this chat (its message_id)
            with self._lock:
                target = self._state.messages.get((str(chat_id), int(spec["reply_to"])))
            if target is None:
                raise ValueError(f"no message {spec['reply_to']} in chat {chat_id} to reply to")
            message["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
        if spec.get("thread_id") is not None:  # written inside a forum topic
            message["message_thread_id"] = int(spec["thread_id"])
            message["is_topic_message"] = True
        if "text" in spec:
            text = str(spec["text"])
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0] if text.split() else text
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        elif "location" in spec:
            loc = spec["location"]
            message["location"] = {"latitude": float(loc["latitude"]), "longitude": float(loc["longitude"])}
        elif spec.get("photo"):
            photo = spec["photo"] if isinstance(spec["photo"], dict) else {}
            data = base64.b64decode(photo["bytes_b64"]) if photo.get("bytes_b64") else SAMPLE_JPEG
            message["photo"] = self._photo_sizes(data)
            caption = photo.get("caption", spec.get("caption"))
            if caption:
                message["caption"] = caption
        elif spec.get("sticker"):
            stored = self._store_file(SAMPLE_WEBP, "stickers", "webp")
            message["sticker"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
                "set_name": "FakeStickers",
                "file_size": len(SAMPLE_WEBP),
            }
        elif spec.get("voice"):
            stored = self._store_file(SAMPLE_OGG, "voice", "oga")
            message["voice"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "duration": 3,
                "mime_type": "audio/ogg",
                "file_size": len(SAMPLE_OGG),
            }
        message.update(spec.get("extra") or {})
        with self._lock:
            self._state.messages[(str(chat_id), message["message_id"])] = message
        return {"update_id": update_id, "edited_message" if spec.get("edited") else "message": message}

    def _callback_query(self, spec: JSON, user: JSON, chat: JSON, date: int) -> JSON:
        """Callback query on a bot message; reuses the stored message so edits line up."""
        message_id = spec.get("message_id")
        with self._lock:
            if message_id is None:  # default: the last bot message in this chat
                own = [
                    m
                    for (cid, _), m in self._state.messages.items()
                    if cid == str(chat["id"]) and m.get("from", {}).get("is_bot")
                ]
                message = own[-1] if own else None
            else:
                message = self._state.messages.get((str(chat["id"]), int(message_id)))
        if message is None:
            message = self._bot_message(chat["id"], text="(pesan sebelumnya)")
            if message_id is not None:
                with self._lock:
                    del self._state.messages[(str(chat["id"]), message["message_id"])]
                    message["message_id"] = int(message_id)
                    self._state.messages[(str(chat["id"]), int(message_id))] = message
        with self._lock:
            query_id = str(spec.get("callback_query_id") or f"{user['id']}{next(self._callback_ids):08d}")
            self._state.callback_queries[query_id] = {"chat_id": chat["id"], "answered": False}
            snapshot = json.loads(json.dumps(message))
        return {
            "id": query_id,
            "from": user,
            "chat_instance": f"-{abs(hash(str(chat['id']))) % 10**18}",
            "message": snapshot,
            "data": str(spec["callback_data"]),
        }

    async def _deliver(self, spec: JSON) -> JSON:
        """Queue the update for getUpdates, or POST it to the webhook when one is set."""
        update = self.build_update(spec)
        with self._lock:
            self._state.injected.append(update)
            url, secret = self._state.webhook_url, self._state.webhook_secret
        result: JSON = {"ok": True, "update_id": update["update_id"], "update": update}
        if not url:
            with self._lock:
                self._state.queue.append(_Queued(update))
            self._wake_pollers()
            result.update(delivered_via="polling", webhook_status=None)
            return result
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        status, error = await self._post_json(url, body, headers)
        result.update(delivered_via="webhook", webhook_status=status, webhook_error=error)
        return result

    # -- Python helper API -------------------------------------------------------------------------
    async def inject(self, spec: JSON | None = None, /, **kwargs: Any) -> JSON:
        """Inject a user update (``inject(text="halo")``, ``inject({"callback_data": "x"})``, raw dict).

        Returns ``{"update_id", "update", "delivered_via", "webhook_status", ...}``.
        Works from the server's loop or any other loop.
        """
        return await self._run_async(self._deliver({**(spec or {}), **kwargs}))

    def inject_sync(self, spec: JSON | None = None, /, **kwargs: Any) -> JSON:
        """Blocking :meth:`inject` for threaded mode (not from the server's own loop)."""
        return self._run_sync(self._deliver({**(spec or {}), **kwargs}))

    def sent(self, chat_id: Any = None, method: str | Iterable[str] | None = None) -> list[JSON]:
        """Everything the bot sent, oldest first; optionally filtered by chat and method(s)."""
        methods = {method} if isinstance(method, str) else set(method) if method else None
        with self._lock:
            return [
                dict(entry)
                for entry in self._state.sent
                if (chat_id is None or str(entry.get("chat_id")) == str(chat_id))
                and (methods is None or entry["method"] in methods)
            ]

    def pending_updates(self) -> list[JSON]:
        """Updates queued for getUpdates and not yet confirmed."""
        with self._lock:
            return [q.update for q in self._state.queue]

    @property
    def webhook_url(self) -> str:
        with self._lock:
            return self._state.webhook_url

    async def wait_for_sent(
        self,
        what: int | SentPredicate = 1,
        *,
        chat_id: Any = None,
        method: str | Iterable[str] | None = None,
        timeout: float = 5.0,
    ) -> list[JSON]:
        """Wait until ``what`` entries (int) or an entry matching ``what`` (predicate) were sent.

        Returns the filtered list (count) or the matching entries (predicate); raises TimeoutError
        listing what was sent, so failures explain themselves.
        """
        check = sent_checker(lambda: self.sent(chat_id, method), what)
        return await self._wait_until(check, timeout, lambda: self._timeout_message(chat_id, what))

    def wait_for_sent_sync(
        self,
        what: int | SentPredicate = 1,
        *,
        chat_id: Any = None,
        method: str | Iterable[str] | None = None,
        timeout: float = 5.0,
    ) -> list[JSON]:
        """Blocking :meth:`wait_for_sent` for threaded mode."""
        check = sent_checker(lambda: self.sent(chat_id, method), what)
        return self._wait_until_sync(check, timeout, lambda: self._timeout_message(chat_id, what))

    def _timeout_message(self, chat_id: Any, what: Any) -> str:
        summary = [(e["method"], e.get("chat_id"), e.get("text")) for e in self.sent(chat_id)]
        return f"bot did not send {what!r} to chat {chat_id!r} in time; sent so far: {summary}"

    def make_forum(self, chat_id: Any) -> None:
        """Turn a supergroup into a forum (topics enabled)."""
        with self._lock:
            self._state.forums.setdefault(str(chat_id), {})

    def delete_topic(self, chat_id: Any, thread_id: int) -> None:
        """An admin deleted a topic: sending into it fails from now on."""
        with self._lock:
            self._state.forums.get(str(chat_id), {}).pop(int(thread_id), None)

    def topics(self, chat_id: Any) -> dict[int, str]:
        with self._lock:
            return dict(self._state.forums.get(str(chat_id), {}))

    def block(self, chat_id: Any) -> None:
        """The citizen blocked the bot (private) or the bot was removed from the group."""
        with self._lock:
            self._state.blocked.add(str(chat_id))

    def add_file(self, data: bytes, folder: str = "documents", ext: str = "bin") -> str:
        """Register bytes downloadable via getFile; returns the file_id."""
        return self._store_file(data, folder, ext).file_id

    def reset(self) -> None:
        """Forget updates, sent messages, files, failures, counters and the webhook."""
        with self._lock:
            self._state = _TelegramState()
            self._failures.clear()
            self._calls.clear()
        self._wake_pollers()

    # -- control API -------------------------------------------------------------------------------
    async def _c_inject(self, request: web.Request) -> web.Response:
        body = await read_json_body(request)
        try:
            return json_response(await self._deliver(body))
        except (KeyError, TypeError, ValueError) as exc:
            return json_response({"ok": False, "error": f"bad update spec: {exc!r}"}, 400)

    async def _c_pending(self, request: web.Request) -> web.Response:
        return json_response({"ok": True, "updates": self.pending_updates()})

    async def _c_sent(self, request: web.Request) -> web.Response:
        chat_id = request.query.get("chat_id")
        method = request.query.get("method")
        return json_response({"ok": True, "sent": self.sent(chat_id, method)})

    async def _c_fail(self, request: web.Request) -> web.Response:
        self._failure_from_body(await read_json_body(request))
        return json_response({"ok": True})

    async def _c_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return json_response({"ok": True})

    async def _c_calls(self, request: web.Request) -> web.Response:
        return json_response({"ok": True, "calls": self.calls()})

    async def _c_webhook(self, request: web.Request) -> web.Response:
        with self._lock:
            return json_response(
                {"ok": True, "url": self._state.webhook_url, "secret_token": self._state.webhook_secret}
            )


def main(host: str = "127.0.0.1", port: int = 8081, token: str | None = DEFAULT_TOKEN) -> None:
    """Run the fake standalone (blocking) for manual demos: ``aduan`` CLI or ``python -m``."""
    server = FakeTelegramServer(token, host=host, port=port)

    def banner() -> str:
        return (
            f"Fake Telegram Bot API listening on {server.root_url}\n"
            f"  TELEGRAM_API_BASE_URL={server.base_url}\n"
            f"  TELEGRAM_FILE_BASE_URL={server.base_file_url}\n"
            f"  token={token or '<any>'}  control: {server.control_url}/"
        )

    run_forever(server, banner)


if __name__ == "__main__":
    main()
