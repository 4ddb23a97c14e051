"""Several Rasa servers: each sender keeps its server, moves only when the message never reached it.

httpx's MockTransport stands in for the servers so every failure mode is exact: a refused
connection (the server is down: move the sender), a 503 (no model loaded yet: move), a 500 or a
read timeout (the message may have been handled: do not send it elsewhere, leave it to the inbox).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from bot.gateway.rasa_client import RasaClient, ServiceDown

A, B, C = "http://rasa-a:5005", "http://rasa-b:5005", "http://rasa-c:5005"
ACTIONS = "http://actions:5055"


def client(answer: Callable[[str], httpx.Response | Exception], seen: list[str]) -> RasaClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        server = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        seen.append(server)
        assert request.url.params.get("token") == "rahasia"
        result = answer(server)
        if isinstance(result, Exception):
            raise result
        return result

    return RasaClient([A, B, C], ACTIONS, auth={"token": "rahasia"}, transport=httpx.MockTransport(handler))


def ok(server: str) -> httpx.Response:
    return httpx.Response(200, json={"messages": [{"text": f"dari {server}"}], "nlu": None})


async def test_each_sender_keeps_one_server_and_senders_spread_over_all() -> None:
    seen: list[str] = []
    rasa = client(ok, seen)
    first = {}
    for n in range(60):
        sender = f"telegram:{n}"
        await rasa.send(sender, "halo")
        await rasa.send(sender, "jalan rusak")
        first[sender] = seen[-1]
        assert seen[-1] == seen[-2]  # the same server both times
    spread = Counter(first.values())
    assert set(spread) == {A, B, C} and min(spread.values()) >= 10
    await rasa.close()


@pytest.mark.parametrize(
    "failure",
    [lambda req: httpx.ConnectError("refused", request=req), lambda req: httpx.Response(503)],
    ids=["connection refused", "503 no model yet"],
)
async def test_a_server_that_never_got_the_message_hands_the_sender_to_the_next(failure: Callable) -> None:
    seen: list[str] = []
    down: set[str] = set()

    def answer(server: str) -> httpx.Response | Exception:
        if server in down:
            return failure(httpx.Request("POST", server))
        return ok(server)

    rasa = client(answer, seen)
    sender = "line:U42"
    order = [s.url for s in rasa.order_for(sender)]
    down.add(order[0])
    replies = await rasa.send(sender, "air pdam mati")
    assert replies[0]["text"] == f"dari {order[1]}"
    assert seen == [order[0], order[1]]
    seen.clear()
    await rasa.send(sender, "di jebres")  # the down server is passed over for a while
    assert seen == [order[1]]
    await rasa.close()


@pytest.mark.parametrize(
    "failure",
    [lambda req: httpx.Response(500), lambda req: httpx.ReadTimeout("slow", request=req)],
    ids=["500", "read timeout"],
)
async def test_a_message_that_may_have_been_handled_is_not_sent_elsewhere(failure: Callable) -> None:
    seen: list[str] = []
    rasa = client(lambda server: failure(httpx.Request("POST", server)), seen)
    with pytest.raises(ServiceDown):
        await rasa.send("web:s1", "sampah numpuk")
    assert len(seen) == 1  # exactly one server saw it: no second complaint filed elsewhere
    await rasa.close()


async def test_all_servers_down_is_service_down() -> None:
    seen: list[str] = []
    rasa = client(lambda server: httpx.ConnectError("refused", request=httpx.Request("POST", server)), seen)
    with pytest.raises(ServiceDown):
        await rasa.send("web:s2", "halo")
    assert sorted(seen) == sorted([A, B, C])
    await rasa.close()
