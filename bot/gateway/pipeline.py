"""One pipeline for every channel: inbound row -> checks -> Rasa -> outbox rows.

Channel adapters only turn their updates into `Inbound` rows and outbox rows into API calls.
Each Rasa call and the outbox rows it produced commit together with the inbound row's progress,
so a retry after a crash or an outage never answers the same message twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.gateway.inbox import Claimed, Inbox, LeaseLost, finish
from bot.gateway.outbox import add_messages
from bot.gateway.rasa_client import RasaClient, ServiceDown
from bot.gateway.worker import PollingWorker
from bot.masking import mask_text
from bot.media import MediaRejected, MediaStore
from bot.relay.desk import AdminDesk, AdminMessage
from bot.store import models as m
from bot.texts import render
from bot.trainer.recorder import record_decision

logger = logging.getLogger(__name__)

MAX_TEXT = 4000
CONCURRENCY = 20
"""Messages (of different senders) one gateway processes at once."""
MAX_ATTEMPTS = 12
"""With backoff capped at MAX_BACKOFF this keeps a message about half an hour before giving up."""
MAX_BACKOFF = timedelta(minutes=5)
UNSUPPORTED_LABELS = {
    "sticker": "stiker",
    "voice": "pesan suara",
    "audio": "pesan suara",
    "video": "video",
    "file": "berkas/dokumen",
    "animation": "GIF",
    "contact": "kontak",
    "poll": "polling",
}
REPLY_KEYS = ("text", "buttons", "image", "custom")


def rasa_messages(item: Claimed) -> list[str]:
    """What Rasa receives for one inbound message; payload intents carry the channel's data."""
    if item.kind == "location":
        loc = {"latitude": item.payload["latitude"], "longitude": item.payload["longitude"]}
        return ["/share_location" + json.dumps(loc)]
    if item.kind == "photo":
        parts = ["/share_photo" + json.dumps({"photo_ref": item.payload["photo_ref"]})]
        caption = (item.payload.get("caption") or "").strip()
        return parts + ([caption] if caption else [])
    if item.kind == "postback":
        return [item.payload.get("data") or item.text or ""]
    return [item.text or ""]


def admin_message(item: Claimed) -> AdminMessage:
    """The relay's view of an inbound row (chat type and member name come from the channel adapter)."""
    text = item.payload.get("data") if item.kind == "postback" else item.text
    return AdminMessage(
        channel=item.channel,
        chat_id=item.chat_id,
        user_id=item.user_id,
        chat_type=item.payload.get("chat_type") or "private",
        text=text or "",
        kind=item.kind,
        user_name=item.payload.get("user_name"),
        reply_to=item.payload.get("reply_to"),
        thread_id=item.payload.get("thread_id"),
        message_id=item.payload.get("message_id"),
        forum=bool(item.payload.get("is_forum")),
    )


def refusal(item: Claimed) -> str | None:
    """A friendly answer for content Aduan cannot take; None when the message is fine."""
    if item.kind == "unsupported":
        what = UNSUPPORTED_LABELS.get(item.payload.get("what", ""), "jenis pesan ini")
        return render("unsupported_content", kind=what)
    if item.kind == "text":
        text = (item.text or "").strip()
        if not text:
            return render("empty_text")
        if len(text) > MAX_TEXT:
            return render("too_long", limit=MAX_TEXT)
    return None


def reply_payloads(replies: list[dict[str, Any]], extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Outbox payloads for Rasa's replies.

    Rasa's REST channel splits every response at blank lines; consecutive text-only parts are
    joined again, so a citizen gets one message per answer (and LINE's 5-per-reply limit holds).
    """
    out: list[dict[str, Any]] = []
    for reply in replies:
        payload = {k: reply[k] for k in REPLY_KEYS if reply.get(k)}
        if not payload:
            continue
        previous = out[-1] if out else None
        if previous is not None and set(previous) - set(extra) == {"text"} and "image" not in payload:
            previous["text"] += "\n\n" + payload.pop("text", "")
            previous.update(payload)
            continue
        out.append({**payload, **extra})
    return out


class Processor(PollingWorker):
    """Drains the inbox: per sender in order, concurrently across senders."""

    def __init__(
        self,
        inbox: Inbox,
        sessions: sessionmaker[Session],
        rasa: RasaClient,
        on_outbox: Callable[[], None] = lambda: None,
        poll_interval: float = 1.0,
        desk: AdminDesk | None = None,
        media: MediaStore | None = None,
        downloaders: Mapping[str, Callable[[str], Awaitable[bytes]]] | None = None,
    ) -> None:
        self.media = media
        self.downloaders = dict(downloaders or {})
        self.inbox = inbox
        self.sessions = sessions
        self.rasa = rasa
        self.desk = desk
        self.on_outbox = on_outbox
        super().__init__(poll_interval)

    async def run_once(self) -> int:
        """Claim a batch and process it to the end (tests and one-off drains)."""
        claimed = await asyncio.to_thread(self.inbox.claim)
        await asyncio.gather(*(self.process(item) for item in claimed))
        return len(claimed)

    async def run_forever(self) -> None:
        """Claim whenever a message is done, not batch after batch.

        Waiting for a whole batch made every message that arrived meanwhile wait for the slowest
        one in it (one complaint filed, one photo downloaded); under load that was most of a
        turn's latency. Order per sender still holds: a sender's next message is only claimable
        once the previous one is done (Inbox.claim).
        """
        in_flight: set[asyncio.Task[None]] = set()

        def done(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            if not task.cancelled() and task.exception() is not None:
                logger.error("processing an inbound message failed", exc_info=task.exception())
            self.notify()

        try:
            while True:
                self._wake.clear()
                claimed: list[Claimed] = []
                room = CONCURRENCY - len(in_flight)
                if room > 0:
                    try:
                        claimed = await asyncio.to_thread(self.inbox.claim, room)
                    except Exception:  # a database hiccup must not stop the loop for good
                        logger.exception("claiming inbound messages failed")
                for item in claimed:
                    task = asyncio.create_task(self.process(item), name=f"inbound-{item.id}")
                    in_flight.add(task)
                    task.add_done_callback(done)
                if claimed:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        finally:
            for task in list(in_flight):
                task.cancel()  # leased rows come back to any worker when the lease runs out
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def process(self, item: Claimed) -> None:
        try:
            await self._process(item)
        except LeaseLost:
            # Our lease ran out and another worker holds the message now: its answer counts, ours
            # was rolled back with the lease check.
            logger.warning("inbound %s: lease lost, left to the worker that holds it", item.id)

    async def _process(self, item: Claimed) -> None:
        extra = self._delivery_hints(item)
        if self.desk is not None:
            # Admin chats, /daftar and citizens typing admin commands are the relay's, decided
            # before Rasa so the bot never answers in an admin group.
            try:
                answers = await asyncio.to_thread(self.desk.handle, admin_message(item))
            except Exception as exc:
                logger.exception("relay failed on inbound %s", item.id)
                await asyncio.to_thread(self._postpone, item, dict(item.payload), f"{type(exc).__name__}: {exc}", extra)
                self.on_outbox()
                return
            if answers is not None:
                await asyncio.to_thread(self._commit, item, [{**a, **extra} for a in answers], item.payload, True)
                self.on_outbox()
                return
        answer = refusal(item)
        if answer is not None:
            await asyncio.to_thread(self._commit, item, [{"text": answer, **extra}], item.payload, True)
            self.on_outbox()
            return
        payload = dict(item.payload)
        if item.kind == "photo":
            try:
                payload["photo_ref"] = await self._keep_photo(item.channel, payload["photo_ref"])
            except Exception as exc:  # the channel's file API is down: keep the message, retry later
                logger.warning("inbound %s: photo download failed: %s", item.id, exc)
                await asyncio.to_thread(self._postpone, item, payload, f"photo download: {exc}", extra)
                self.on_outbox()
                return
            item = dataclasses.replace(item, payload=payload)
        parts = rasa_messages(item)
        start = int(payload.get("_parts_done", 0))
        for index in range(start, len(parts)):
            try:
                # A stable id per inbox row and part: the retry of a message Rasa may already have
                # half-handled files no second ticket (the actions' idempotency key is sender + id).
                metadata: dict[str, Any] = {"channel": item.channel, "message_id": f"inbound-{item.id}-{index}"}
                if item.attempts > 1:  # claimed before: Rasa may have answered it already (nlu/channel.py)
                    metadata["retry"] = True
                replies = await self.rasa.send(item.sender_id, parts[index], metadata)
            except ServiceDown as exc:
                await asyncio.to_thread(self._postpone, item, payload, str(exc), extra)
                self.on_outbox()
                return
            except Exception as exc:  # unexpected answer: keep the message, try again later
                logger.exception("processing inbound %s failed", item.id)
                await asyncio.to_thread(self._postpone, item, payload, f"{type(exc).__name__}: {exc}", extra)
                self.on_outbox()
                return
            payload["_parts_done"] = index + 1
            done = index + 1 == len(parts)
            await asyncio.to_thread(self._commit, item, reply_payloads(replies, extra), payload, done)
            self.on_outbox()
            await asyncio.to_thread(record_decision, self.sessions, item.channel, item.sender_id, parts[index], replies)
        logger.info("processed inbound %s from %s: %s", item.id, item.sender_id, mask_text(item.text or item.kind))

    async def _keep_photo(self, channel: str, ref: str) -> str:
        """Download a channel's photo into the media store at intake, so admins on any channel get it."""
        prefix = f"{channel}:"
        download = self.downloaders.get(channel)
        if self.media is None or download is None or not ref.startswith(prefix):
            return ref
        data = await download(ref.removeprefix(prefix))
        try:
            return await asyncio.to_thread(self.media.save, data)
        except MediaRejected as exc:
            logger.info("photo %s not kept: %s", ref, exc)
            return ref

    @staticmethod
    def _delivery_hints(item: Claimed) -> dict[str, Any]:
        """LINE answers with the reply token while it is fresh; the sender decides."""
        token = item.payload.get("reply_token")
        hints = {"_reply_token": token, "_reply_token_ts": item.payload.get("timestamp")} if token else {}
        if item.payload.get("thread_id"):  # an admin wrote in a forum topic: answer in the same topic
            hints["_thread_id"] = item.payload["thread_id"]
        return hints

    def _commit(self, item: Claimed, payloads: list[dict[str, Any]], payload: dict[str, Any], done: bool) -> None:
        with self.sessions() as session, session.begin():
            add_messages(session, item.channel, item.chat_id, payloads, inbound_id=item.id)
            finish(session, item.id, payload, done=done, lease=item.lease)

    def _postpone(self, item: Claimed, payload: dict[str, Any], error: str, extra: dict[str, Any]) -> None:
        """Keep the message queued with backoff; tell the citizen once that it is saved (never per retry).

        After MAX_ATTEMPTS the message is given up (`failed`, visible to the koordinator) and the
        citizen is told honestly, so one message Rasa keeps rejecting cannot silence the chat forever.
        """
        give_up = item.attempts >= MAX_ATTEMPTS
        delay = min(timedelta(seconds=2**item.attempts), MAX_BACKOFF)
        with self.sessions() as session, session.begin():
            if give_up:
                add_messages(
                    session,
                    item.channel,
                    item.chat_id,
                    [{"text": render("inbound_failed"), **extra}],
                    inbound_id=item.id,
                )
            elif not payload.get("_down_notified"):
                payload["_down_notified"] = True
                add_messages(session, item.channel, item.chat_id, [{"text": render("service_down"), **extra}])
            values: dict[str, Any] = {"last_error": mask_text(error)[:2000], "payload": payload, "lease_token": None}
            if give_up:
                values.update(status="failed", processed_at=datetime.now(UTC))
            else:
                values["next_attempt_at"] = datetime.now(UTC) + delay
            done = session.execute(
                update(m.InboundMessage)
                .where(
                    m.InboundMessage.id == item.id,
                    m.InboundMessage.status == "pending",
                    m.InboundMessage.lease_token == item.lease,
                )
                .values(**values)
            ).rowcount
            if done != 1:
                raise LeaseLost(item.id)
        if give_up:
            logger.error("inbound %s given up after %d attempts: %s", item.id, item.attempts, mask_text(error))
        else:
            logger.warning("inbound %s postponed %.0fs: %s", item.id, delay.total_seconds(), mask_text(error))
