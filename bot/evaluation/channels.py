"""How a scripted citizen reaches the stack: the web chat JSON API and the fake Telegram Bot API.

Both sides only use public surfaces (the web page's API, the fake's `/_control/` API), so the same
code drives a stack started by `aduan eval conversations` or one that is already running.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx

from bot.evaluation.citizens import Action, BotMessage, BotTurn, Button

POLL = 0.3
QUIET = 1.0  # a turn is over when nothing new came for this long


class Chat(Protocol):
    channel: str
    user_id: str

    async def send(self, action: Action) -> None: ...

    async def turn(self) -> BotTurn | None: ...


async def collect(
    fetch: Callable[[], Awaitable[list[BotMessage]]], wait: float, quiet: float = QUIET
) -> BotTurn | None:
    """Poll until the bot has answered and then stayed quiet; None when nothing came within `wait`."""
    got: list[BotMessage] = []
    started = last = time.monotonic()
    while True:
        new = await fetch()
        now = time.monotonic()
        if new:
            got += new
            last = now
        elif got and now - last >= quiet:
            return BotTurn(tuple(got))
        elif not got and now - started >= wait:
            return None
        await asyncio.sleep(POLL)


class WebChat:
    """One web chat session (`POST/GET /api/web/messages`), like the page in a browser."""

    channel = "web"

    def __init__(self, client: httpx.AsyncClient, base_url: str, name: str, wait: float) -> None:
        self.client = client
        self.url = f"{base_url.rstrip('/')}/api/web/messages"
        self.user_id = f"eval-{name}-{uuid.uuid4().hex[:8]}"[:64]
        self.wait = wait
        self.after = 0

    async def send(self, action: Action) -> None:
        body: dict[str, Any] = {"session": self.user_id, "id": uuid.uuid4().hex}
        if action.kind == "click" and action.button is not None:
            body |= {"text": action.button.title, "payload": action.button.value}
        elif action.kind == "text":
            body["text"] = action.text
        else:
            raise ValueError(f"the web chat cannot send a {action.kind}")
        response = await self.client.post(self.url, json=body)
        response.raise_for_status()

    async def _fetch(self) -> list[BotMessage]:
        response = await self.client.get(self.url, params={"session": self.user_id, "after": self.after})
        response.raise_for_status()
        messages = []
        for row in response.json()["messages"]:
            self.after = max(self.after, int(row["id"]))
            buttons = tuple(Button(b.get("title", ""), b.get("payload")) for b in row.get("buttons") or ())
            messages.append(BotMessage(row.get("text") or "", buttons))
        return messages

    async def turn(self) -> BotTurn | None:
        return await collect(self._fetch, self.wait)


class TelegramChat:
    """One private chat on the fake Bot API, played through its `/_control/` endpoints."""

    channel = "telegram"
    SHOWN = ("sendMessage", "sendPhoto", "sendLocation")

    def __init__(self, client: httpx.AsyncClient, root_url: str, wait: float) -> None:
        self.client = client
        self.control = f"{root_url.rstrip('/')}/_control"
        self.chat_id = random.randint(10**8, 10**9 - 1)
        self.user_id = str(self.chat_id)
        self.wait = wait
        self.seen = 0

    async def send(self, action: Action) -> None:
        spec: dict[str, Any] = {"user_id": self.chat_id, "first_name": "Warga"}
        if action.kind == "click" and action.button is not None:
            callback_data, message_id = action.button.value
            spec |= {"callback_data": callback_data, "message_id": message_id}
        elif action.kind == "location" and action.location:
            spec["location"] = {"latitude": action.location[0], "longitude": action.location[1]}
        elif action.kind == "photo":
            spec["photo"] = True
        else:
            spec["text"] = action.text
        response = await self.client.post(f"{self.control}/updates", json=spec)
        response.raise_for_status()

    async def _fetch(self) -> list[BotMessage]:
        response = await self.client.get(f"{self.control}/sent", params={"chat_id": self.chat_id})
        response.raise_for_status()
        messages = []
        for entry in response.json()["sent"]:
            if entry["seq"] <= self.seen:
                continue
            self.seen = entry["seq"]
            if entry["method"] not in self.SHOWN:
                continue
            markup = entry.get("reply_markup") or {}
            rows = markup.get("inline_keyboard") or [] if isinstance(markup, dict) else []
            buttons = tuple(
                Button(b.get("text", ""), (b.get("callback_data"), entry.get("message_id")))
                for row in rows
                for b in row
                if b.get("callback_data")
            )
            messages.append(BotMessage(entry.get("text") or entry.get("caption") or "", buttons))
        return messages

    async def turn(self) -> BotTurn | None:
        return await collect(self._fetch, self.wait)
