"""Issue 8 conversations typed as written, through the real Rasa server and action server.

Emergencies, locations already given, typed privacy answers, a salam, and a second complaint at
the summary; each turn is the citizen's text (or the payload of a button the bot offered).
"""

from __future__ import annotations

import re
import uuid

from tests.integration.stack import Stack

CODE = re.compile(r"ADU-[2-9A-HJKMNP-TV-Z]{7}")


def _say(stack: Stack, sender: str, text: str) -> str:
    return "\n".join(r.get("text") or "" for r in stack.say(sender, text))


def _user() -> tuple[str, str]:
    user = f"c8-{uuid.uuid4().hex[:8]}"
    return user, f"web:{user}"


def test_fire_with_location_is_filed_at_once_as_urgent(stack: Stack) -> None:
    user, sender = _user()
    reply = _say(stack, sender, "ada kebakaran rumah di rt 3 rw 2 kel sewu!! apinya gede")
    assert "112" in reply and "113" in reply and "DARURAT" in reply
    assert "foto" not in reply.lower()
    (ticket,) = stack.tickets.for_citizen("web", user)
    assert ticket.urgent and ticket.category_id == "bencana" and "Sewu" in (ticket.location_text or "")


def test_flood_with_people_trapped_asks_only_the_location(stack: Stack) -> None:
    user, sender = _user()
    first = _say(stack, sender, "TOLONG MIN banjir udh masuk rumah selutut … ada mbah sy lansia blm bisa dievakuasi!!")
    assert "112" in first and "lokasi" in first.lower()
    done = _say(stack, sender, "gang mawar 3 rt 4 kel sewu, belakang masjid")
    assert CODE.search(done)
    (ticket,) = stack.tickets.for_citizen("web", user)
    assert ticket.urgent and ticket.opd_id == "bpbd" and "gang mawar 3" in (ticket.location_text or "")


def test_location_in_the_opener_is_confirmed_not_asked(stack: Stack) -> None:
    user, sender = _user()
    ask = _say(stack, sender, "lampu pju di jln slamet riyadi dpn toko emas mati udah seminggu")
    assert "jln slamet riyadi, dpn toko emas" in ask and "betul" in ask
    assert "foto" in _say(stack, sender, "iya betul").lower()
    assert "identitas" in _say(stack, sender, "/skip").lower()
    explained = _say(stack, sender, "apa bedanya anonim sama rahasia?")
    assert "Anonim" in explained and "Rahasia" in explained
    summary = _say(stack, sender, "3")
    assert "ringkasan" in summary.lower() and "Rahasia" in summary and "slamet riyadi" in summary
    done = _say(stack, sender, "udah bener kok, gak ada yg salah")
    assert CODE.search(done)
    (ticket,) = stack.tickets.for_citizen("web", user)
    assert ticket.confidential and ticket.category_id == "penerangan_jalan"


def test_salam_is_answered_with_waalaikumsalam(stack: Stack) -> None:
    _, sender = _user()
    assert "Wa'alaikumsalam" in _say(stack, sender, "assalamualaikum min")
