"""The gateway's view of Rasa and the action server: send a message, or say honestly that they are down.

One Rasa server (`make run`) or several (the scaled profile). With several, each sender is pinned
to one server by rendezvous hashing, so a conversation keeps its server (warm caches, one lock
holder) and only the senders of a server that went down move, to the next server in their own
order. Moving is safe because every Rasa server shares the tracker store and the Redis lock store.
A message is only moved when it never reached the server (connection refused, no model yet): a
request that failed half-way may have been handled, and sending it again elsewhere could file a
complaint twice, so that one is left to the inbox's retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Any

import httpx

DOWN_FOR = 5.0  # seconds a server that refused a connection is passed over before it is tried again
ACTIONS_OK_FOR = 2.0  # seconds an action server's health answer is trusted (it is on a private network)


class ServiceDown(Exception):
    """Rasa or the action server cannot take the message now; it stays queued."""


class _NotReached(ServiceDown):
    """The message never reached that Rasa server: another one may take it."""


class Replies(list):  # type: ignore[type-arg]
    """Rasa's reply messages, plus the NLU decision behind them (`nlu`, from nlu/channel.py)."""

    nlu: dict[str, Any] | None = None


@dataclass
class RasaServer:
    url: str
    action_url: str
    down_until: float = 0.0
    actions_ok_until: float = 0.0


def _as_list(urls: str | list[str]) -> list[str]:
    items = urls.split(",") if isinstance(urls, str) else urls
    return [u.strip().rstrip("/") for u in items if u.strip()]


class RasaClient:
    def __init__(
        self,
        rasa_urls: str | list[str],
        action_server_urls: str | list[str],
        timeout: float = 30.0,
        auth: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        rasa, actions = _as_list(rasa_urls), _as_list(action_server_urls)
        if len(actions) == 1:
            actions = actions * len(rasa)
        if not rasa or len(actions) != len(rasa):
            raise ValueError("one action server per Rasa server (or one for all) is needed")
        self.servers = [RasaServer(u, a) for u, a in zip(rasa, actions, strict=True)]
        self._auth = dict(auth or {})
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=3.0), transport=transport)

    @property
    def rasa_url(self) -> str:
        return self.servers[0].url

    async def close(self) -> None:
        await self._client.aclose()

    def order_for(self, sender_id: str) -> list[RasaServer]:
        """The sender's servers, most preferred first (rendezvous hashing: stable, minimal reshuffle)."""
        if len(self.servers) == 1:
            return list(self.servers)

        def weight(server: RasaServer) -> bytes:
            return hashlib.blake2b(f"{server.url}|{sender_id}".encode(), digest_size=8).digest()

        return sorted(self.servers, key=weight, reverse=True)

    async def send(self, sender_id: str, message: str, metadata: dict[str, Any] | None = None) -> Replies:
        """Rasa's replies to one user message, with the parse data (the `aduan` REST channel)."""
        order = self.order_for(sender_id)
        now = time.monotonic()
        candidates = [s for s in order if s.down_until <= now] or order  # all marked down: try them anyway
        last: ServiceDown | None = None
        for server in candidates:
            try:
                return await self._send_to(server, sender_id, message, metadata)
            except _NotReached as exc:
                server.down_until = time.monotonic() + DOWN_FOR
                last = exc
        raise ServiceDown(str(last) if last else "no Rasa server reachable")

    async def _send_to(
        self, server: RasaServer, sender_id: str, message: str, metadata: dict[str, Any] | None
    ) -> Replies:
        # Rasa answers even when the action server is down, silently dropping the action's
        # messages, so check it first (cached briefly).
        if time.monotonic() > server.actions_ok_until:
            if not await self._actions_up(server):
                raise _NotReached(f"action server of {server.url} unreachable")
            server.actions_ok_until = time.monotonic() + ACTIONS_OK_FOR
        try:
            response = await self._client.post(
                f"{server.url}/webhooks/aduan/webhook",
                params=self._auth,
                json={"sender": sender_id, "message": message, "metadata": metadata or {}},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _NotReached(f"rasa unreachable: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise ServiceDown(f"rasa failed: {type(exc).__name__}") from exc
        if response.status_code in (404, 503):  # not serving yet (no model, channel not mounted)
            raise _NotReached(f"rasa answered HTTP {response.status_code}")
        if response.status_code >= 500 or response.status_code in (401, 403, 409):
            raise ServiceDown(f"rasa answered HTTP {response.status_code}")
        response.raise_for_status()
        body = response.json()
        replies = Replies(body.get("messages") or [])
        replies.nlu = body.get("nlu")
        return replies

    async def _actions_up(self, server: RasaServer) -> bool:
        try:
            response = await self._client.get(f"{server.action_url}/health", timeout=3.0)
            return response.status_code == 200
        except httpx.HTTPError:
            return False

    async def _status(self, server: RasaServer) -> dict[str, Any] | None:
        try:
            response = await self._client.get(f"{server.url}/status", params=self._auth, timeout=3.0)
            return response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    async def servers_report(self) -> list[dict[str, Any]]:
        """Each Rasa server with its action server: model loaded, actions up."""
        statuses = await asyncio.gather(*(self._status(s) for s in self.servers))
        actions = await asyncio.gather(*(self._actions_up(s) for s in self.servers))
        return [
            {
                "url": s.url,
                "ok": bool(st and st.get("model_file")),
                "model": (st or {}).get("model_file"),
                "action_server_ok": ok,
            }
            for s, st, ok in zip(self.servers, statuses, actions, strict=True)
        ]

    async def rasa_status(self) -> dict[str, Any] | None:
        """The first server's /status (one-server deployments and tools)."""
        return await self._status(self.servers[0])

    async def action_server_up(self) -> bool:
        return await self._actions_up(self.servers[0])

    async def warm_up(self) -> None:
        """One parse per server so TensorFlow builds its graph before the first citizen waits for it.

        A server that is not up (scaled profile: one still loading, or down) is skipped; it warms up
        with its first message. Only when no server could be warmed up is that an error.
        """
        warmed = 0
        for server in self.servers:
            try:
                response = await self._client.post(
                    f"{server.url}/model/parse", params=self._auth, json={"text": "halo"}, timeout=120.0
                )
                response.raise_for_status()
                warmed += 1
            except httpx.HTTPError:
                continue
        if not warmed:
            raise ServiceDown("no Rasa server answered the warm-up parse")
