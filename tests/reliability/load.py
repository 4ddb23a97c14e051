"""The load driver: simulated citizens on Telegram and LINE at once, each filing K complaints in a row.

Citizens are bench/citizens.py's (they answer what the bot actually asks), half of them on the
Telegram fake and half on the LINE fake, all concurrently. The driver plays the platforms' part
too: a webhook that was not acknowledged (no 2xx) is delivered again with the same update id /
webhookEventId, as Telegram and LINE do, and counted. Everything a checker needs afterwards is
recorded here: messages sent and acknowledged, answers, codes per citizen, HTTP statuses, faults.

Some complaints carry an invented 16-digit NIK and an 08xx phone number (in several spellings), so
the privacy scan has something to find if masking ever slips.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from bench.citizens import CODE, Answer, Citizen, Move, Outcome
from bot.relay.registry import AdminRegistry
from bot.store import models as m
from bot.store.db import session_factory
from bot.texts import render
from bot.tickets import TicketService
from tests.reliability.cluster import TG_SECRET, Cluster

JSON = dict[str, Any]
SERVICE_DOWN = render("service_down")
RETRY_SAVE = 'ketik "kirim"'  # the action server could not write the ticket: the citizen types "kirim" again
ANSWER_POLL = 0.3  # seconds between "is the whole answer out?" checks, once its first part arrived
REDELIVER_EVERY = 2.0
REDELIVER_FOR = 900.0
MAX_COMPLAINT_TRIES = 3


def _no_digit_runs(value: str) -> str:
    """Ids without long digit runs, so no id in a log can look like a NIK or a phone number."""
    return re.sub(r"\d{5}", lambda m: m.group(0)[:4] + "a", value)


def line_id(prefix: str, seed: str) -> str:
    return prefix + _no_digit_runs(hashlib.sha256(seed.encode()).hexdigest()[:32])


# --- personal data the citizens type --------------------------------------------------------------


def invented_nik(rng: random.Random) -> str:
    return "3372" + "".join(rng.choice("0123456789") for _ in range(12))


def invented_phone(rng: random.Random) -> str:
    return "08" + rng.choice("1257") + "".join(rng.choice("0123456789") for _ in range(rng.choice((8, 9))))


def spell_phone(phone: str, style: int) -> str:
    if style == 1:
        return f"{phone[:4]}-{phone[4:8]}-{phone[8:]}"
    if style == 2:
        return f"+62 {phone[1:4]} {phone[4:8]} {phone[8:]}"
    return phone


def spell_nik(nik: str, style: int) -> str:
    return " ".join(nik[i : i + 4] for i in range(0, 16, 4)) if style == 1 else nik


# --- what happened ------------------------------------------------------------------------------


@dataclass
class Sent:
    """One citizen message (a move), however many times the platform had to deliver it."""

    channel: str
    sender: str
    external_id: str
    kind: str
    at: float
    attempts: int = 0
    acked: bool = False
    answered: bool = False


@dataclass
class Stats:
    messages: list[Sent] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    five_xx: list[tuple[float, int]] = field(default_factory=list)
    delivery_errors: list[str] = field(default_factory=list)
    service_down_notices: int = 0
    retry_save_prompts: int = 0
    timeouts: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    complaints_done: int = 0
    complaints_restarted: int = 0
    latencies: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    final_check_answered: int = 0

    @property
    def sent(self) -> int:
        return len(self.messages)

    @property
    def deliveries(self) -> int:
        return sum(m.attempts for m in self.messages)

    @property
    def unacked_attempts(self) -> int:
        return sum(max(m.attempts - 1, 0) for m in self.messages) + sum(not m.acked for m in self.messages)


@dataclass
class Person:
    """One citizen's chat: a Telegram private chat or a LINE user."""

    index: int
    channel: str
    user_id: str
    queue: asyncio.Queue[JSON] = field(default_factory=asyncio.Queue)
    codes: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return f"{self.channel}:{self.user_id}"


@dataclass
class AdminChat:
    channel: str
    chat_id: str
    opd_id: str
    role: str


# --- the driver -----------------------------------------------------------------------------------


class SuiteCitizen(Citizen):
    """bench's citizen, who also recognises the location question when it is asked without the word "lokasi"
    ("Di mana Bapak/Ibu mengurus layanan ini?", the form's question for documents and social aid)."""

    def next_move(self, answer: Answer) -> Move | None:
        lower = answer.text.lower()
        if "di mana" in lower and "lokasi" not in lower and not CODE.search(answer.text):
            answer = Answer(answer.text + "\n(lokasi)", answer.buttons)
        return super().next_move(answer)


class LoadDriver:
    def __init__(
        self,
        cluster: Cluster,
        citizens: int,
        complaints: int,
        *,
        seed: int = 11,
        pii_every: int = 3,
        turn_timeout: float = 240.0,
    ) -> None:
        self.cluster = cluster
        self.complaints = complaints
        self.turn_timeout = turn_timeout
        self.pii_every = pii_every
        self.rng = random.Random(seed)
        self.tag = f"{seed:02d}{random.randrange(16**4):04x}"
        self.stats = Stats()
        self.people = [
            Person(
                i,
                "telegram" if i % 2 == 0 else "line",
                str(7_100_000_000 + seed * 100_000 + i) if i % 2 == 0 else line_id("U", f"{self.tag}-{i}"),
            )
            for i in range(citizens)
        ]
        self._by_chat = {(p.channel, p.user_id): p for p in self.people}
        self.invented: set[str] = set()  # digits of every NIK and phone number typed
        self.admin_chats: list[AdminChat] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.sessions = session_factory(cluster.database_url)
        cluster.on_sent = self._on_sent

    @property
    def expected_tickets(self) -> int:
        return len(self.people) * self.complaints

    # --- answers from the fakes (their threads) -> the citizen's queue (our loop) --------------

    def _on_sent(self, channel: str, entry: JSON) -> None:
        chat = str(entry.get("chat_id") if channel == "telegram" else entry.get("user_id"))
        person = self._by_chat.get((channel, chat))
        if person is not None and self.loop is not None:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(person.queue.put_nowait, entry)

    # --- admin chats --------------------------------------------------------------------------

    async def register_admins(self) -> None:
        """One chat per OPD (Telegram and LINE groups in turn) plus a LINE koordinator group, via /daftar."""
        registry = AdminRegistry(
            session_factory(self.cluster.database_url), TicketService.from_url(self.cluster.database_url).taxonomy
        )
        taxonomy = registry.taxonomy
        chats: list[AdminChat] = []
        for n, opd_id in enumerate(sorted(o for o in taxonomy.opds if o != taxonomy.coordinator_opd)):
            if n % 2 == 0:
                chats.append(AdminChat("telegram", str(-1_007_200_000_000 - n), opd_id, "admin"))
            else:
                chats.append(AdminChat("line", line_id("C", f"{self.tag}-opd-{opd_id}"), opd_id, "admin"))
        koordinator = line_id("C", f"{self.tag}-koordinator")
        chats.append(AdminChat("line", koordinator, taxonomy.coordinator_opd, "koordinator"))
        for chat in chats:
            code, _ = registry.invite(chat.opd_id, chat.role)
            await self._admin_say(chat, f"/daftar {code}")
        for chat in chats:
            await self._wait_admin(chat, "terdaftar", 120)
        self.admin_chats = chats

    async def _admin_say(self, chat: AdminChat, text: str) -> None:
        member = "7300000001" if chat.channel == "telegram" else line_id("U", f"{self.tag}-admin")
        if chat.channel == "telegram":
            spec = {"user_id": int(member), "chat_id": int(chat.chat_id), "text": text, "first_name": "Budi"}
            await self._deliver_telegram(spec, None)
        else:
            await self._deliver_line({"user_id": member, "group_id": chat.chat_id, "text": text}, None)

    async def _wait_admin(self, chat: AdminChat, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in t for t in admin_texts(self.cluster, chat)):
                return
            await asyncio.sleep(0.5)
        raise TimeoutError(f"admin chat {chat} never answered {needle!r}")

    # --- delivering one citizen message as the platform does -------------------------------------

    async def _deliver_telegram(self, spec: JSON, record: Sent | None) -> JSON:
        fake = self.cluster.telegram
        result = await fake.inject(spec)
        update = result["update"]
        if record is not None:
            record.external_id = str(result["update_id"])
        while True:
            if record is not None:
                record.attempts += 1
            if result["delivered_via"] == "polling":
                if record is not None:
                    record.acked = True  # confirmed by the gateway's next getUpdates; checked at the end
                return result
            status = result.get("webhook_status")
            self._count_status("telegram", status, result.get("webhook_error"))
            if status is not None and 200 <= status < 300:
                if record is not None:
                    record.acked = True
                return result
            await asyncio.sleep(REDELIVER_EVERY)  # Telegram retries an unacknowledged webhook
            if record is not None and time.time() - record.at > REDELIVER_FOR:
                return result
            result = await fake.inject(update)

    async def _deliver_line(self, spec: JSON, record: Sent | None) -> JSON:
        fake = self.cluster.line
        result = await fake.inject(spec)
        event_id = result["webhook_event_id"]
        if record is not None:
            record.external_id = event_id
        while True:
            if record is not None:
                record.attempts += 1
            status = result.get("webhook_status")
            self._count_status("line", status, result.get("webhook_error"))
            if status is not None and 200 <= status < 300:
                if record is not None:
                    record.acked = True
                return result
            await asyncio.sleep(REDELIVER_EVERY)  # LINE redelivers (webhook redelivery on)
            if record is not None and time.time() - record.at > REDELIVER_FOR:
                return result
            result = await fake.redeliver(event_id)

    def _count_status(self, channel: str, status: int | None, error: str | None = None) -> None:
        self.stats.statuses[f"{channel}:{status if status is not None else 'no answer'}"] += 1
        if status is None or status >= 300:
            self.stats.delivery_errors.append(f"{time.strftime('%H:%M:%S')} {channel} {status}: {error}"[:200])
        if status is not None and status >= 500:
            self.stats.five_xx.append((time.time(), status))

    async def send(self, person: Person, move: Move) -> Sent:
        record = Sent(person.channel, person.sender, "", move.kind, time.time())
        self.stats.messages.append(record)
        if person.channel == "telegram":
            uid = int(person.user_id)
            if move.kind == "location":
                spec: JSON = {"user_id": uid, "location": {"latitude": move.latitude, "longitude": move.longitude}}
            elif move.kind == "button":
                spec = {"user_id": uid, "callback_data": move.text, "message_id": move.message_id}
            else:
                spec = {"user_id": uid, "text": move.text}
            await self._deliver_telegram(spec, record)
        else:
            if move.kind == "location":
                spec = {"user_id": person.user_id, "location": {"latitude": move.latitude, "longitude": move.longitude}}
            elif move.kind == "button":
                spec = {"user_id": person.user_id, "postback": move.text}
            else:
                spec = {"user_id": person.user_id, "text": move.text}
            await self._deliver_line(spec, record)
        return record

    # --- answers --------------------------------------------------------------------------------

    async def answer(self, person: Person, record: Sent, timeout: float) -> Answer:
        """The bot's whole answer to `record`: from its first message until every row of it is sent.

        Parts of one answer can be seconds apart (Telegram's per-chat and global pacing), so "the
        chat went quiet" is not enough: the inbox row must be done and all its outbox rows `sent`
        (a row is marked only after the fake got it, so by then every part is in the queue). The
        "saved, we will process it when the service is back" notice is not an answer: the citizen
        keeps waiting (as the notice tells them to).
        """
        entries: list[JSON] = []
        deadline = time.monotonic() + timeout

        def remaining() -> float:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            return left

        while not entries:
            entry = await asyncio.wait_for(person.queue.get(), remaining())
            if not self._notice(entry):
                entries.append(entry)
        while not await asyncio.to_thread(self._answered, record):
            with contextlib.suppress(TimeoutError):
                entry = await asyncio.wait_for(person.queue.get(), min(ANSWER_POLL, remaining()))
                if not self._notice(entry):
                    entries.append(entry)
        await asyncio.sleep(0.05)  # the last part's hand-over from the fake's thread
        while not person.queue.empty():
            entry = person.queue.get_nowait()
            if not self._notice(entry):
                entries.append(entry)
        person.transcript += [f"{time.strftime('%H:%M:%S')} <- {t[:90]!r}" for e in entries for t in entry_texts(e)]
        return parse_answer(person.channel, entries)

    def _answered(self, record: Sent) -> bool:
        """The message's inbox row is done and every outbox row it caused is sent."""
        try:
            with self.sessions() as session:
                row = session.execute(
                    select(m.InboundMessage.id, m.InboundMessage.status).where(
                        m.InboundMessage.channel == record.channel, m.InboundMessage.external_id == record.external_id
                    )
                ).first()
                if row is None or row.status != "done":
                    return False
                unsent = session.scalar(
                    select(func.count()).where(m.OutboxMessage.inbound_id == row.id, m.OutboxMessage.status != "sent")
                )
                return not unsent
        except Exception:  # the database is restarting: ask again
            return False

    def _notice(self, entry: JSON) -> bool:
        if SERVICE_DOWN in "\n".join(entry_texts(entry)):
            self.stats.service_down_notices += 1
            return True
        return False

    async def turn(self, person: Person, move: Move) -> Answer:
        while not person.queue.empty():
            person.queue.get_nowait()  # late parts of an earlier answer
        person.transcript.append(f"{time.strftime('%H:%M:%S')} -> {move.kind} {move.text[:90]!r}")
        record = await self.send(person, move)
        started = time.monotonic()
        try:
            answer = await self.answer(person, record, self.turn_timeout)
        except TimeoutError:
            self.stats.timeouts.append(f"{person.sender} {record.kind} {record.external_id}")
            raise
        record.answered = True
        self.stats.latencies.append(time.monotonic() - started)
        return answer

    # --- citizens ---------------------------------------------------------------------------------

    def citizen(self, person: Person, complaint: int) -> Citizen:
        number = person.index * self.complaints + complaint
        citizen = SuiteCitizen.make(number)
        if number % self.pii_every == 0:
            nik, phone = invented_nik(self.rng), invented_phone(self.rng)
            self.invented.update({nik, phone})
            style = number % 3
            nik_text, phone_text = spell_nik(nik, style), spell_phone(phone, style)
            if number % (self.pii_every * 3) == 0:
                citizen.complaint += f". Tolong hubungi saya di {phone_text}, NIK {nik_text}"
            else:
                citizen.complaint += f". NIK saya {nik_text}, no hp {phone_text}"
        return citizen

    async def file_complaint(self, person: Person, number: int) -> str | None:
        """One complaint to its code; a conversation that derails is cancelled and started again."""
        for _ in range(MAX_COMPLAINT_TRIES):
            citizen = self.citizen(person, number)
            move: Move | None = citizen.first_move()
            try:
                while move is not None:
                    answer = await self.turn(person, move)
                    citizen.turns += 1
                    if RETRY_SAVE in answer.text:
                        self.stats.retry_save_prompts += 1
                        await asyncio.sleep(3)
                        move = Move("text", "kirim")
                        continue
                    guess = next((b for b in answer.buttons if b[0].startswith("Melapor")), None)
                    if guess is not None and not CODE.search(answer.text):
                        # "Apakah maksud Anda salah satu dari ini?": a citizen picks "Melapor: <kategori>".
                        move = Move("button", guess[1], message_id=guess[2])
                        continue
                    move = citizen.next_move(answer)
                    if citizen.code:
                        return citizen.code
            except Outcome as exc:
                self.stats.outcomes.append(f"{person.sender} complaint {number}: {exc}")
            except TimeoutError:
                pass
            self.stats.complaints_restarted += 1
            with contextlib.suppress(TimeoutError):
                await self.turn(person, Move("text", "batal"))
        return None

    async def play(self, person: Person) -> None:
        await asyncio.sleep(self.rng.random() * 3)  # citizens do not all start in the same second
        for number in range(self.complaints):
            code = await self.file_complaint(person, number)
            if code:
                person.codes.append(code)
                self.stats.complaints_done += 1

    async def run(self, faults: Callable[[LoadDriver], Awaitable[None]] | None = None) -> Stats:
        """All citizens concurrently; `faults` runs alongside (it watches `stats.complaints_done`)."""
        self.loop = asyncio.get_running_loop()
        await self.register_admins()
        self.stats.started = time.time()
        load = asyncio.ensure_future(asyncio.gather(*(self.play(p) for p in self.people)))
        tasks = {load}
        if faults is not None:
            tasks.add(asyncio.ensure_future(faults(self)))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # an injector that failed (a process that never came back) stops the run
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        self.stats.finished = time.time()
        return self.stats

    async def final_check(self, timeout: float = 240.0) -> int:
        """No conversation is stuck: every citizen's new message gets an answer. Returns how many did."""

        async def one(person: Person) -> bool:
            try:
                await self.turn(person, Move("text", "terima kasih"))
                return True
            except TimeoutError:
                return False

        results = await asyncio.gather(*(one(p) for p in self.people))
        self.stats.final_check_answered = sum(results)
        return self.stats.final_check_answered


# --- reading what the fakes got -----------------------------------------------------------------


def entry_texts(entry: JSON) -> list[str]:
    """The texts of one Telegram call or LINE reply/push (captions and LINE text messages)."""
    if "method" in entry:
        return [entry.get("text") or ""]
    return [t or "" for t in entry.get("texts") or []]


def parse_answer(channel: str, entries: list[JSON]) -> Answer:
    texts: list[str] = []
    buttons: list[tuple[str, str, int | None]] = []
    for entry in entries:
        texts += [t for t in entry_texts(entry) if t]
        if channel == "telegram":
            rows = (entry.get("reply_markup") or {}).get("inline_keyboard") or []
            for button in (b for row in rows for b in row):
                buttons.append((button.get("text", ""), str(button.get("callback_data", "")), entry.get("message_id")))
        else:
            for message in entry.get("messages") or []:
                for item in (message.get("quickReply") or {}).get("items") or []:
                    action = item.get("action") or {}
                    buttons.append((action.get("label", ""), str(action.get("data", "")), None))
    return Answer("\n\n".join(texts), buttons)


def admin_entries(cluster: Cluster, chat: AdminChat) -> list[JSON]:
    if chat.channel == "telegram":
        return [e for e in cluster.telegram.sent(chat.chat_id) if e["method"] in ("sendMessage", "sendPhoto")]
    return cluster.line.sent(chat.chat_id, ("reply", "push"))


def admin_texts(cluster: Cluster, chat: AdminChat) -> list[str]:
    return [t for e in admin_entries(cluster, chat) for t in entry_texts(e)]


def codes_in(texts: list[str]) -> list[str]:
    return [m.group(0) for t in texts for m in CODE.finditer(t)]


__all__ = ["TG_SECRET", "AdminChat", "LoadDriver", "Person", "Sent", "Stats"]
