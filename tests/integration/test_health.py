"""/healthz says whether Rasa, the action server and the database can work right now."""

from __future__ import annotations

import httpx

from tests.integration.stack import GatewayThread, Stack, free_port


def test_healthz_up_and_down(stack: Stack) -> None:
    with GatewayThread(stack.settings()) as gw:
        ok = httpx.get(f"{gw.url}/healthz").json()
        assert ok["ok"] and ok["rasa"]["model"] and ok["action_server"]["ok"] and ok["database"]["ok"]
    nothing_there = f"http://127.0.0.1:{free_port()}"
    with GatewayThread(stack.settings(ADUAN_RASA_URL=nothing_there)) as gw:
        response = httpx.get(f"{gw.url}/healthz")
        assert response.status_code == 503
        assert response.json()["rasa"]["ok"] is False and response.json()["database"]["ok"] is True
