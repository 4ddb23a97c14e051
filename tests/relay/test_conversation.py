"""The citizen <-> petugas conversation: replies map by message id, the bot stays quiet while it is open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.gateway.outbox import Outbox
from bot.relay import conversation
from bot.relay.desk import AdminDesk, AdminMessage
from bot.relay.registry import AdminRegistry
from bot.store import models as m
from bot.tickets import NewTicket, TicketService

GROUP = "-100111"
KOOR = "-100999"


@pytest.fixture
def registry(service: TicketService) -> AdminRegistry:
    return AdminRegistry(service.sessions, service.taxonomy)


@pytest.fixture
def desk(service: TicketService, registry: AdminRegistry) -> AdminDesk:
    return AdminDesk(service.sessions, service, registry)


def deliver_all(service: TicketService) -> dict[int, str]:
    """Play the outbox worker: every due row sent, each given a message id like a channel would."""
    outbox = Outbox(service.sessions)
    sent: dict[int, str] = {}
    while batches := outbox.claim_batches():
        for batch in batches:
            refs = {msg.id: [f"{msg.chat_id}/{msg.id}"] for msg in batch}
            outbox.mark_sent([msg.id for msg in batch], batch[0].lease, "send", refs)
            sent.update({msg.id: refs[msg.id][0] for msg in batch})
    return sent


def rows(service: TicketService, chat_id: str) -> list[m.OutboxMessage]:
    with service.sessions() as session:
        return list(
            session.scalars(
                select(m.OutboxMessage).where(m.OutboxMessage.chat_id == chat_id).order_by(m.OutboxMessage.id)
            )
        )


def citizen(desk: AdminDesk, text: str, kind: str = "text", message_id: str | None = None):
    return desk.handle(AdminMessage("telegram", "42", "42", "private", text, kind=kind, message_id=message_id))


def admin(desk: AdminDesk, text: str, reply_to: str | None = None, kind: str = "text", chat: str = GROUP):
    return desk.handle(
        AdminMessage("telegram", chat, "501", "supergroup", text, kind=kind, user_name="Budi", reply_to=reply_to)
    )


def setup(service: TicketService, desk: AdminDesk, registry: AdminRegistry, *chats: tuple[str, str, str]) -> str:
    for chat, opd, role in chats:
        code, _ = registry.invite(opd, role)
        admin(desk, f"/daftar {code}", chat=chat)
    new = NewTicket("telegram", "42", "42", "Lampu jalan mati sejak seminggu", "infrastruktur", citizen_name="Siti")
    return service.create_ticket(new).code


def test_admin_reply_opens_the_conversation_and_the_citizen_answer_is_threaded(
    service: TicketService, desk: AdminDesk, registry: AdminRegistry
) -> None:
    code = setup(service, desk, registry, (GROUP, "dpupr", "admin"))
    deliver_all(service)
    post = next(r for r in rows(service, GROUP) if r.ticket_id and code in r.payload["text"])
    post_ref = f"{GROUP}/{post.id}"
    assert citizen(desk, "halo, ada kabar?") is None  # no conversation yet: Rasa answers

    assert "sudah dikirim" in admin(desk, "Sore ini tim kami cek ya Bu", reply_to=post_ref)[0]["text"]
    assert admin(desk, "ini obrolan antar admin") == []
    first, *_ = [r.payload["text"] for r in rows(service, "42") if r.payload["text"].startswith("Petugas")]
    assert first.startswith("Petugas Dinas Pekerjaan Umum dan Penataan Ruang: Sore ini tim kami cek ya Bu")
    assert "/selesai" in first  # told once how to go back
    admin(desk, f"/balas {code} Sudah kami jadwalkan", reply_to=None)
    second = [r.payload["text"] for r in rows(service, "42")][-1]
    assert second == "Petugas Dinas Pekerjaan Umum dan Penataan Ruang: Sudah kami jadwalkan"  # not told twice
    deliver_all(service)

    assert citizen(desk, "Terima kasih, saya tunggu", message_id="777") == []  # the bot stays quiet
    with service.sessions() as session:  # both ends recorded: the citizen's own message id too
        ref = session.scalars(
            select(m.MessageRef).where(m.MessageRef.chat_id == "42", m.MessageRef.message_id == "777")
        ).one()
        assert ref.ticket_id is not None and ref.conversation_id is not None
    forwarded = rows(service, GROUP)[-1]
    assert "Terima kasih, saya tunggu" in forwarded.payload["text"] and code in forwarded.payload["text"]
    assert forwarded.payload["_reply_to"]  # threaded under the ticket's latest post
    deliver_all(service)
    # The admin can answer the forwarded message itself.
    admin(desk, "Sama-sama Bu", reply_to=f"{GROUP}/{forwarded.id}")
    assert rows(service, "42")[-1].payload["text"].endswith("Sama-sama Bu")

    assert "kembali terhubung dengan asisten" in citizen(desk, "/selesai")[0]["text"]
    assert "menutup percakapan" in rows(service, GROUP)[-1].payload["text"]
    assert citizen(desk, "satu lagi") is None  # back to Rasa


def test_ask_human_reaches_the_opd_or_honestly_nobody(
    service: TicketService, desk: AdminDesk, registry: AdminRegistry
) -> None:
    with service.sessions() as session, session.begin():
        answer, asked = conversation.request_person(session, service.taxonomy, "telegram", "42", "42", "mau ke orang")
    assert asked == "none" and "belum ada petugas" in answer
    assert citizen(desk, "halo") is None  # nobody would read it: no conversation was opened

    code = setup(service, desk, registry, (KOOR, "diskominfo", "koordinator"))
    with service.sessions() as session, session.begin():
        answer, asked = conversation.request_person(session, service.taxonomy, "telegram", "42", "42", "tolong")
    assert asked == "coordinator" and "koordinator" in answer  # no PUPR chat: the koordinator is asked, and we say so
    assert code in rows(service, KOOR)[-1].payload["text"]
    assert citizen(desk, "pesan untuk petugas") == []

    # The koordinator closes it with the button.
    assert "ditutup" in admin(desk, f"adm:tutup:{code}", kind="postback", chat=KOOR)[0]["text"]
    assert "Petugas telah menutup" in rows(service, "42")[-1].payload["text"]
    assert citizen(desk, "lagi") is None


def test_conversation_closes_after_24_hours_idle(
    service: TicketService, desk: AdminDesk, registry: AdminRegistry
) -> None:
    setup(service, desk, registry, (GROUP, "dpupr", "admin"))
    with service.sessions() as session, session.begin():
        conversation.request_person(session, service.taxonomy, "telegram", "42", "42", "petugas dong")
    assert citizen(desk, "masih di sana?") == []
    with service.sessions() as session, session.begin():
        session.execute(
            update(m.RelayConversation).values(last_message_at=datetime.now(UTC) - timedelta(hours=24, seconds=1))
        )
    assert citizen(desk, "halo bot") is None
    with service.sessions() as session:
        assert session.scalar(select(m.RelayConversation.closed_by)) == "sistem:idle-24h"


def test_button_then_reply_with_the_reason(service: TicketService, desk: AdminDesk, registry: AdminRegistry) -> None:
    """Tolak / Disposisi buttons ask for a reason; the admin's reply to that question completes the action."""
    from bot.gateway.outbox import add_messages

    code = setup(service, desk, registry, (GROUP, "dpupr", "admin"), ("-100222", "dinsos", "admin"))

    def press(data: str) -> str:
        answers = admin(desk, data, kind="postback")
        with service.sessions() as session, session.begin():
            add_messages(session, "telegram", GROUP, answers)  # what the pipeline does with the answers
        deliver_all(service)
        prompt = rows(service, GROUP)[-1]
        return f"{GROUP}/{prompt.id}"

    dispo = press(f"adm:dispo:{code}:dinsos")
    assert "didisposisikan ke Dinas Sosial" in admin(desk, "bukan wewenang kami", reply_to=dispo)[0]["text"]
    assert service.get(code).opd_id == "dinsos"
    assert service.get(code).events[-1].note == "bukan wewenang kami"

    other = setup(service, desk, registry)
    reject = press(f"adm:tolak:{other}")
    assert "Ditolak" in admin(desk, "laporan ganda dengan ADU lain", reply_to=reject)[0]["text"]
    assert service.get(other).status == "ditolak"
    assert "belum dapat kami tindak lanjuti" in rows(service, "42")[-1].payload["text"]
