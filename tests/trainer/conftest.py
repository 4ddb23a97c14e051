"""Trainer tests: a citizen on the web chat of the real gateway, in front of the real Rasa + action server."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.stack import GatewayThread, Stack

WAIT = 60.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/trainer" in str(item.fspath) and "stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="package")
def trainer_gateway(stack: Stack) -> Iterator[GatewayThread]:
    with GatewayThread(stack.settings()) as gw:
        yield gw


class WebCitizen:
    """One web-chat session: sends typed text or a button payload and waits for the bot's answer."""

    def __init__(self, gateway_url: str) -> None:
        self.url = gateway_url
        self.session = f"t{uuid.uuid4().hex[:12]}"
        self.sender_id = f"web:{self.session}"
        self.after = 0

    def _send(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        body = {"session": self.session, "id": uuid.uuid4().hex, **body}
        assert httpx.post(f"{self.url}/api/web/messages", json=body, timeout=10).status_code == 202
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            rows = httpx.get(
                f"{self.url}/api/web/messages", params={"session": self.session, "after": self.after}, timeout=10
            ).json()["messages"]
            if rows:
                time.sleep(0.3)  # a turn may produce several rows; let the rest land
                rows += httpx.get(
                    f"{self.url}/api/web/messages",
                    params={"session": self.session, "after": rows[-1]["id"]},
                    timeout=10,
                ).json()["messages"]
                self.after = rows[-1]["id"]
                return rows
            time.sleep(0.2)
        raise TimeoutError(f"no answer to {body}")

    def say(self, text: str) -> str:
        return "\n".join(r.get("text", "") for r in self._send({"text": text}))

    def click(self, payload: str) -> str:
        return "\n".join(r.get("text", "") for r in self._send({"payload": payload}))
