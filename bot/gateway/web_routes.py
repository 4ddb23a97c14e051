"""HTTP routes of the web chat beyond the two JSON endpoints, and the public status by code.

- `GET  /api/web/history?session=…`          both sides of the conversation (after a reload)
- `GET  /api/web/events?session=…&after=…`   server-sent events with the bot's replies (reconnects
                                              with `Last-Event-ID`); replaces the page's polling
- `POST /api/web/photo?session=…&id=…`       raw image body (JPG/PNG/WEBP, ≤ 10 MB) → MediaStore
- `POST /api/web/location`                   {"session", "id", "latitude", "longitude"}
- `GET  /api/public/status/{code}`           status, OPD, due date and officers' answers; nothing
                                              about the citizen; throttled per client address
- `GET  /favicon.ico`
`POST /api/web/messages` and `GET /api/web/messages` stay in app.py, unchanged.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import AsyncIterator
from functools import cached_property
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.media import MAX_BYTES, MediaRejected, MediaStore
from bot.texts import render
from bot.throttle import Throttle

STATIC = Path(__file__).resolve().parent / "static"
SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
STREAM_SECONDS = 120.0
"""An event stream is closed after this long; the browser reconnects at once (Last-Event-ID)."""
HEARTBEAT_SECONDS = 15.0
STATUS_LOOKUPS = Throttle(limit=20, window_seconds=600)


def _error(key: str, status: int, **values: Any) -> JSONResponse:
    return JSONResponse({"error": render(key, **values)}, status_code=status)


def _session(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if SESSION_RE.match(value) else None


class WebRoutes:
    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    @property
    def web(self) -> Any:
        return self.gateway.web

    @cached_property
    def media(self) -> MediaStore:
        settings = self.gateway.settings
        secret = settings.media_secret.get_secret_value().encode() if settings.media_secret else None
        return MediaStore(settings.media_dir, secret)

    @cached_property
    def tickets(self) -> Any:
        from bot.tickets import TicketService

        return TicketService(self.gateway.sessions)

    def routes(self) -> list[Route]:
        return [
            Route("/api/web/history", self.history, methods=["GET"]),
            Route("/api/web/events", self.events, methods=["GET"]),
            Route("/api/web/photo", self.photo, methods=["POST"]),
            Route("/api/web/location", self.location, methods=["POST"]),
            Route("/api/public/status/{code}", self.public_status, methods=["GET"]),
            Route("/favicon.ico", self.favicon, methods=["GET"]),
        ]

    async def history(self, request: Request) -> Response:
        session = _session(request.query_params.get("session"))
        if session is None:
            return _error("web_bad_session", 400)
        return JSONResponse(await asyncio.to_thread(self.web.history, session))

    async def events(self, request: Request) -> Response:
        session = _session(request.query_params.get("session"))
        if session is None:
            return _error("web_bad_session", 400)
        raw_after = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
        after = int(raw_after) if raw_after.isdigit() else 0
        return StreamingResponse(
            self._stream(session, after),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _stream(self, session: str, after: int) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        end = loop.time() + STREAM_SECONDS
        wake = self.web.waiter(session)
        try:
            yield "retry: 2000\n\n"
            while loop.time() < end:
                wake.clear()  # before the query: a row handed over meanwhile sets it again
                rows = await asyncio.to_thread(self.web.replies, session, after)
                for row in rows:
                    after = row["id"]
                    yield f"id: {after}\nevent: reply\ndata: {json.dumps(row, ensure_ascii=False)}\n\n"
                if rows:
                    continue
                try:
                    await asyncio.wait_for(wake.wait(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": ping\n\n"
        finally:
            self.web.release(session, wake)

    async def photo(self, request: Request) -> Response:
        session = _session(request.query_params.get("session"))
        if session is None:
            return _error("web_bad_session", 400)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BYTES:
            return _error("web_photo_too_big", 413, limit=MAX_BYTES // (1024 * 1024))
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BYTES:
                return _error("web_photo_too_big", 413, limit=MAX_BYTES // (1024 * 1024))
        try:
            ref = await asyncio.to_thread(self.media.save, bytes(body))
        except MediaRejected as exc:
            return JSONResponse({"error": str(exc)}, status_code=415)
        stored = await self.web.receive_photo(session, request.query_params.get("id"), ref)
        return JSONResponse({"stored": stored}, status_code=202)

    async def location(self, request: Request) -> Response:
        try:
            body = await request.json()
            session = _session(body.get("session"))
            lat, lon = float(body["latitude"]), float(body["longitude"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return _error("web_bad_location", 400)
        if session is None:
            return _error("web_bad_session", 400)
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            return _error("web_bad_location", 400)
        stored = await self.web.receive_location(session, body.get("id"), lat, lon)
        return JSONResponse({"stored": stored}, status_code=202)

    async def public_status(self, request: Request) -> Response:
        from bot.tickets import TicketNotFound

        client = request.client.host if request.client else "unknown"
        if not STATUS_LOOKUPS.allow(client):
            return _error("status_throttled", 429)
        code = request.path_params["code"]
        try:
            view = await asyncio.to_thread(self.tickets.get, code)
        except TicketNotFound:
            return _error("status_public_not_found", 404, code=code[:20])
        return JSONResponse(view.public_dict())

    async def favicon(self, request: Request) -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


def web_routes(gateway: Any) -> list[Route]:
    return WebRoutes(gateway).routes()
