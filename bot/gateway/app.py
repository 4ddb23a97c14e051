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
from bot.gateway.channels.line import InvalidSignature, LineChannel, MalformedBody
from bot.gateway.channels.telegram import MalformedUpdate, TelegramChannel
from bot.gateway.channels.web import WebChannel
from bot.gateway.health import health
from bot.gateway.inbox import Inbox
from bot.gateway.outbox import Outbox, OutboxWorker
from bot.gateway.pipeline import MAX_TEXT, Processor
from bot.gateway.rasa_client import RasaClient
from bot.gateway.web_routes import web_routes
from bot.media import MediaStore
from bot.relay.desk import AdminDesk
from bot.relay.registry import AdminRegistry
from bot.retention import daily_hook
from bot.scheduler import Scheduler
from bot.store.db import session_factory
from bot.tickets import TicketService
from bot.web.app import create_web_app

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
READY_TIMEOUT = 600.0
ALL_SERVERS_GRACE = 120.0  # seconds "Aduan siap" waits for the other Rasa servers once one serves


class Gateway:
    """Everything the gateway runs, wired once; the routes below only call into it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sessions = session_factory(settings.sqlalchemy_url)
        self.inbox = Inbox(self.sessions)
        self.outbox = Outbox(self.sessions)
        self.rasa = RasaClient(settings.rasa_urls, settings.action_server_urls, auth=settings.rasa_auth)
        tickets = TicketService(self.sessions)
        self.desk = AdminDesk(self.sessions, tickets, AdminRegistry(self.sessions, tickets.taxonomy))
        self.media = MediaStore(
            settings.media_dir, settings.media_secret.get_secret_value().encode() if settings.media_secret else None
        )
        self.processor = Processor(
            self.inbox,
            self.sessions,
            self.rasa,
            on_outbox=self._outbox_ready,
            desk=self.desk,
            media=self.media,
        )
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
                polling=settings.telegram_polling,
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
            self.telegram.media = self.media
            self.processor.downloaders["telegram"] = self.telegram.download
        if self.line:
            senders["line"] = self.line
            self.line.media = self.media
            self.line.public_base_url = settings.public_base_url
            self.processor.downloaders["line"] = self.line.download
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
        if self.settings.sla_interval_seconds > 0:
            scheduler = Scheduler.for_settings(
                self.sessions, self.settings, self._outbox_ready, housekeeping=daily_hook(self.settings)
            )
            self._tasks.append(
                asyncio.create_task(scheduler.run_forever(self.settings.sla_interval_seconds), name="sla")
            )

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

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Every store and server this process needs (see bot/gateway/health.py)."""
        s = self.settings
        return await health(self.rasa, self.sessions, self.media.root, s.tracker_store_url, s.lock_store_url)

    async def _announce_when_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        all_servers_by: float | None = None
        while loop.time() < deadline:
            ok, report = await self.health()
            servers = report.get("rasa_servers") or []
            if ok and all(s["ok"] and s["action_server_ok"] for s in servers):
                break
            if ok:  # scaled profile: serving already; give the other servers a while to load
                all_servers_by = all_servers_by or loop.time() + ALL_SERVERS_GRACE
                if loop.time() >= all_servers_by:
                    down = ", ".join(s["url"] for s in servers if not (s["ok"] and s["action_server_ok"]))
                    logger.warning("serving without %s (see /healthz)", down)
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

    async def media(request: Request) -> Response:
        """Photos for LINE admins: served only with a valid, unexpired signature."""
        name = request.path_params["name"]
        params = request.query_params
        if not gateway.media.verify(name, params.get("exp", ""), params.get("sig", "")):
            return PlainTextResponse("not found", status_code=404)
        try:
            path = gateway.media.path(name)
        except FileNotFoundError:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(path, headers={"Cache-Control": "private, max-age=3600"})

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def healthz(request: Request) -> Response:
        ok, report = await gateway.health()
        return JSONResponse({"ok": ok, **report}, status_code=200 if ok else 503)

    async def web_post(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body harus JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "body harus objek JSON"}, status_code=400)
        session_id = str(body.get("session") or "").strip()
        if not session_id or len(session_id) > 64:
            return JSONResponse({"error": "session wajib diisi"}, status_code=400)
        fields = [body.get(k) for k in ("id", "text", "payload")]
        if not all(v is None or isinstance(v, str) for v in fields) or len(body.get("id") or "") > 64:
            return JSONResponse({"error": "id, text dan payload harus teks"}, status_code=400)
        text = body.get("text")
        if isinstance(text, str) and len(text) > MAX_TEXT * 4:
            text = text[: MAX_TEXT * 4]  # still refused politely by the pipeline, without storing megabytes
        stored = await gateway.web.receive(session_id, body.get("id"), text, body.get("payload"))
        return JSONResponse({"stored": stored}, status_code=202)

    async def web_get(request: Request) -> Response:
        session_id = request.query_params.get("session", "").replace("\x00", "")  # as stored (inbox.without_nul)
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
        try:
            accepted = await gateway.telegram.handle_webhook(
                data, request.headers.get("X-Telegram-Bot-Api-Secret-Token")
            )
        except MalformedUpdate:
            return PlainTextResponse("bad update", status_code=400)
        return PlainTextResponse("OK" if accepted else "forbidden", status_code=200 if accepted else 403)

    async def line_webhook(request: Request) -> Response:
        if gateway.line is None:
            return PlainTextResponse("line off", status_code=404)
        body = await request.body()
        try:
            await gateway.line.handle_webhook(body, request.headers.get("X-Line-Signature"))
        except InvalidSignature:
            return PlainTextResponse("invalid signature", status_code=400)
        except MalformedBody:
            return PlainTextResponse("bad body", status_code=400)
        return PlainTextResponse("OK")

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", healthz),
            Route("/media/{name}", media),
            Route("/api/web/messages", web_post, methods=["POST"]),
            Route("/api/web/messages", web_get, methods=["GET"]),
            Route("/webhooks/telegram", telegram_webhook, methods=["POST"]),
            Route("/webhooks/line", line_webhook, methods=["POST"]),
            *web_routes(gateway),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            Mount("", app=create_web_app(settings)),  # login pages and /trainer (bot/web); keep last
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app
