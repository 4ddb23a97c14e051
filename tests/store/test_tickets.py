"""The ticket service on SQLite and PostgreSQL: routing, audit trail, refusals that write nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.domain.lifecycle import Status, TransitionError
from bot.store import models as m
from bot.tickets import NewTicket, TicketNotFound, TicketService

CREATED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB


def new(**kw) -> NewTicket:
    base = dict(
        channel="telegram",
        user_id="111",
        chat_id="111",
        description="Jalan depan SD 3 berlubang besar, sudah 2 orang jatuh",
        category_id="infrastruktur",
        location_text="Jl. Slamet Riyadi, RT 02/RW 05",
    )
    base.update(kw)
    return NewTicket(**base)


def counts(svc: TicketService) -> tuple[int, int, int]:
    with svc.sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(m.Ticket)),
            s.scalar(select(func.count()).select_from(m.TicketEvent)),
            s.scalar(select(func.count()).select_from(m.OutboxMessage)),
        )


def test_create_routes_to_category_opd_with_deadline(service: TicketService) -> None:
    t = service.create_ticket(new(), now=CREATED)
    assert t.status == Status.DIDISPOSISIKAN
    assert t.opd_id == "dpupr"
    assert t.category_label == "Jalan dan Infrastruktur"
    # infrastruktur SLA is 10 working days: Mon 23 Nov + 10 = Mon 7 Dec 2026.
    assert t.due_text == "Senin, 7 Desember 2026"
    assert [(e.from_status, e.to_status) for e in t.events] == [(None, "baru"), ("baru", "didisposisikan")]


def test_unclear_category_goes_to_coordinator(service: TicketService) -> None:
    t = service.create_ticket(new(category_id=None), now=CREATED)
    assert (t.status, t.opd_id, t.category_id) == ("baru", "diskominfo", "lainnya")
    with pytest.raises(TransitionError, match="wajib diberi OPD"):
        service.change_status(t.code, "didisposisikan", actor="admin:kominfo")
    routed = service.change_status(t.code, "didisposisikan", actor="admin:kominfo", opd_id="dlh")
    assert routed.opd_id == "dlh"


def test_full_lifecycle_writes_events_and_notifies(service: TicketService) -> None:
    t = service.create_ticket(new(), now=CREATED)
    steps = [
        ("didisposisikan", "admin:pupr", "Bukan wewenang kami, saluran milik BBWS", "dlh"),
        ("diproses", "admin:dlh", None, None),
        ("selesai", "admin:dlh", "Sudah diperbaiki", None),
        ("diproses", "warga:telegram:111", "Masih berlubang", None),
        ("selesai", "admin:dlh", "Ditambal ulang", None),
    ]
    for target, actor, note, opd in steps:
        t = service.change_status(t.code, target, actor=actor, note=note, opd_id=opd, now=CREATED)
    t = service.rate(t.code, "telegram", "111", 5)
    assert t.status == "selesai" and t.rating == 5 and t.closed_at is None  # a rating does not close early
    assert len(t.events) == 2 + len(steps) + 1
    last = t.events[-1]
    assert (last.from_status, last.to_status, last.actor) == ("selesai", "selesai", "warga:telegram:111")
    _, _, outbox = counts(service)
    assert outbox == len(steps) - 1  # the citizen hears about every admin's change (their own is answered in chat)


def test_illegal_transition_writes_nothing(service: TicketService) -> None:
    t = service.create_ticket(new(), now=CREATED)
    before = counts(service)
    with pytest.raises(TransitionError, match="tidak diizinkan"):
        service.change_status(t.code, "ditutup", actor="admin:pupr")
    with pytest.raises(TransitionError, match="wajib disertai alasan"):
        service.change_status(t.code, "ditolak", actor="admin:pupr")
    with pytest.raises(TransitionError, match="OPD tujuan"):
        service.change_status(t.code, "didisposisikan", actor="admin:pupr", note="bukan wewenang")
    assert counts(service) == before
    assert service.get(t.code).status == "didisposisikan"


def test_rating_refused_before_selesai_changes_nothing(service: TicketService) -> None:
    t = service.create_ticket(new(), now=CREATED)
    with pytest.raises(TransitionError):
        service.rate(t.code, "telegram", "111", 4)
    assert service.get(t.code).rating is None


def test_reopen_window_closes_after_ten_working_days(service: TicketService) -> None:
    t = service.create_ticket(new(), now=CREATED)
    service.change_status(t.code, "diproses", actor="a", now=CREATED)
    service.change_status(t.code, "selesai", actor="a", now=CREATED)
    late = CREATED + timedelta(days=16)  # 12 working days later
    with pytest.raises(TransitionError, match="10 hari kerja"):
        service.change_status(t.code, "diproses", actor="warga", now=late)
    assert service.change_status(t.code, "ditutup", actor="sistem:sla", now=late).status == "ditutup"


def test_citizen_sees_only_own_tickets(service: TicketService) -> None:
    mine = service.create_ticket(new(user_id="111"))
    theirs = service.create_ticket(new(user_id="222", chat_id="222"))
    assert [t.code for t in service.for_citizen("telegram", "111")] == [mine.code]
    assert service.for_citizen("telegram", "111", code=theirs.code) == []
    assert service.for_citizen("line", "111") == []
    assert service.for_citizen("telegram", "111", code=mine.code.lower().replace("-", " "))[0].code == mine.code


def test_idempotency_key_prevents_duplicates(service: TicketService) -> None:
    a = service.create_ticket(new(idempotency_key="telegram:111:msg-1"))
    b = service.create_ticket(new(idempotency_key="telegram:111:msg-1"))
    assert a.code == b.code
    assert counts(service)[0] == 1


def test_unknown_code(service: TicketService) -> None:
    with pytest.raises(TicketNotFound):
        service.get("ADU-2345678")
    with pytest.raises(TicketNotFound):
        service.change_status("bukan kode", "diproses", actor="a")


def test_admin_view_masks_personal_data(service: TicketService) -> None:
    t = service.create_ticket(
        new(description="NIK saya 3372051234560001, hp 081234567890, bantuan tidak cair", anonymous=True)
    )
    d = service.get(t.code).admin_dict()
    assert "3372051234560001" not in d["description"] and "081234567890" not in d["description"]
    assert "************0001" in d["description"]  # stored with the last 4 digits only
    assert d["citizen"] == "(anonim)"


def test_photos_are_kept_as_file_references(service: TicketService) -> None:
    t = service.create_ticket(new(photos=("telegram:AgACAgUAAx0", "telegram:AgACAgUAAx1")))
    assert service.get(t.code).photos == ("telegram:AgACAgUAAx0", "telegram:AgACAgUAAx1")


def test_handoff_reaches_coordinator_groups(service: TicketService) -> None:
    with service.sessions() as s, s.begin():
        s.add(m.AdminGroup(opd_id="diskominfo", channel="telegram", chat_id="-1001"))
    assert service.request_handoff("line", "U1", "mau bicara dengan petugas") == 1
    with service.sessions() as s:
        row = s.scalars(select(m.OutboxMessage)).one()
    assert row.chat_id == "-1001" and "line:U1" in row.payload["text"]
