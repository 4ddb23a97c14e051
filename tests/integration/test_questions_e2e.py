"""Questions are not complaints (issue 8): FAQ answers, or an information request to the OPD.

Typed text through the real Rasa server and action server (the session `stack`).
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.integration.stack import Stack

CODE = re.compile(r"ADU-[2-9A-HJKMNP-TV-Z]{7}")


def _texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


@pytest.mark.parametrize(
    ("question", "answer_mentions"),
    [
        ("gimana cara ngurus akta kelahiran?", "surat keterangan lahir"),
        ("syarat bikin kk baru apa aja ya?", "KK lama"),
        ("dukcapil buka jam berapa?", "08.00"),
        ("kapan bansos bpnt cair bulan ini?", "cekbansos.kemensos.go.id"),
    ],
)
def test_faq_questions_are_answered_not_turned_into_complaints(
    stack: Stack, question: str, answer_mentions: str
) -> None:
    sender = f"web:faq-{uuid.uuid4().hex[:8]}"
    reply = _texts(stack.say(sender, question))
    assert answer_mentions in reply
    assert "lokasi" not in reply.lower()
    follow = _texts(stack.say(sender, "lho sy cuma mau nanya aja"))
    assert "lokasi" not in follow.lower()  # never saved as a location: no form was started


def test_unanswered_question_is_forwarded_as_an_information_request(stack: Stack) -> None:
    sender_user = f"faq-{uuid.uuid4().hex[:8]}"
    sender = f"web:{sender_user}"
    offer = stack.say(sender, "kapan jalan di perumahan griya asri mau diaspal?")
    text = _texts(offer)
    assert "permintaan informasi" in text and "Pekerjaan Umum" in text
    assert [b["title"] for b in offer[-1].get("buttons", [])] == ["✅ Ya, teruskan", "Tidak usah"]
    done = _texts(stack.say(sender, "iya boleh"))
    code = CODE.search(done).group(0)
    ticket = stack.tickets.get(code)
    assert ticket.kind == "informasi" and ticket.opd_id == "dpupr"
    assert ticket.description == "kapan jalan di perumahan griya asri mau diaspal?"


def test_declined_question_files_nothing(stack: Stack) -> None:
    user = f"faq-{uuid.uuid4().hex[:8]}"
    stack.say(f"web:{user}", "apakah tahun ini ada program bedah rumah untuk warga rw 7?")
    reply = _texts(stack.say(f"web:{user}", "tidak usah"))
    assert "tidak kami teruskan" in reply
    assert stack.tickets.for_citizen("web", user) == []
