"""Rating, reopening and "ada kabar?" typed by a citizen, through the real Rasa and action servers."""

from __future__ import annotations

import uuid

import pytest

from bot.tickets import NewTicket
from tests.integration.stack import Stack

pytestmark = pytest.mark.integration


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def _finished_ticket(stack: Stack, sender: str) -> str:
    channel, user_id = sender.split(":", 1)
    t = stack.tickets.create_ticket(
        NewTicket(channel, user_id, user_id, "jalan di depan pasar legi berlubang besar", "infrastruktur")
    )
    stack.tickets.change_status(t.code, "diproses", actor="admin:dpupr", note="Tim menuju lokasi")
    stack.tickets.change_status(t.code, "selesai", actor="admin:dpupr", note="Sudah ditambal")
    return t.code


def test_ada_kabar_without_a_code(stack: Stack) -> None:
    sender = f"cli:{uuid.uuid4().hex[:8]}"
    channel, user_id = sender.split(":", 1)
    t = stack.tickets.create_ticket(NewTicket(channel, user_id, user_id, "sampah TPS menumpuk", "lingkungan"))
    stack.tickets.change_status(t.code, "diproses", actor="admin:dlh", note="Truk dijadwalkan besok pagi")
    reply = texts(stack.say(sender, "ada kabar min?"))
    assert t.code in reply and "Sedang diproses" in reply and "Truk dijadwalkan besok pagi" in reply
    assert t.due_text in reply


def test_low_rating_then_reopen_with_a_reason(stack: Stack) -> None:
    sender = f"cli:{uuid.uuid4().hex[:8]}"
    code = _finished_ticket(stack, sender)
    rated = texts(stack.say(sender, "bintang 1"))
    assert "1/5" in rated and "Belum selesai" in rated
    assert stack.tickets.get(code).status == "selesai"  # a rating does not close the ticket
    asked = texts(stack.say(sender, f'/reopen_ticket{{"ticket_code":"{code}"}}'))
    assert "apa yang masih belum beres" in asked
    done = texts(stack.say(sender, "lubangnya masih ada, cuma ditimbun tanah"))
    assert code in done and "buka kembali" in done
    ticket = stack.tickets.get(code)
    assert ticket.status == "diproses" and "ditimbun tanah" in (ticket.events[-1].note or "")


def test_button_rating_and_nothing_to_reopen(stack: Stack) -> None:
    sender = f"cli:{uuid.uuid4().hex[:8]}"
    code = _finished_ticket(stack, sender)
    thanks = texts(stack.say(sender, f'/give_rating{{"ticket_code":"{code}","rating":"5"}}'))
    assert "5/5" in thanks and stack.tickets.get(code).rating == 5
    other = f"cli:{uuid.uuid4().hex[:8]}"
    assert "belum ada laporan" in texts(stack.say(other, "masalahnya belum selesai")).lower()
