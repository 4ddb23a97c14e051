"""Telegram through python-telegram-bot 22: updates in, inbox rows out; outbox rows to Bot API calls.

Long polling is our own loop over `get_updates` so an update is stored before its offset is
confirmed; webhook mode stores before answering 200. Either way the handlers below only
translate, and the shared pipeline does the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.gateway.inbox import Inbound, Inbox
from bot.gateway.outbox import Delivery, OutMessage, PermanentFailure, RetryLater, TopicGone
from bot.media import MediaStore

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_MESSAGE = 4096
MAX_CALLBACK_DATA = 64
PERMANENT_BAD_REQUESTS = ("chat not found", "user is deactivated", "have no rights to send", "not enough rights")
TITLE_PREFIX = "t:"


class ThreadGone(Exception):
    """The forum topic a row was to be sent into no longer exists (and the row is not a ticket's own)."""


ADMIN_BUTTON_PREFIX = "adm:"  # callback data too long for Telegram: send the button's title as text instead


class StoreFailed(Exception):
    """An update could not be written to the inbox; it must not be acknowledged."""


class MalformedUpdate(Exception):
    """Sent with the right secret, but not an update Telegram sends (answered 400, nothing stored)."""


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split at paragraph, then line, then word boundaries so no part exceeds Telegram's limit."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def keyboard(buttons: list[dict[str, Any]] | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = []
    for button in buttons:
        data = button["payload"]
        if len(data.encode()) > MAX_CALLBACK_DATA:
            data = (TITLE_PREFIX + button["title"]).encode()[:MAX_CALLBACK_DATA].decode(errors="ignore")
        rows.append([InlineKeyboardButton(button["title"], callback_data=data)])
    return InlineKeyboardMarkup(rows)


class TelegramLimits:
    """Telegram's published limits, honoured before each call instead of waiting for a 429.

    About 1 message per second in a private chat, 20 per minute in a group, ~30 per second over all.
    A short wait is slept; a long one becomes RetryLater, so the outbox reschedules the row and a
    worker never sleeps past its lease. Limits are per process: several replicas still meet
    Telegram's 429 `retry_after`, which the outbox honours too.
    """

    PRIVATE_INTERVAL = 1.0
    GROUP_PER_MINUTE = 20
    GLOBAL_PER_SECOND = 30
    MAX_SLEEP = 3.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._chat: dict[str, deque[float]] = {}
        self._global: deque[float] = deque()

    def wait_for(self, chat_id: str, count: int = 1) -> float:
        """Seconds until `count` more messages may start going to `chat_id` (0 when now)."""
        now = self.clock()
        group = chat_id.startswith("-")
        window, allowed = (60.0, self.GROUP_PER_MINUTE) if group else (self.PRIVATE_INTERVAL, 1)
        sent = self._chat.get(chat_id, deque())
        while sent and sent[0] <= now - window:
            sent.popleft()
        while self._global and self._global[0] <= now - 1.0:
            self._global.popleft()
        wait = 0.0
        if group and len(sent) + count > allowed:
            wait = sent[min(len(sent) + count - allowed, len(sent)) - 1] + window - now
        elif not group and sent:
            wait = sent[-1] + window - now
        if len(self._global) >= self.GLOBAL_PER_SECOND:
            wait = max(wait, self._global[-self.GLOBAL_PER_SECOND] + 1.0 - now)
        return max(wait, 0.0)

    def record(self, chat_id: str) -> None:
        now = self.clock()
        self._chat.setdefault(chat_id, deque()).append(now)
        self._global.append(now)

    async def acquire(self, chat_id: str, count: int = 1) -> None:
        """Before the first call for one outbox row: room for all its `count` calls, or RetryLater.

        Nothing has been sent for the row yet, so rescheduling it repeats nothing.
        """
        wait = self.wait_for(chat_id, count)
        if wait > self.MAX_SLEEP:
            raise RetryLater(wait, "telegram rate limit (local)")
        if wait > 0:
            await asyncio.sleep(wait)
        self.record(chat_id)

    async def pace(self, chat_id: str) -> None:
        """Before each further call for the same row: wait (briefly) rather than split the row."""
        wait = self.wait_for(chat_id)
        if wait > 0:
            await asyncio.sleep(min(wait, 60.0))
        self.record(chat_id)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramChannel:
    batch = False

    def __init__(
        self,
        token: str,
        api_base_url: str,
        inbox: Inbox,
        on_inbound: Callable[[], None],
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        polling: bool = True,
    ) -> None:
        base = api_base_url.rstrip("/")
        self.inbox = inbox
        self.on_inbound = on_inbound
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.polling = polling  # False on all gateway replicas but one (a single getUpdates consumer)
        self.app: Application = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .updater(None)
            .build()
        )
        self.limits = TelegramLimits()
        self.media: MediaStore | None = None  # set by the gateway: photos sent on from the media store
        # New messages in private chats only: edits would be answered twice, groups belong to the relay.
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        self.app.add_handler(CommandHandler("start", self._on_start, filters=private))
        self.app.add_handler(CommandHandler("help", self._on_help, filters=private))
        self.app.add_handler(MessageHandler(private & filters.COMMAND, self._on_command))
        self.app.add_handler(CallbackQueryHandler(self._on_callback))
        self.app.add_handler(MessageHandler(private & filters.LOCATION, self._on_location))
        self.app.add_handler(MessageHandler(private & filters.PHOTO, self._on_photo))
        self.app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, self._on_text))
        self.app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.COMMAND, self._on_unsupported))
        # Groups and supergroups belong to the relay: text and commands are stored with the chat
        # type, the member and the message they reply to; the pipeline hands them to the admin desk.
        groups = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
        self.app.add_handler(MessageHandler(groups & (filters.TEXT | filters.COMMAND), self._on_group_text))
        self._poller: asyncio.Task[None] | None = None
        self._store_failed: set[int] = set()

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        await self.app.initialize()
        if self.webhook_url:
            await self.app.bot.set_webhook(
                self.webhook_url, secret_token=self.webhook_secret, allowed_updates=Update.ALL_TYPES
            )
        elif self.polling:
            await self.app.bot.delete_webhook()
            self._poller = asyncio.create_task(self._poll(), name="telegram-poll")
        mode = "webhook" if self.webhook_url else "long polling" if self.polling else "sending only (no polling)"
        logger.info("telegram channel started (%s)", mode)

    async def stop(self) -> None:
        if self._poller:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        await self.app.shutdown()

    async def _poll(self) -> None:
        offset: int | None = None
        while True:
            try:
                updates = await self.app.bot.get_updates(offset=offset, timeout=20, allowed_updates=Update.ALL_TYPES)
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except TelegramError as exc:
                logger.warning("telegram getUpdates failed: %s", exc)
                await asyncio.sleep(2)
                continue
            for update in updates:
                try:
                    await self.handle_update(update)
                except StoreFailed:
                    await asyncio.sleep(2)  # offset not advanced: Telegram sends it again
                    break
                offset = update.update_id + 1  # confirmed by the next call, after it is stored

    async def handle_update(self, update: Update) -> None:
        """Run the handlers; raise StoreFailed when the update could not be stored.

        python-telegram-bot swallows handler errors, so failures are recorded and re-raised
        here: the caller must not acknowledge an update that was not stored.
        """
        await self.app.process_update(update)
        if update.update_id in self._store_failed:
            self._store_failed.discard(update.update_id)
            raise StoreFailed(update.update_id)

    async def handle_webhook(self, data: Any, secret_header: str | None) -> bool:
        """Store a webhook update; False when the secret header is wrong (nothing stored)."""
        if not self.webhook_secret or not hmac.compare_digest(
            (secret_header or "").encode(), self.webhook_secret.encode()
        ):
            return False
        try:
            update = Update.de_json(data, self.app.bot) if isinstance(data, dict) else None
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise MalformedUpdate(f"{type(exc).__name__}: {exc}") from exc
        if update is None:
            raise MalformedUpdate("not a JSON object")
        await self.handle_update(update)
        return True

    # --- inbound: translate only --------------------------------------------------------------

    async def _store(self, update: Update, kind: str, text: str | None = None, **payload: Any) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        payload = {**payload, "chat_type": chat.type, "user_name": user.full_name}
        if chat.is_forum:
            payload["is_forum"] = True
        message = update.effective_message
        if message is not None and update.callback_query is None:
            payload["message_id"] = str(message.message_id)
            if message.reply_to_message is not None:
                payload["reply_to"] = str(message.reply_to_message.message_id)
            if message.is_topic_message and message.message_thread_id:
                payload["thread_id"] = message.message_thread_id
        inbound = Inbound(
            channel=CHANNEL,
            external_id=str(update.update_id),
            user_id=str(user.id),
            chat_id=str(chat.id),
            kind=kind,
            text=text,
            payload=payload,
        )
        try:
            stored = await asyncio.to_thread(self.inbox.store, inbound)
        except Exception:
            self._store_failed.add(update.update_id)
            raise
        if stored is not None:
            self.on_inbound()

    async def _on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._store(update, "postback", "/start", data="/greet")

    async def _on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._store(update, "postback", "/help", data="/help")

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Other commands ('/batal', '/skip') go to Rasa as typed; Rasa answers unknown ones politely."""
        text = update.effective_message.text or ""
        command, _, rest = text.partition(" ")
        await self._store(update, "postback", text, data=command.split("@")[0] + (" " + rest if rest else ""))

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._store(update, "text", update.effective_message.text)

    async def _on_group_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        text = update.effective_message.text or ""
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            await self._store(update, "postback", text, data=command.split("@")[0] + (" " + rest if rest else ""))
        else:
            await self._store(update, "text", text)

    async def _on_location(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        loc = update.effective_message.location
        await self._store(update, "location", None, latitude=loc.latitude, longitude=loc.longitude)

    async def _on_photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        largest = max(message.photo, key=lambda p: p.width * p.height)
        await self._store(update, "photo", None, photo_ref=f"telegram:{largest.file_id}", caption=message.caption or "")

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query.message is None:
            await query.answer()
            return
        data = query.data or ""
        await self._store(update, "postback", data, data=data.removeprefix(TITLE_PREFIX))
        with contextlib.suppress(TelegramError):
            await query.answer()
        if query.message.chat.type == "private" and not data.startswith(ADMIN_BUTTON_PREFIX):
            # A citizen's choice: drop the buttons so the same choice cannot be sent twice. Admin
            # posts keep theirs (Proses now, Selesai later).
            with contextlib.suppress(TelegramError):
                await query.edit_message_reply_markup(reply_markup=None)

    async def _on_unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        what = next(
            (
                k
                for k in (
                    "sticker",
                    "voice",
                    "audio",
                    "video",
                    "video_note",
                    "animation",
                    "document",
                    "contact",
                    "poll",
                )
                if getattr(message, k, None)
            ),
            "other",
        )
        what = {"document": "file", "video_note": "video"}.get(what, what)
        await self._store(update, "unsupported", None, what=what)

    # --- outbound -----------------------------------------------------------------------------

    async def create_topic(self, chat_id: str, name: str) -> int:
        """A forum topic for one ticket in an admin supergroup; returns its message_thread_id."""
        try:
            topic = await self.app.bot.create_forum_topic(chat_id, name[:128])
        except RetryAfter as exc:
            raise RetryLater(_seconds(exc.retry_after), "telegram 429") from exc
        except Forbidden as exc:
            raise PermanentFailure(f"telegram {type(exc).__name__}: {exc}") from exc
        return topic.message_thread_id

    async def download(self, file_id: str) -> bytes:
        """A citizen's photo, fetched at intake (getFile + file download) for the media store."""
        try:
            tg_file = await self.app.bot.get_file(file_id)
            return bytes(await tg_file.download_as_bytearray())
        except RetryAfter as exc:
            raise RetryLater(_seconds(exc.retry_after), "telegram 429") from exc

    async def send(self, chat_id: str, messages: list[OutMessage]) -> Delivery:
        delivery = Delivery("send")
        for message in messages:
            payload = message.payload
            try:
                delivery.ids[message.id] = await self._send_one(chat_id, payload)
            except ThreadGone:
                # An answer into the forum topic an admin wrote in, and the topic was deleted since:
                # it goes to the group itself instead of blocking every later row for this chat.
                payload = {k: v for k, v in payload.items() if k != "_thread_id"}
                delivery.ids[message.id] = await self._send_one(chat_id, payload)
        return delivery

    async def _send_one(self, chat_id: str, payload: dict[str, Any]) -> list[str]:
        """Send one outbox row (photo, then text parts); returns Telegram's message ids."""
        bot = self.app.bot
        parts = split_text(payload.get("text") or "")
        image: Any = payload.get("image")
        if payload.get("image_ref") and self.media is not None:
            try:
                image = self.media.path(payload["image_ref"]).read_bytes()  # uploaded: works for any chat
            except FileNotFoundError as exc:
                raise PermanentFailure(f"photo {payload['image_ref']} is not in the media store") from exc
        calls = len(parts) + (1 if image else 0)
        # Threading in admin chats: a forum topic, and/or a reply to the ticket's earlier post.
        thread = {"message_thread_id": int(payload["_thread_id"])} if payload.get("_thread_id") else {}
        if payload.get("_reply_to"):
            thread["reply_parameters"] = ReplyParameters(int(payload["_reply_to"]), allow_sending_without_reply=True)
        ids: list[str] = []
        try:
            await self.limits.acquire(chat_id, max(calls, 1))
            first = True
            if image:
                sent = await bot.send_photo(chat_id, image, caption=payload.get("caption"), **thread)
                ids.append(str(sent.message_id))
                first = False
            for i, part in enumerate(parts):
                if not first:
                    await self.limits.pace(chat_id)
                first = False
                markup = keyboard(payload.get("buttons")) if i == len(parts) - 1 else None
                sent = await bot.send_message(chat_id, part, reply_markup=markup, **thread)
                ids.append(str(sent.message_id))
        except RetryAfter as exc:
            raise RetryLater(_seconds(exc.retry_after), "telegram 429") from exc
        except (Forbidden, ChatMigrated) as exc:
            # Blocked by the citizen, or removed from the admin group: retrying can never succeed.
            raise PermanentFailure(f"telegram {type(exc).__name__}: {exc}") from exc
        except BadRequest as exc:
            if any(s in str(exc).lower() for s in PERMANENT_BAD_REQUESTS):
                raise PermanentFailure(str(exc)) from exc
            if "thread not found" in str(exc).lower() and payload.get("_topic"):
                raise TopicGone(str(exc)) from exc
            if "thread not found" in str(exc).lower() and "message_thread_id" in thread:
                raise ThreadGone(str(exc)) from exc
            raise
        return ids
