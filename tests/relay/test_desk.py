"""Admin registration, commands and buttons through the desk, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.relay.desk import AdminDesk, AdminMessage
from bot.relay.registry import AdminRegistry, RegistryError, parse_duration
from bot.store import models as m
from bot.tickets import NewTicket, TicketService

GROUP_PUPR = "-100111"
GROUP_KOOR = "-100999"
GROUP_DINSOS = "-100222"


@pytest.fixture
def registry(service: TicketService) -> AdminRegistry:
    return AdminRegistry(service.sessions, service.taxonomy)


@pytest.fixture
def desk(service: TicketService, registry: AdminRegistry) -> AdminDesk:
    return AdminDesk(service.sessions, service, registry)


def say(desk: AdminDesk, chat: str, text: str, *, user: str = "501", kind: str = "text", chat_type: str = "supergroup"):
    return desk.handle(AdminMessage("telegram", chat, user, chat_type, text, kind=kind, user_name="Budi Petugas"))


def texts(answers) -> str:
    return "\n".join(a["text"] for a in answers or [])


def register(desk: AdminDesk, registry: AdminRegistry, chat: str, opd: str, role: str = "admin") -> None:
    code, _ = registry.invite(opd, role)
    assert "terdaftar" in texts(say(desk, chat, f"/daftar {code}"))


def outbox(service: TicketService) -> list[m.OutboxMessage]:
    with service.sessions() as session:
        return list(session.scalars(select(m.OutboxMessage).order_by(m.OutboxMessage.id)))


def ticket(service: TicketService, category: str = "infrastruktur", **kw) -> str:
    new = NewTicket(
        channel="telegram",
        user_id="42",
        chat_id="42",
        description="Jalan berlubang di depan SDN 3, NIK saya 3273010101900001, HP 081234567890",
        category_id=category,
        citizen_name="Siti",
        **kw,
    )
    return service.create_ticket(new).code


def test_invite_codes_are_single_use_and_expire(desk: AdminDesk, registry: AdminRegistry) -> None:
    code, until = registry.invite("dpupr", expires=timedelta(hours=1))
    assert until > datetime.now(UTC)
    answer = texts(say(desk, GROUP_PUPR, f"/daftar@aduan_bot {code.lower()}"))
    assert "terdaftar sebagai admin untuk Dinas Pekerjaan Umum" in answer
    assert "sudah pernah dipakai" in texts(say(desk, "-100555", f"/daftar {code}"))
    assert "tidak dikenal" in texts(say(desk, "-100555", "/daftar ABCDE-FGHJK"))
    old, _ = registry.invite("dpupr", expires=timedelta(minutes=1))
    assert registry.register("telegram", "-100555", old, now=datetime.now(UTC) + timedelta(minutes=2)).reason == (
        "expired"
    )
    assert [c.key for c in registry.list()] == [f"telegram:{GROUP_PUPR}"]
    assert registry.list()[0].registered_by == "admin:telegram:501 (Budi Petugas)"
    with pytest.raises(RegistryError):
        registry.invite("nope")
    with pytest.raises(RegistryError):
        parse_duration("2 minggu")


def test_new_ticket_reaches_opd_and_koordinator_masked(
    service: TicketService, desk: AdminDesk, registry: AdminRegistry
) -> None:
    register(desk, registry, GROUP_PUPR, "dpupr")
    register(desk, registry, GROUP_KOOR, "diskominfo", "koordinator")
    register(desk, registry, GROUP_DINSOS, "dinsos")
    code = ticket(service)
    posts = {row.chat_id: row.payload for row in outbox(service) if row.ticket_id}
    assert set(posts) == {GROUP_PUPR, GROUP_KOOR}
    text = posts[GROUP_PUPR]["text"]
    assert code in text and "Siti" in text
    assert "3273010101900001" not in text and "081234567890" not in text
    assert [b["title"] for b in posts[GROUP_PUPR]["buttons"]] == ["Proses", "Selesai", "Tolak", "Disposisi", "Balas"]


def test_anonymous_and_confidential_tickets(service: TicketService, desk: AdminDesk, registry: AdminRegistry) -> None:
    register(desk, registry, GROUP_PUPR, "dpupr")
    register(desk, registry, GROUP_KOOR, "diskominfo", "koordinator")
    ticket(service, anonymous=True)
    anon = {r.chat_id: r.payload["text"] for r in outbox(service) if r.ticket_id}
    assert all("Siti" not in t and "(anonim)" in t for t in anon.values())
    code = ticket(service, confidential=True)
    secret = {r.chat_id: r.payload["text"] for r in outbox(service) if r.ticket_id and code in r.payload["text"]}
    assert "Jalan berlubang" in secret[GROUP_PUPR]
    assert "Jalan berlubang" not in secret[GROUP_KOOR] and "RAHASIA" in secret[GROUP_KOOR]
    assert "Jalan berlubang" not in texts(say(desk, GROUP_KOOR, f"/tiket {code}"))


def test_commands_change_status_tell_the_citizen_and_audit_the_member(
    service: TicketService, desk: AdminDesk, registry: AdminRegistry
) -> None:
    register(desk, registry, GROUP_PUPR, "dpupr")
    code = ticket(service)
    assert "Sedang diproses" in texts(say(desk, GROUP_PUPR, f"/status {code} diproses tim sudah berangkat"))
    # Illegal change: clear answer, nothing changes.
    assert "tidak dilakukan" in texts(say(desk, GROUP_PUPR, f"/tolak {code} dobel"))
    assert service.get(code).status == "diproses"
    assert "tidak dikirim ke warga" in texts(say(desk, GROUP_PUPR, f"/catatan {code} butuh alat berat"))
    assert "sudah dikirim" in texts(say(desk, GROUP_PUPR, f"/balas {code} Besok pagi kami ke lokasi"))
    assert "Selesai" in texts(say(desk, GROUP_PUPR, f"adm:selesai:{code}", kind="postback"))
    view = service.get(code)
    assert view.status == "selesai"
    assert [e.actor for e in view.events[-4:]] == ["admin:telegram:501 (Budi Petugas) @dpupr"] * 4
    citizen = [r.payload["text"] for r in outbox(service) if r.chat_id == "42"]
    assert any("Catatan petugas: tim sudah berangkat" in t for t in citizen)
    assert any(t.startswith("Petugas Dinas Pekerjaan Umum dan Penataan Ruang: Besok pagi") for t in citizen)
    assert not any("alat berat" in t for t in citizen)  # the internal note never reaches the citizen
    detail = texts(say(desk, GROUP_PUPR, f"/tiket {code}"))
    assert "alat berat" in detail and "Riwayat" in detail


def test_disposition_posts_to_the_new_opd_and_does_not_brush_off(
    service: TicketService, desk: AdminDesk, registry: AdminRegistry
) -> None:
    register(desk, registry, GROUP_PUPR, "dpupr")
    register(desk, registry, GROUP_DINSOS, "dinsos")
    code = ticket(service)
    picked = say(desk, GROUP_PUPR, f"adm:dispo:{code}", kind="postback")
    assert any(b["payload"] == f"adm:dispo:{code}:dinsos" for b in picked[0]["buttons"])
    assert "/disposisi" in texts(say(desk, GROUP_PUPR, f"adm:dispo:{code}:dinsos", kind="postback"))
    assert "Format" in texts(say(desk, GROUP_PUPR, f"/disposisi {code} dinsos"))  # reason required
    assert "didisposisikan ke Dinas Sosial" in texts(
        say(desk, GROUP_PUPR, f"/disposisi {code} dinsos bukan wewenang kami")
    )
    assert service.get(code).opd_id == "dinsos"
    rows = outbox(service)
    assert any(r.chat_id == GROUP_DINSOS and code in r.payload["text"] for r in rows)
    citizen = [r.payload["text"] for r in rows if r.chat_id == "42"][-1]
    assert "kami teruskan ke Dinas Sosial" in citizen and "Batas waktu" in citizen
    # Now it is not PUPR's any more.
    assert "bukan wewenang" in texts(say(desk, GROUP_PUPR, f"/status {code} diproses"))


def test_authorization(service: TicketService, desk: AdminDesk, registry: AdminRegistry) -> None:
    register(desk, registry, GROUP_DINSOS, "dinsos")
    register(desk, registry, GROUP_KOOR, "diskominfo", "koordinator")
    code = ticket(service)
    before = len(outbox(service))
    assert "bukan wewenang Dinas Sosial" in texts(say(desk, GROUP_DINSOS, f"/status {code} diproses"))
    assert "khusus untuk petugas" in texts(say(desk, "42", f"/status {code} selesai", chat_type="private"))
    assert "belum terdaftar" in texts(say(desk, "-100777", f"/tolak {code} iseng"))
    assert say(desk, "-100777", "obrolan biasa") == []
    assert say(desk, "42", "jalan rusak di depan rumah", chat_type="private") is None  # a citizen: Rasa's
    assert service.get(code).status == "didisposisikan" and len(outbox(service)) == before
    assert "Sedang diproses" in texts(say(desk, GROUP_KOOR, f"/status {code} diproses"))  # koordinator: all
    assert registry.revoke(f"telegram:{GROUP_DINSOS}") == 1
    assert "belum terdaftar" in texts(say(desk, GROUP_DINSOS, "/antrian"))


def test_queue_oldest_first_per_opd(service: TicketService, desk: AdminDesk, registry: AdminRegistry) -> None:
    register(desk, registry, GROUP_PUPR, "dpupr")
    register(desk, registry, GROUP_KOOR, "diskominfo", "koordinator")
    first, second = ticket(service), ticket(service)
    other = ticket(service, "bansos")
    queue = texts(say(desk, GROUP_PUPR, "/antrian"))
    assert queue.index(first) < queue.index(second) and other not in queue
    assert other in texts(say(desk, GROUP_KOOR, "/antrian"))
