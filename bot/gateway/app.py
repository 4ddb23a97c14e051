"""The gateway's HTTP application: web chat, webhooks, health; workers run in its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.config import Settings
from bot.gateway.channels.line import InvalidSignature, LineChannel
from bot.gateway.channels.telegram import TelegramChannel
from bot.gateway.channels.web import WebChannel
from bot.gateway.health import health
from bot.gateway.inbox import Inbox
from bot.gateway.outbox import Outbox, OutboxWorker
from bot.gateway.pipeline import MAX_TEXT, Processor
from bot.gateway.rasa_client import RasaClient
from bot.store.db import session_factory

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
READY_TIMEOUT = 600.0


class Gateway:
    """Everything the gateway runs, wired once; the routes below only call into it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sessions = session_factory(settings.sqlalchemy_url)
        self.inbox = Inbox(self.sessions)
        self.outbox = Outbox(self.sessions)
        self.rasa = RasaClient(settings.rasa_url, settings.action_server_url)
        self.processor = Processor(self.inbox, self.sessions, self.rasa, on_outbox=self._outbox_ready)
        self.web = WebChannel(self.inbox, self.sessions, self.processor.notify)
        self.telegram: TelegramChannel | None = None
        self.line: LineChannel | None = None
        if settings.telegram_bot_token:
            self.telegram = TelegramChannel(
                settings.telegram_bot_token.get_secret_value(),
                settings.telegram_api_base_url,
                self.inbox,
                self.processor.notify,
                webhook_url=settings.telegram_webhook_url,
                webhook_secret=(
                    settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
                ),
            )
        if settings.line_channel_secret and settings.line_channel_access_token:
            self.line = LineChannel(
                settings.line_channel_secret.get_secret_value(),
                settings.line_channel_access_token.get_secret_value(),
                settings.line_api_base_url,
                self.inbox,
                self.processor.notify,
            )
        senders: dict[str, Any] = {"web": self.web}
        if self.telegram:
            senders["telegram"] = self.telegram
        if self.line:
            senders["line"] = self.line
        self.worker = OutboxWorker(self.outbox, senders)
        self._tasks: list[asyncio.Task[None]] = []

    def _outbox_ready(self) -> None:
        self.worker.notify()

    async def start(self) -> None:
        for channel in (self.telegram, self.line):
            if channel:
                await channel.start()
        self._tasks = [
            asyncio.create_task(self.processor.run_forever(), name="inbox"),
            asyncio.create_task(self.worker.run_forever(), name="outbox"),
            asyncio.create_task(self._announce_when_ready(), name="ready"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for channel in (self.telegram, self.line):
            if channel:
                with contextlib.suppress(Exception):
                    await channel.stop()
        await self.rasa.close()

    async def _announce_when_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while loop.time() < deadline:
            ok, _ = await health(self.rasa, self.sessions, self.settings.tracker_store_url)
            if ok:
                break
            await asyncio.sleep(1)
        else:
            logger.error("Rasa / action server / stores not ready after %.0fs; see /healthz", READY_TIMEOUT)
            return
        try:
            await self.rasa.warm_up()
        except Exception as exc:
            logger.warning("warm-up parse failed: %s", exc)
        port = self.settings.http_port
        channels = ", ".join(
            name for name, on in (("web", True), ("telegram", self.telegram), ("line", self.line)) if on
        )
        banner = (
            f"\n  Aduan siap ✔  Buka web chat: http://127.0.0.1:{port}/\n"
            f"  Kanal aktif: {channels}.  Atau di terminal lain: .venv/bin/aduan chat\n"
            f"  Ctrl-C menghentikan semuanya.\n"
        )
        print(banner, file=sys.stderr, flush=True)


def create_app(settings: Settings) -> Starlette:
    gateway = Gateway(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def healthz(request: Request) -> Response:
        ok, report = await health(gateway.rasa, gateway.sessions, gateway.settings.tracker_store_url)
        return JSONResponse({"ok": ok, **report}, status_code=200 if ok else 503)

    async def web_post(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body harus JSON"}, status_code=400)
        session_id = str(body.get("session") or "").strip()
        if not session_id or len(session_id) > 64:
            return JSONResponse({"error": "session wajib diisi"}, status_code=400)
        text = body.get("text")
        if isinstance(text, str) and len(text) > MAX_TEXT * 4:
            text = text[: MAX_TEXT * 4]  # still refused politely by the pipeline, without storing megabytes
        stored = await gateway.web.receive(session_id, body.get("id"), text, body.get("payload"))
        return JSONResponse({"stored": stored}, status_code=202)

    async def web_get(request: Request) -> Response:
        session_id = request.query_params.get("session", "")
        try:
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            after = 0
        rows = await asyncio.to_thread(gateway.web.replies, session_id, after)
        return JSONResponse({"messages": rows})

    async def telegram_webhook(request: Request) -> Response:
        if gateway.telegram is None:
            return PlainTextResponse("telegram off", status_code=404)
        try:
            data = await request.json()
        except ValueError:
            return PlainTextResponse("bad json", status_code=400)
        accepted = await gateway.telegram.handle_webhook(data, request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        return PlainTextResponse("OK" if accepted else "forbidden", status_code=200 if accepted else 403)

    async def line_webhook(request: Request) -> Response:
        if gateway.line is None:
            return PlainTextResponse("line off", status_code=404)
        body = await request.body()
        try:
            await gateway.line.handle_webhook(body, request.headers.get("X-Line-Signature"))
        except InvalidSignature:
            return PlainTextResponse("invalid signature", status_code=400)
        return PlainTextResponse("OK")

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", healthz),
            Route("/api/web/messages", web_post, methods=["POST"]),
            Route("/api/web/messages", web_get, methods=["GET"]),
            Route("/webhooks/telegram", telegram_webhook, methods=["POST"]),
            Route("/webhooks/line", line_webhook, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app
