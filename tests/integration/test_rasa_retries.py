"""A message the gateway sends again (its first attempt's answer was lost) is answered as it was the first time.

The gateway names each message after its inbox row (`metadata.message_id`) and marks retries; the
aduan channel (nlu/channel.py) then reads the earlier answer back from the tracker instead of
handling the message a second time. Found by the reliability suite: a gateway SIGKILLed while Rasa
filed a complaint made the retry of "Kirim laporan" answer "saya belum memahami", and the citizen
never saw the ticket code.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.integration.stack import Stack


def _say(stack: Stack, sender: str, text: str, **metadata: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{stack.rasa_url}/webhooks/aduan/webhook",
        params=stack.settings().rasa_auth,
        json={"sender": sender, "message": text, "metadata": {"channel": "telegram", **metadata}},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()


def test_a_retry_of_a_handled_message_gets_the_same_answer(stack: Stack) -> None:
    sender = f"telegram:{uuid.uuid4().int % 10**9}"
    first = _say(stack, sender, "halo", message_id="inbound-1-0")
    assert first["messages"] and not first.get("replayed")
    again = _say(stack, sender, "halo", message_id="inbound-1-0", retry=True)
    assert again.get("replayed") is True
    assert [m.get("text") for m in again["messages"]] == [m.get("text") for m in first["messages"]]
    # A retry Rasa never saw is handled normally, and a later message is not confused with it.
    new = _say(stack, sender, "terima kasih", message_id="inbound-2-0", retry=True)
    assert new["messages"] and not new.get("replayed")
    assert _say(stack, sender, "halo", message_id="inbound-1-0", retry=True)["messages"] == again["messages"]
