"""REST input channel that also returns the NLU decision behind the answer (runs inside Rasa).

Rasa's stock REST webhook returns only the bot's messages. The gateway needs the parse data
(intent, confidence, top 3, model id, what the bot did next) to feed the trainers' inbox, and
asking Rasa a second time (`/model/parse`) would double the NLU work and could disagree with
the decision actually taken. So this channel handles the message exactly like `rest` and keeps
a reference to the tracker the processor saves for that sender (no second read from the tracker
store; reports/trainer_channel.md measures the cost), then reads the latest user event from it.

POST /webhooks/aduan/webhook  {"sender", "message", "metadata"}
  -> {"messages": [...], "nlu": {"text", "intent", "confidence", "ranking", "model_id", "actions"}}

Rasa's `--auth-token` guards its HTTP API but not the channels' webhooks, so when
ADUAN_RASA_TOKEN is set (scaled profile: Rasa reachable from other machines) this channel asks
for the same `?token=` and answers 401 without it; the stock `rest` channel is then left out of
the credentials (credentials-scaled.yml).

Imports nothing from bot/ (different Python environment).
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

import nlu.action_failures  # noqa: F401 - installs "a failed custom action fails the message"

logger = logging.getLogger(__name__)
TOP_N = 3


def decision_from_events(events: list[dict[str, Any]], model_id: str | None) -> dict[str, Any] | None:
    """The latest user message's parse data and the actions the bot ran after it."""
    actions: list[str] = []
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        kind = event.get("event")
        if kind == "action" and event.get("name") not in (None, "action_listen"):
            actions.append(event["name"])
        elif kind == "user":
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            ranking = [
                {"name": r.get("name"), "confidence": round(float(r.get("confidence") or 0.0), 4)}
                for r in (parse.get("intent_ranking") or [])[:TOP_N]
            ]
            return {
                "text": event.get("text"),
                "intent": intent.get("name"),
                "confidence": round(float(intent.get("confidence") or 0.0), 4),
                "ranking": ranking,
                "model_id": model_id,
                "actions": list(reversed(actions)),
                "requested_slot": _requested_slot(events[:index]),
            }
    return None


def _requested_slot(events: list[dict[str, Any]]) -> str | None:
    """The form question the message answered (e.g. `location`), if a form was asking one."""
    for event in reversed(events):
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            return event.get("value")
        if event.get("event") == "active_loop" and not event.get("name"):
            return None
    return None


class _Capture:
    """The trackers the processor saved for the senders this channel is waiting on."""

    def __init__(self) -> None:
        self.waiting: set[str] = set()
        self.saved: dict[str, Any] = {}


def _capture_for(store: Any) -> _Capture:
    """Wrap the tracker store's `save` once (a new model brings a new store, wrapped on first use)."""
    capture = getattr(store, "_aduan_capture", None)
    if capture is None:
        capture = _Capture()
        original = store.save

        async def save(tracker: Any, *args: Any, **kwargs: Any) -> None:
            await original(tracker, *args, **kwargs)
            if tracker.sender_id in capture.waiting:
                capture.saved[tracker.sender_id] = tracker

        store.save = save
        store._aduan_capture = capture
    return capture


REPLAYED_KEYS = ("buttons", "image", "attachment", "custom", "elements", "quick_replies")


async def replay(store: Any, sender_id: str, message_id: str) -> list[dict[str, Any]] | None:
    """The bot's messages that answered `message_id`, if the tracker already holds that message.

    A gateway that dies while Rasa is answering never gets the answer, but Rasa finishes the turn
    (a complaint is filed, the tracker saved). Handling the retry again would answer the turn after
    it ("saya belum memahami") and the citizen would never see the ticket code; so the answer is
    read back from the tracker (shared by every Rasa server) and returned as it was. Only asked for
    retries (`metadata.retry`), so a first attempt costs no extra tracker read.
    """
    tracker = await store.retrieve(sender_id)
    if tracker is None:
        return None
    events = list(tracker.events)
    start = next((i for i, e in enumerate(events) if isinstance(e, UserUttered) and e.message_id == message_id), None)
    if start is None:
        return None
    messages: list[dict[str, Any]] = []
    for event in events[start + 1 :]:
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            message = {"recipient_id": sender_id, "text": event.text}
            message.update({k: event.data.get(k) for k in REPLAYED_KEYS})
            messages.append({k: v for k, v in message.items() if v is not None})
    return messages


class AduanRestInput(RestInput):
    """`rest` plus the NLU decision; the gateway is its only client (Rasa listens on loopback)."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token or os.environ.get("ADUAN_RASA_TOKEN") or None

    @classmethod
    def name(cls) -> str:
        return "aduan"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> AduanRestInput:
        return cls((credentials or {}).get("token"))

    def _authorized(self, request: Request) -> bool:
        if not self.token:
            return True
        given = request.args.get("token") or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("custom_webhook_AduanRestInput", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorized(request):
                return response.json({"error": "token required"}, status=401)
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            agent = request.app.ctx.agent  # the model that answers this message (PUT /model swaps it)
            model_id = agent.model_id if agent else None
            store = agent.tracker_store if agent is not None else None
            metadata = self.get_metadata(request)
            # The gateway names each message after its inbox row, so a retry (Rasa or the action server
            # died half-way) is the same message to the actions: a ticket is filed once per message.
            given_id = metadata.get("message_id") if isinstance(metadata, dict) else None
            if given_id and metadata.get("retry") and store is not None:
                answered = await replay(store, sender_id, str(given_id))
                if answered is not None:  # handled before, its answer lost on the way (the gateway died)
                    logger.info("aduan channel: message %s was handled before; its answer is sent again", given_id)
                    return response.json({"messages": answered, "nlu": None, "replayed": True})
            capture = _capture_for(store) if store is not None else None
            if capture is not None:
                capture.waiting.add(sender_id)
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender_id,
                input_channel=self._extract_input_channel(request),
                message_id=str(given_id) if given_id else None,
                metadata=metadata,
            )
            tracker = None
            failed = False
            try:  # like the stock channel, the messages collected so far are returned
                await on_new_message(message)
            except Exception:
                failed = True
                logger.exception("aduan channel: handling a message failed")
            finally:
                if capture is not None:
                    capture.waiting.discard(sender_id)
                    tracker = capture.saved.pop(sender_id, None)
            if failed and (not collector.messages or tracker is None):
                # Nothing was answered (e.g. the lock store or tracker store is down): an empty
                # 200 would look like "handled, nothing to say" and the citizen would hear nothing.
                # Nor was it if the tracker was never saved (a custom action failed half-way, see
                # nlu/action_failures.py): Rasa forgot the turn, so the gateway must send it again.
                return response.json({"error": "message not handled"}, status=500)
            if tracker is None and store is not None:  # not saved through the wrapper: read it back
                tracker = await store.retrieve(sender_id)
            nlu = None
            if tracker is not None:
                events = [e.as_dict() for e in list(tracker.events)[-60:]]
                nlu = decision_from_events(events, model_id)
            return response.json({"messages": collector.messages, "nlu": nlu})

        return webhook
