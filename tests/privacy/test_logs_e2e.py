"""End to end through the real stack: a citizen's NIK and phone number reach no log and no store.

The conversation goes through the gateway's web chat (the way citizens come in) and, for the
forced traceback, straight to Rasa's REST channel with the raw numbers (as an older client or
a script would), while a trigger makes the ticket insert fail inside the action server.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot.masking import install_log_masking
from tests.integration.stack import GatewayThread, Stack

pytestmark = pytest.mark.integration

NIK = "3372051234560001"
PHONE = "081234567890"
PHONE_FORMS = (PHONE, "0812-3456-7890", "6281234567890")
CODE = re.compile(r"ADU-[2-9A-HJKMNP-TV-Z]{7}")


class WebCitizen:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = uuid.uuid4().hex
        self.after = 0

    def say(self, text: str, timeout: float = 90) -> str:
        body = {"session": self.session, "id": uuid.uuid4().hex, "text": text}
        assert httpx.post(f"{self.url}/api/web/messages", json=body).status_code == 202
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = httpx.get(f"{self.url}/api/web/messages", params={"session": self.session, "after": self.after})
            messages = rows.json()["messages"]
            if messages:
                self.after = messages[-1]["id"]
                time.sleep(0.5)  # the rest of this answer's rows
                more = httpx.get(
                    f"{self.url}/api/web/messages", params={"session": self.session, "after": self.after}
                ).json()["messages"]
                if more:
                    self.after = more[-1]["id"]
                return "\n".join(m.get("text", "") for m in messages + more)
            time.sleep(0.3)
        raise TimeoutError(f"no answer to {text!r}")


@pytest.fixture
def gateway_log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "gateway.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    install_log_masking()
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


def _assert_clean(blob: str, where: str) -> None:
    assert NIK not in blob, f"NIK in {where}"
    for form in PHONE_FORMS:
        assert form not in blob, f"phone number in {where}"


def test_nik_and_phone_reach_no_log_and_no_store(stack: Stack, gateway_log: Path) -> None:
    citizen_text = f"min jalan depan SD 3 berlubang bgt, udh 2 org jatuh. sy warga NIK {NIK} hp {PHONE}"
    with GatewayThread(stack.settings()) as gw:
        web = WebCitizen(gw.url)
        assert "lokasi" in web.say(citizen_text).lower()
        web.say("di jl. kenanga RT 02/RW 05 kel. jebres, depan SD N 3")
        web.say("/skip")
        web.say('/choose_privacy{"privacy":"biasa"}')
        done = web.say("/affirm")
        code = CODE.search(done)
        assert code, done
        _assert_clean(done, "the web chat's answer")

    # A forced traceback inside the action server, with the raw numbers sent straight to Rasa.
    db_path = stack.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "CREATE TRIGGER forced_failure BEFORE INSERT ON citizens BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
        )
    sender = f"cli:{PHONE}"
    try:
        stack.say(sender, f"lampu jalan di gang mawar mati sudah seminggu. NIK saya {NIK}, hp {PHONE}")
        stack.say(sender, "gang mawar 3 kel. kerten")
        stack.say(sender, "/skip")
        stack.say(sender, '/choose_privacy{"privacy":"biasa"}')
        failed = " ".join(r.get("text", "") for r in stack.say(sender, "/affirm"))
        assert not CODE.search(failed)
    finally:
        with sqlite3.connect(db_path) as conn:
            conn.execute("DROP TRIGGER forced_failure")

    actions_log = (stack.workdir / "actions.log").read_text(errors="replace")
    assert "Traceback" in actions_log and "forced failure" in actions_log  # the traceback is there, masked
    for name in ("actions.log", "rasa.log"):
        _assert_clean((stack.workdir / name).read_text(errors="replace"), name)
    gateway_text = gateway_log.read_text()
    assert "processed inbound" in gateway_text
    _assert_clean(gateway_text, "gateway log")

    # ... and at rest: ticket store (tickets, inbox, outbox) and the web chat's Rasa tracker.
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute(
            "SELECT description || ' ' || coalesce(location_text, '') FROM tickets WHERE code = ?", (code.group(0),)
        ).fetchone()[0]
        inbound = " ".join(t or "" for (t,) in conn.execute("SELECT text FROM inbound_messages"))
        outbox = " ".join(p for (p,) in conn.execute("SELECT CAST(payload AS TEXT) FROM outbox"))
    assert "************0001" in stored
    for blob, where in ((stored, "tickets"), (inbound, "inbound_messages"), (outbox, "outbox")):
        _assert_clean(blob, where)
    with sqlite3.connect(make_url(stack.settings().tracker_store_url).database) as conn:
        web_events = " ".join(
            d for (d,) in conn.execute("SELECT data FROM events WHERE sender_id = ?", (f"web:{web.session}",))
        )
    assert web_events
    _assert_clean(web_events, "Rasa tracker of the web chat")
