"""One complaint end to end through the real Rasa server and real action server."""

from __future__ import annotations

import re
import uuid

from tests.integration.stack import Stack

CODE = re.compile(r"ADU-[2-9A-HJKMNP-TV-Z]{7}")


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_citizen_files_a_complaint(stack: Stack) -> None:
    sender = f"cli:{uuid.uuid4().hex[:8]}"
    first = texts(stack.say(sender, "min jalan depan SD 3 berlubang bgt, udh 2 org jatuh"))
    assert "lokasi" in first.lower()  # the complaint itself was enough: only the place is asked
    assert "foto" in texts(stack.say(sender, "di jl. kenanga RT 02/RW 05 kel. jebres, depan SD N 3")).lower()
    assert "identitas" in texts(stack.say(sender, "/skip")).lower()
    summary = texts(stack.say(sender, '/choose_privacy{"privacy":"biasa"}'))
    assert "Jalan dan Infrastruktur" in summary and "Dinas Pekerjaan Umum" in summary
    done = texts(stack.say(sender, "/affirm"))
    code = CODE.search(done)
    assert code, done
    assert "Jalan dan Infrastruktur" in done and "Target penyelesaian" in done

    ticket = stack.tickets.get(code.group(0))
    assert ticket.opd_id == "dpupr" and ticket.status == "didisposisikan"
    assert ticket.citizen_sender == sender
    assert "kenanga" in (ticket.location_text or "")
    assert ticket.due_text in done

    status = texts(stack.say(sender, f"gimana laporan saya {code.group(0).lower()}"))
    assert code.group(0) in status and "Diteruskan ke OPD" in status


def test_other_citizen_cannot_see_the_ticket(stack: Stack) -> None:
    owner = f"cli:{uuid.uuid4().hex[:8]}"
    stack.say(owner, "lampu jalan di gang mawar mati sudah seminggu")
    stack.say(owner, "gang mawar 3 kel. kerten")
    stack.say(owner, "/skip")
    stack.say(owner, '/choose_privacy{"privacy":"anonim"}')
    code = CODE.search(texts(stack.say(owner, "/affirm"))).group(0)
    other = f"cli:{uuid.uuid4().hex[:8]}"
    reply = texts(stack.say(other, f"cek status {code}"))
    # anyone holding the code sees the public part only (issue 13): status and OPD, not what or who
    assert code in reply and "Diteruskan" in reply and "Rincian laporan hanya" in reply, reply
    assert "mawar" not in reply.lower() and owner.partition(":")[2] not in reply
