"""The admin relay end to end: real gateway, Rasa and action server; Telegram and LINE fakes.

Admins register their groups with `/daftar KODE`, citizens file complaints by typing, the ticket
is posted to the OPD's group and the koordinator's, the admin answers by replying to the post and
changes status with a button, and the citizen's answer comes back threaded under the post.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.relay.registry import AdminRegistry
from bot.store.db import session_factory
from tests.integration.stack import GatewayThread, Stack, free_port
from tests.integration.test_channels_e2e import CODE, LAT, LON, WAIT, LineCitizen, TelegramCitizen
from tests.support.fake_line import FakeLineServer
from tests.support.fake_telegram import SAMPLE_JPEG, FakeTelegramServer

JSON = dict[str, Any]
PUPR = "Dinas Pekerjaan Umum dan Penataan Ruang"


class TelegramGroup:
    """An admin group on the fake Bot API, with one member who types."""

    def __init__(self, fake: FakeTelegramServer) -> None:
        self.fake = fake
        self.chat_id = -(10**12 + random.randint(10**6, 10**7))
        self.member = random.randint(10**8, 10**9 - 1)

    def say(self, text: str, reply_to: int | None = None) -> JSON:
        spec: JSON = {"user_id": self.member, "chat_id": self.chat_id, "text": text, "first_name": "Budi"}
        if reply_to is not None:
            spec["reply_to"] = reply_to
        return self.fake.inject_sync(spec)

    def press(self, data: str, message_id: int) -> JSON:
        return self.fake.inject_sync(
            user_id=self.member, chat_id=self.chat_id, callback_data=data, message_id=message_id, first_name="Budi"
        )

    def messages(self) -> list[JSON]:
        return [
            e for e in self.fake.sent() if str(e.get("chat_id")) == str(self.chat_id) and e["method"] == "sendMessage"
        ]

    def wait_for(self, needle: str, after: int = 0) -> JSON:
        found = self.fake.wait_for_sent_sync(
            lambda e: (
                e["seq"] > after
                and str(e.get("chat_id")) == str(self.chat_id)
                and needle.lower() in (e.get("text") or "").lower()
            ),
            method="sendMessage",
            timeout=WAIT,
        )
        return found[-1]

    def mark(self) -> int:
        sent = self.fake.sent()
        return sent[-1]["seq"] if sent else 0


class LineGroup:
    def __init__(self, fake: FakeLineServer) -> None:
        self.fake = fake
        self.group_id = "C" + uuid.uuid4().hex
        self.member = "U" + uuid.uuid4().hex

    def say(self, text: str, quoted: str | None = None) -> JSON:
        spec: JSON = {"user_id": self.member, "group_id": self.group_id, "text": text}
        if quoted:
            spec["quoted_message_id"] = quoted
        result = self.fake.inject_sync(spec)
        assert result["webhook_status"] == 200, result
        return result

    def press(self, data: str) -> JSON:
        return self.fake.inject_sync(user_id=self.member, group_id=self.group_id, postback=data)

    def wait_for(self, needle: str, after: int = 0) -> JSON:
        found = self.fake.wait_for_sent_sync(
            lambda e: e["seq"] > after and any(needle.lower() in (t or "").lower() for t in e["texts"]),
            user_id=self.group_id,
            timeout=WAIT,
        )
        return found[-1]

    def mark(self) -> int:
        sent = self.fake.sent()
        return sent[-1]["seq"] if sent else 0


@pytest.fixture(scope="module")
def fake_tg() -> Iterator[FakeTelegramServer]:
    with FakeTelegramServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def fake_line() -> Iterator[FakeLineServer]:
    with FakeLineServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def gateway(
    stack: Stack, fake_tg: FakeTelegramServer, fake_line: FakeLineServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayThread]:
    port = free_port()
    settings = stack.settings(
        ADUAN_HTTP_PORT=port,
        ADUAN_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        ADUAN_MEDIA_DIR=str(tmp_path_factory.mktemp("media")),
        TELEGRAM_BOT_TOKEN=fake_tg.token,
        TELEGRAM_API_BASE_URL=fake_tg.root_url,
        LINE_CHANNEL_SECRET=fake_line.channel_secret,
        LINE_CHANNEL_ACCESS_TOKEN=fake_line.access_token,
        LINE_API_BASE_URL=fake_line.base_url,
    )
    with GatewayThread(settings) as gw:
        fake_line.set_webhook(f"{gw.url}/webhooks/line")
        yield gw


@pytest.fixture(scope="module")
def registry(stack: Stack) -> AdminRegistry:
    return AdminRegistry(session_factory(stack.database_url), stack.tickets.taxonomy)


def register_tg(group: TelegramGroup, registry: AdminRegistry, opd: str, role: str = "admin") -> None:
    code, _ = registry.invite(opd, role)
    mark = group.mark()
    group.say(f"/daftar {code}")
    group.wait_for("terdaftar", mark)


def register_line(group: LineGroup, registry: AdminRegistry, opd: str, role: str = "admin") -> None:
    code, _ = registry.invite(opd, role)
    mark = group.mark()
    group.say(f"/daftar {code}")
    group.wait_for("terdaftar", mark)


def file_tg_complaint(tg: TelegramCitizen) -> str:
    tg.send(text="min jalan depan SD 3 berlubang bgt, udh 2 org jatuh")
    tg.wait_for("lokasi")
    tg.send(location={"latitude": LAT, "longitude": LON})
    tg.wait_for("foto")
    tg.send(photo=True)
    tg.wait_for("identitas")
    tg.click("Biasa")
    tg.wait_for("ringkasan")
    tg.click("Kirim laporan")
    return CODE.search(tg.wait_for(lambda text: bool(CODE.search(text)))["text"]).group(0)


def file_line_complaint(line: LineCitizen) -> str:
    line.send(text="min jalan depan SD 3 berlubang bgt, udh 2 org jatuh")
    line.wait_for("lokasi")
    line.send(location={"latitude": LAT, "longitude": LON, "address": "Jl. Kenanga, Jebres"})
    line.wait_for("foto")
    line.send(image=True)
    line.wait_for("identitas")
    line.click("Biasa")
    line.wait_for("ringkasan")
    line.click("Kirim laporan")
    return CODE.search("\n".join(line.wait_for("Kode laporan")["texts"])).group(0)


def test_telegram_citizen_and_telegram_admins(
    stack: Stack, gateway: GatewayThread, fake_tg: FakeTelegramServer, registry: AdminRegistry
) -> None:
    pupr, koor, dinsos = TelegramGroup(fake_tg), TelegramGroup(fake_tg), TelegramGroup(fake_tg)
    register_tg(pupr, registry, "dpupr")
    register_tg(koor, registry, "diskominfo", "koordinator")
    register_tg(dinsos, registry, "dinsos")
    tg = TelegramCitizen(fake_tg, gateway)

    code = file_tg_complaint(tg)
    post = pupr.wait_for(code)
    assert "Foto: 1" in post["text"] and "maps.google.com" in post["text"]
    assert [b[0]["text"] for b in post["reply_markup"]["inline_keyboard"]] == [
        "Proses",
        "Selesai",
        "Tolak",
        "Disposisi",
        "Balas",
    ]
    photo = fake_tg.wait_for_sent_sync(
        lambda e: str(e.get("chat_id")) == str(pupr.chat_id) and code in (e.get("text") or ""),
        method="sendPhoto",
        timeout=WAIT,
    )[-1]
    assert photo["photo"]["size"] == len(SAMPLE_JPEG)  # uploaded from the media store
    koor.wait_for(code)
    assert not [m for m in dinsos.messages() if code in (m["text"] or "")]

    # The admin replies to the post: the citizen gets it in their own chat, prefixed with the OPD.
    tg.send(text="terima kasih")  # moves the citizen's wait mark
    tg.wait_for("sama-sama")
    pupr.say("Baik Bu, tim kami cek besok pagi", reply_to=post["message_id"])
    petugas = tg.wait_for(f"Petugas {PUPR}: Baik Bu, tim kami cek besok pagi")["text"]
    assert "/selesai" in petugas

    # Proses with the button: the citizen is told, the audit names the member.
    pupr.press(f"adm:proses:{code}", post["message_id"])
    tg.wait_for("Sedang diproses")
    assert stack.tickets.get(code).status == "diproses"
    assert stack.tickets.get(code).events[-1].actor.startswith(f"admin:telegram:{pupr.member} (Budi)")

    # The citizen answers: it reaches the group threaded under the ticket, and Rasa stays quiet.
    mark = pupr.mark()
    before = len(tg.texts())
    tg.send(text="Siap pak, saya tunggu di lokasi")
    forwarded = pupr.wait_for("Siap pak, saya tunggu di lokasi", mark)
    assert code in forwarded["text"]
    assert (forwarded["params"].get("reply_parameters") or {}).get("message_id")
    # A citizen's admin command is refused and changes nothing (still inside the conversation: the
    # refusal comes from the relay, not from the petugas).
    tg.send(text=f"/status {code} selesai")
    tg.wait_for("khusus untuk petugas")
    assert stack.tickets.get(code).status == "diproses"
    assert len(tg.texts()) == before + 1

    # Another OPD's admin cannot act on it.
    mark = dinsos.mark()
    dinsos.say(f"/status {code} selesai")
    dinsos.wait_for("bukan wewenang", mark)
    assert stack.tickets.get(code).status == "diproses"

    # Each message reached the citizen exactly once.
    texts = tg.texts()
    assert sum(t.startswith(f"Petugas {PUPR}") for t in texts) == 1
    assert sum("Sedang diproses" in t for t in texts) == 1

    # The citizen goes back to the assistant.
    tg.send(text="/selesai")
    tg.wait_for("kembali terhubung dengan asisten")
    tg.send(text="terima kasih")
    tg.wait_for("sama-sama")


def test_disposition_to_another_opd(
    stack: Stack, gateway: GatewayThread, fake_tg: FakeTelegramServer, registry: AdminRegistry
) -> None:
    pupr, dinsos = TelegramGroup(fake_tg), TelegramGroup(fake_tg)
    register_tg(pupr, registry, "dpupr")
    register_tg(dinsos, registry, "dinsos")
    tg = TelegramCitizen(fake_tg, gateway)
    code = file_tg_complaint(tg)
    pupr.wait_for(code)
    mark = dinsos.mark()
    pupr.say(f"/disposisi {code} dinsos bukan wewenang kami, ini soal bantuan")
    tg.wait_for("kami teruskan ke Dinas Sosial")
    dinsos.wait_for(code, mark)
    assert stack.tickets.get(code).opd_id == "dinsos"


def test_line_citizen_and_line_admin_group(
    stack: Stack, gateway: GatewayThread, fake_line: FakeLineServer, registry: AdminRegistry
) -> None:
    group = LineGroup(fake_line)
    register_line(group, registry, "dpupr")
    line = LineCitizen(fake_line, gateway)
    code = file_line_complaint(line)
    post = group.wait_for(code)
    assert post["kind"] == "push"  # nothing to reply to: LINE push (counted in /healthz)
    post_id = post["sent_messages"][0]["id"]

    # A person quotes a post seconds after it arrives; the gateway records the post's LINE message id
    # when LINE answers the push, a moment after the fake shows it (quoting before that is a known race).
    time.sleep(2)
    group.say("Baik, kami jadwalkan perbaikan minggu ini", quoted=post_id)
    line.wait_for(f"Petugas {PUPR}: Baik, kami jadwalkan perbaikan minggu ini")

    mark = group.mark()
    group.say(f"/status {code} diproses tim sudah berangkat")
    answer = group.wait_for("Sedang diproses", mark)
    assert answer["kind"] == "reply"  # the admin's own event still had a fresh reply token
    line.wait_for("tim sudah berangkat")

    mark = group.mark()
    line.send(text="Terima kasih banyak pak")
    group.wait_for("Terima kasih banyak pak", mark)
    texts = line.texts()
    assert sum(t.startswith(f"Petugas {PUPR}") for t in texts) == 1
    assert sum("Sedang diproses" in t for t in texts) == 1
    # /healthz counts the paid LINE pushes and shows the queues and the media folder.
    health = httpx.get(f"{gateway.url}/healthz", timeout=10).json()
    assert health["queues"]["line_pushes"]["last_24h"] >= 2 and health["media"]["ok"]
    assert health["queues"]["outbox"]["failed"] >= 0 and "oldest_due_seconds" in health["queues"]["inbox"]


def test_telegram_citizen_with_line_admins(
    stack: Stack,
    gateway: GatewayThread,
    fake_tg: FakeTelegramServer,
    fake_line: FakeLineServer,
    registry: AdminRegistry,
) -> None:
    group = LineGroup(fake_line)
    register_line(group, registry, "dpupr")
    tg = TelegramCitizen(fake_tg, gateway)
    code = file_tg_complaint(tg)
    post = group.wait_for(code)
    assert "Foto: 1" in post["texts"][0]
    # The photo reaches LINE as an image message pointing at a signed, expiring URL on the gateway.
    entry = fake_line.wait_for_sent_sync(
        lambda e: any(msg.get("type") == "image" for msg in e["messages"]), user_id=group.group_id, timeout=WAIT
    )[-1]
    url = next(msg for msg in entry["messages"] if msg.get("type") == "image")["originalContentUrl"]
    assert url.startswith(f"{gateway.url}/media/")
    assert httpx.get(url, timeout=10).content == SAMPLE_JPEG
    assert httpx.get(url.replace("sig=", "sig=0"), timeout=10).status_code == 404
    group.say("Kami segera ke lokasi", quoted=post["sent_messages"][0]["id"])
    tg.wait_for(f"Petugas {PUPR}: Kami segera ke lokasi")
    mark = group.mark()
    tg.send(text="Baik terima kasih")
    group.wait_for("Baik terima kasih", mark)


def test_forum_group_gets_a_topic_per_ticket_recreated_when_deleted(
    stack: Stack, gateway: GatewayThread, fake_tg: FakeTelegramServer, registry: AdminRegistry
) -> None:
    forum = TelegramGroup(fake_tg)
    fake_tg.make_forum(forum.chat_id)
    register_tg(forum, registry, "dpupr")
    tg = TelegramCitizen(fake_tg, gateway)
    code = file_tg_complaint(tg)
    post = forum.wait_for(code)
    thread = post["params"]["message_thread_id"]
    assert fake_tg.topics(forum.chat_id)[thread].startswith(code)

    # Anything written in the ticket's topic goes to the citizen.
    fake_tg.inject_sync(
        user_id=forum.member, chat_id=forum.chat_id, text="Laporan diterima, kami cek", thread_id=thread
    )
    tg.wait_for(f"Petugas {PUPR}: Laporan diterima, kami cek")

    # An admin deletes the topic: the next message about the ticket recreates it.
    fake_tg.delete_topic(forum.chat_id, thread)
    mark = forum.mark()
    tg.send(text="Baik, terima kasih infonya")
    forwarded = forum.wait_for("Baik, terima kasih infonya", mark)
    new_thread = forwarded["params"]["message_thread_id"]
    assert new_thread != thread and fake_tg.topics(forum.chat_id)[new_thread].startswith(code)


def test_citizen_asks_for_a_person_and_the_bot_steps_aside(
    stack: Stack, gateway: GatewayThread, fake_tg: FakeTelegramServer, registry: AdminRegistry
) -> None:
    pupr = TelegramGroup(fake_tg)
    register_tg(pupr, registry, "dpupr")
    tg = TelegramCitizen(fake_tg, gateway)
    code = file_tg_complaint(tg)
    pupr.wait_for(code)

    mark = pupr.mark()
    tg.send(text="saya mau bicara dengan petugas")
    tg.wait_for(f"sudah kami sampaikan kepada petugas {PUPR} untuk laporan {code}")
    asked = pupr.wait_for("ingin bicara dengan petugas", mark)
    assert code in asked["text"]

    before = len(tg.texts())
    tg.send(text="jalannya makin parah pak, tolong cepat")
    pupr.wait_for("jalannya makin parah pak", mark)
    assert len(tg.texts()) == before  # the assistant did not answer over the petugas
    pupr.say("Siap Bu, besok pagi tim datang", reply_to=asked["message_id"])
    tg.wait_for(f"Petugas {PUPR}: Siap Bu, besok pagi tim datang")
