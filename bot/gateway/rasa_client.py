"""The gateway's view of Rasa and the action server: send a message, or say honestly that they are down."""

from __future__ import annotations

import time
from typing import Any

import httpx


class ServiceDown(Exception):
    """Rasa or the action server cannot take the message now; it stays queued."""


class Replies(list):  # type: ignore[type-arg]
    """Rasa's reply messages, plus the NLU decision behind them (`nlu`, from nlu/channel.py)."""

    nlu: dict[str, Any] | None = None


class RasaClient:
    def __init__(self, rasa_url: str, action_server_url: str, timeout: float = 30.0) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.action_server_url = action_server_url.rstrip("/")
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=3.0))
        self._actions_ok_until = 0.0

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, sender_id: str, message: str, metadata: dict[str, Any] | None = None) -> Replies:
        """Rasa's replies to one user message, with the parse data (the `aduan` REST channel)."""
        # Rasa answers even when the action server is down, silently dropping the action's
        # messages, so check it first (cached briefly: it is on loopback).
        if time.monotonic() > self._actions_ok_until:
            if not await self.action_server_up():
                raise ServiceDown("action server unreachable")
            self._actions_ok_until = time.monotonic() + 2.0
        try:
            response = await self._client.post(
                f"{self.rasa_url}/webhooks/aduan/webhook",
                json={"sender": sender_id, "message": message, "metadata": metadata or {}},
            )
        except httpx.HTTPError as exc:
            raise ServiceDown(f"rasa unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code in (404, 409, 503):
            raise ServiceDown(f"rasa answered HTTP {response.status_code}")
        response.raise_for_status()
        body = response.json()
        replies = Replies(body.get("messages") or [])
        replies.nlu = body.get("nlu")
        return replies

    async def rasa_status(self) -> dict[str, Any] | None:
        try:
            response = await self._client.get(f"{self.rasa_url}/status", timeout=3.0)
            return response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    async def action_server_up(self) -> bool:
        try:
            response = await self._client.get(f"{self.action_server_url}/health", timeout=3.0)
            return response.status_code == 200
        except httpx.HTTPError:
            return False

    async def warm_up(self) -> None:
        """One parse so TensorFlow builds its graph before the first citizen waits for it."""
        response = await self._client.post(f"{self.rasa_url}/model/parse", json={"text": "halo"}, timeout=120.0)
        response.raise_for_status()
