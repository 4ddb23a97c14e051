"""Promotion and rollback swap the model in the running Rasa server while citizens keep writing."""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.store import models as m
from bot.trainer.retrain import ModelPlace, promote, rollback
from tests.integration.stack import MODEL, GatewayThread, Stack
from tests.trainer.conftest import WebCitizen


def _answers_per_message(gw: GatewayThread, sender_id: str) -> list[int]:
    with gw.gateway.sessions() as session:
        inbound = session.scalars(select(m.InboundMessage).where(m.InboundMessage.sender_id == sender_id)).all()
        assert all(row.status == "done" for row in inbound)
        ids = [row.id for row in inbound]
        counts = Counter(session.scalars(select(m.OutboxMessage.inbound_id).where(m.OutboxMessage.inbound_id.in_(ids))))
        return [counts[i] for i in ids]


def test_swap_and_rollback_while_citizens_write(trainer_gateway: GatewayThread, stack: Stack, tmp_path: Path) -> None:
    place = ModelPlace(live=tmp_path / "live.tar.gz", home=tmp_path / "trainer", reports=tmp_path / "reports")
    shutil.copy(MODEL, place.live)
    candidate = tmp_path / "candidate.tar.gz"
    shutil.copy(MODEL, candidate)
    before = httpx.get(f"{stack.rasa_url}/status").json()["model_file"]

    baseline = WebCitizen(trainer_gateway.url)
    baseline.say("terima kasih min")
    expected = _answers_per_message(trainer_gateway, baseline.sender_id)[0]

    citizen = WebCitizen(trainer_gateway.url)
    errors: list[BaseException] = []

    def keep_writing() -> None:
        try:
            for _ in range(6):
                assert citizen.say("terima kasih min")
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    promote(candidate, place, stack.rasa_url)
    previous, model_id = rollback(place, stack.rasa_url)
    writer.join(300)
    assert not writer.is_alive() and not errors, errors

    assert _answers_per_message(trainer_gateway, citizen.sender_id) == [expected] * 6  # none dropped, none twice
    assert model_id and previous.parent == place.archive
    status = httpx.get(f"{stack.rasa_url}/status").json()
    assert status["model_file"] == place.live.name != before
    assert len(place.load()["history"]) == 2
