"""What the ticket store and the inbox keep of a citizen's personal data (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.gateway.inbox import Inbound, Inbox
from bot.store import models as m
from bot.tickets import ANONYMOUS_ACTOR, NewTicket, TicketService

NIK = "3372051234560001"
PHONE = "081234567890"


def new(**kw: object) -> NewTicket:
    base: dict = dict(
        channel="web",
        user_id="sess42",
        chat_id="sess42",
        description=f"KTP saya belum jadi, NIK {NIK}. HP {PHONE}",
        category_id="adminduk",
        location_text=f"Jl. Mawar 3, rumah pak RT hp {PHONE}",
    )
    base.update(kw)
    return NewTicket(**base)


def raw_ticket(service: TicketService, code: str) -> m.Ticket:
    with service.sessions() as session:
        return session.scalar(select(m.Ticket).where(m.Ticket.code == code))


def test_nik_and_phone_are_not_stored_in_ticket_text(service: TicketService) -> None:
    t = service.create_ticket(new())
    row = raw_ticket(service, t.code)
    for stored in (row.description, row.location_text):
        assert NIK not in stored and PHONE not in stored
    assert "************0001" in row.description
    assert row.contact_phone is None


def test_phone_kept_in_its_field_when_the_citizen_asks_to_be_called(service: TicketService) -> None:
    t = service.create_ticket(new(description=f"air mati 3 hari, tolong hubungi saya di {PHONE}", category_id=None))
    row = raw_ticket(service, t.code)
    assert PHONE not in row.description
    assert row.contact_phone == PHONE
    view = service.get(t.code)
    assert view.admin_dict(viewer_opd=view.opd_id)["contact_phone"] == PHONE
    assert view.admin_dict()["contact_phone"] != PHONE
    assert view.admin_dict(viewer_opd="dlh")["contact_phone"] != PHONE


def test_anonymous_reporter_hidden_in_history_and_json(service: TicketService) -> None:
    t = service.create_ticket(new(anonymous=True))
    service.change_status(t.code, "diproses", actor="admin:telegram:7", note=f"kami cek NIK {NIK}")
    d = service.get(t.code).admin_dict()
    dumped = json.dumps(d)
    assert "sess42" not in dumped and "warga:web" not in dumped
    assert d["events"][0]["actor"] == ANONYMOUS_ACTOR
    assert NIK not in dumped


def test_public_view_shows_no_identity_or_description(service: TicketService) -> None:
    t = service.create_ticket(new(confidential=True))
    service.change_status(t.code, "diproses", actor="admin:telegram:7", note="Sedang kami proses di loket 2")
    public = service.get(t.code).public_dict()
    dumped = json.dumps(public)
    assert "KTP saya" not in dumped and "sess42" not in dumped and "0001" not in dumped
    assert public["answers"] == ["Sedang kami proses di loket 2"]
    assert public["opd"] and public["due"]


def test_inbox_stores_masked_text(service: TicketService) -> None:
    inbox = Inbox(service.sessions)
    inbox.store(Inbound("web", "e1", "s1", "s1", "text", f"nik {NIK} hp {PHONE}"))
    inbox.store(Inbound("web", "e2", "s1", "s1", "text", f"telp saya ya {PHONE}"))
    inbox.store(Inbound("web", "e3", "s1", "s1", "photo", None, {"photo_ref": "media:x", "caption": f"nik {NIK}"}))
    with service.sessions() as session:
        rows = {r.external_id: r for r in session.scalars(select(m.InboundMessage))}
    assert NIK not in rows["e1"].text and PHONE not in rows["e1"].text
    assert PHONE in rows["e2"].text  # asked to be called: the conversation hands it to the ticket
    assert NIK not in json.dumps(rows["e3"].payload)
