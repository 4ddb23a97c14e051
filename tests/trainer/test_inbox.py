"""Inbox rules on SQLite and PostgreSQL: de-duplication, order, hidden known texts, labels, removal."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.domain.categories import load_taxonomy
from bot.store.db import session_factory
from bot.tickets import NewTicket, TicketService
from bot.trainer.data import NluFiles, labelable_intents, read_examples
from bot.trainer.inbox import InboxError, build_inbox, discard, label, remove_personal_data
from bot.trainer.recorder import record_decision


class FakeReplies(list):
    """Stands in for RasaClient.Replies: the bot's messages plus the NLU decision."""

    def __init__(self, intent: str, confidence: float, text: str = "") -> None:
        super().__init__([{"text": "ok"}])
        others = [("complaint_lingkungan", 0.1), ("greet", 0.05)]
        self.nlu = {
            "text": text,
            "intent": intent,
            "confidence": confidence,
            "ranking": [{"name": intent, "confidence": confidence}] + [{"name": n, "confidence": c} for n, c in others],
            "model_id": "model-1",
            "actions": ["complaint_form"],
        }


@pytest.fixture
def sessions(service: TicketService, db_url: str):
    return session_factory(db_url)


@pytest.fixture
def files(tmp_path: Path) -> NluFiles:
    return NluFiles(curated_root=tmp_path)


def say(sessions, sender: str, text: str, intent: str, confidence: float) -> int | None:
    return record_decision(sessions, "web", sender, text, FakeReplies(intent, confidence, text))


def inbox(sessions, files):
    with sessions() as session:
        return build_inbox(session, load_taxonomy(), files)


def test_dedup_order_and_known_texts_hidden(sessions, files) -> None:
    say(sessions, "web:a", "Air PDAM keruh bgt!!", "complaint_air_bersih", 0.55)
    say(sessions, "web:b", "air pdam keruh bgt", "complaint_air_bersih", 0.52)
    say(sessions, "web:c", "ada ular di selokan", "complaint_bencana", 0.31)
    say(sessions, "web:d", "sangat yakin sekali", "complaint_bencana", 0.99)  # confident, no evidence: not shown
    say(sessions, "web:e", "Halo min", "greet", 0.4)  # already in the training data: not shown
    say(sessions, "web:f", "lampu jalan gang 3 mati", "complaint_lingkungan", 0.7)
    say(sessions, "web:f", '/choose_category{"category":"penerangan_jalan"}', "choose_category", 1.0)
    items = inbox(sessions, files)
    texts = [i.text for i in items]
    assert texts[0] == "lampu jalan gang 3 mati"  # human correction first
    assert texts[1] == "ada ular di selokan"  # then the lowest confidence
    dup = items[2]
    assert dup.count == 2 and dup.confidence == 0.52
    assert "Halo min" not in texts and "sangat yakin sekali" not in texts
    assert items[0].suggestion == "complaint_penerangan_jalan"
    assert items[0].evidence[0].kind == "citizen_button"


def test_masked_before_storing_and_cancel_after_guess(sessions, files) -> None:
    say(sessions, "web:g", "NIK sy 3372051234560001 blm terdaftar bansos", "complaint_bansos", 0.6)
    say(sessions, "web:g", "batal aja", "cancel", 0.9)
    items = inbox(sessions, files)
    item = next(i for i in items if "blm terdaftar" in i.text)
    assert "123456" not in item.text and "3372********0001" in item.text
    assert [e.kind for e in item.evidence] == ["citizen_cancelled"]


def test_address_answers_are_not_recorded(sessions, files) -> None:
    replies = FakeReplies("give_location", 0.4)
    replies.nlu["requested_slot"] = "location"
    assert record_decision(sessions, "web", "web:m", "jl mawar 12 rt 3 rw 4 kel. jebres", replies) is None
    assert inbox(sessions, files) == []


def test_label_writes_rasa_yaml_and_every_fifth_is_held_out(sessions, files) -> None:
    ids = [say(sessions, f"web:h{n}", f"keluhan nomor {n} tentang got", "complaint_lingkungan", 0.4) for n in range(5)]
    intents = labelable_intents()
    with sessions() as session, session.begin():
        splits = [label(session, i, "complaint_infrastruktur", "rina", intents, files).split for i in ids]
    assert splits == ["train"] * 4 + ["heldout"]
    train = read_examples(files.curated_train / "complaint_infrastruktur.yml")
    held = read_examples(files.curated_heldout / "complaint_infrastruktur.yml")
    assert [t for _, t in train] == [f"keluhan nomor {n} tentang got" for n in range(4)]
    assert held == [("complaint_infrastruktur", "keluhan nomor 4 tentang got")]
    assert yaml.safe_load((files.curated_train / "complaint_infrastruktur.yml").read_text())["version"] == "3.1"
    assert inbox(sessions, files) == []  # labelled texts leave the inbox (and count as known from now on)
    with sessions() as session, pytest.raises(InboxError, match="tidak dikenal"):
        label(session, ids[0], "complaint_tidak_ada", "rina", intents, files)


def test_discard_and_personal_data_removal(sessions, files) -> None:
    keep = say(sessions, "web:i", "info dong", "help", 0.3)
    pii = say(sessions, "web:j", "rumah bu siti jl mawar 3 no hp di atas", "complaint_bansos", 0.2)
    say(sessions, "web:k", "rumah bu siti jl mawar 3 no hp di atas", "complaint_bansos", 0.2)
    with sessions() as session, session.begin():
        discard(session, keep, "rina")
        assert remove_personal_data(session, pii, "rina") == 2
    assert inbox(sessions, files) == []
    say(sessions, "web:l", "rumah bu siti jl mawar 3 no hp di atas", "complaint_bansos", 0.2)
    assert inbox(sessions, files) == []  # remembered by hash only, it does not come back


def test_koordinator_sorting_a_lainnya_ticket_is_evidence(service: TicketService, sessions, files) -> None:
    text = "tolong pak ada yang aneh di kampung kami"
    say(sessions, "web:warga1", text, "complaint_ketertiban", 0.45)
    ticket = service.create_ticket(
        NewTicket(
            channel="web",
            user_id="warga1",
            chat_id="warga1",
            category_id=None,
            description=text,
            location_text="kampung sewu",
        )
    )
    service.change_status(ticket.code, "didisposisikan", actor="koordinator:Ani", opd_id="dlh", note="soal sampah")
    item = next(i for i in inbox(sessions, files) if i.text == text)
    assert [e.kind for e in item.evidence] == ["koordinator_sorted"]
    assert item.suggestion == "complaint_lingkungan" and ticket.code in item.evidence[0].note
