"""`aduan trainer inbox/label/discard` and `aduan users add` for scripts and servers without a browser."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from bot.cli import main as cli
from bot.config import get_settings
from bot.store import models as m
from bot.store.db import session_factory
from bot.trainer.recorder import record_decision
from tests.trainer.test_inbox import FakeReplies


@pytest.fixture
def env(sqlite_service, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ADUAN_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("ADUAN_TRAINER_CURATED_ROOT", str(tmp_path))
    get_settings.cache_clear()
    yield session_factory(sqlite_url)
    get_settings.cache_clear()


def test_inbox_label_discard(env, tmp_path: Path) -> None:
    bencana = FakeReplies("complaint_bencana", 0.4)
    first = record_decision(env, "telegram", "telegram:1", "jembatan kayu mau ambruk", bencana)
    second = record_decision(env, "line", "line:U2", "gimana ya caranya", FakeReplies("help", 0.3))
    runner = CliRunner()
    listed = json.loads(runner.invoke(cli, ["trainer", "inbox", "--json"]).output)
    assert [i["id"] for i in listed] == [second, first]  # lowest confidence first
    assert listed[1]["ranking"][0] == {"name": "complaint_bencana", "confidence": 0.4}

    done = runner.invoke(cli, ["trainer", "label", str(first), "complaint_infrastruktur"])
    assert done.exit_code == 0 and "dilabeli complaint_infrastruktur" in done.output
    assert "jembatan kayu mau ambruk" in (tmp_path / "data/nlu/curated/complaint_infrastruktur.yml").read_text()
    again = runner.invoke(cli, ["trainer", "label", str(first), "complaint_infrastruktur"])
    assert again.exit_code != 0 and "sudah ditinjau" in again.output
    bad = runner.invoke(cli, ["trainer", "label", str(second), "bukan_intent"])
    assert bad.exit_code != 0 and "tidak dikenal" in bad.output

    assert runner.invoke(cli, ["trainer", "discard", str(second)]).exit_code == 0
    assert "Kotak masuk kosong" in runner.invoke(cli, ["trainer", "inbox"]).output


def test_users_add_refuses_duplicates_and_unknown_roles(env) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["users", "add", "ani", "--role", "koordinator"]).exit_code == 0
    dup = runner.invoke(cli, ["users", "add", "ani", "--role", "trainer"])
    assert dup.exit_code != 0 and "sudah ada" in dup.output
    assert runner.invoke(cli, ["users", "add", "ana", "--role", "admin"]).exit_code != 0


def test_purge_removes_decisions_older_than_retention(env) -> None:
    old = record_decision(env, "web", "web:old", "keluhan lama sekali", FakeReplies("complaint_bansos", 0.3))
    new = record_decision(env, "web", "web:new", "keluhan baru saja", FakeReplies("complaint_bansos", 0.3))
    with env() as session, session.begin():
        session.execute(
            update(m.NluDecision)
            .where(m.NluDecision.id == old)
            .values(created_at=datetime.now(UTC) - timedelta(days=91))
        )
    result = CliRunner().invoke(cli, ["trainer", "purge"])
    assert result.exit_code == 0 and result.output.startswith("1 keputusan")
    with env() as session:
        assert list(session.scalars(select(m.NluDecision.id))) == [new]
