"""The tracker store follows the ticket store (issue 8): URLs and the generated endpoints file."""

from __future__ import annotations

import stat
from pathlib import Path

import yaml

from bot.config import Settings, derive_tracker_url
from bot.rasa_endpoints import TRACKER_STORE_CLASS, rasa_driver_url, write_endpoints


def test_sqlite_tracker_sits_beside_the_ticket_file() -> None:
    assert derive_tracker_url("sqlite:////srv/aduan/aduan.db") == "sqlite:////srv/aduan/rasa/tracker.db"


def test_postgres_tracker_gets_its_own_schema() -> None:
    plain = derive_tracker_url("postgresql+psycopg://u:pw@db:5432/aduan")
    assert plain == "postgresql+psycopg://u:pw@db:5432/aduan?options=-csearch_path%3Drasa_tracker"
    pinned = derive_tracker_url("postgresql+psycopg://u@db/aduan?options=-csearch_path%3Dkota")
    assert pinned.endswith("options=-csearch_path%3Dkota_rasa")
    assert rasa_driver_url(plain).startswith("postgresql+psycopg2://u:pw@db:5432/aduan?")


def test_override_wins() -> None:
    settings = Settings(
        _env_file=None, ADUAN_DATABASE_URL="sqlite:////x/a.db", ADUAN_TRACKER_STORE_URL="postgresql://h/rasa"
    )
    assert settings.tracker_store_url == "postgresql+psycopg://h/rasa"


def test_generated_endpoints_are_owner_only_and_strict(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        ADUAN_DATABASE_URL=f"sqlite:///{tmp_path / 'aduan.db'}",
        ADUAN_ACTION_SERVER_URL="http://127.0.0.1:6001",
    )
    out = write_endpoints(settings, tmp_path / "var" / "endpoints.yml")
    config = yaml.safe_load(out.read_text())
    assert config["action_endpoint"]["url"] == "http://127.0.0.1:6001/webhook"
    assert config["tracker_store"] == {"type": TRACKER_STORE_CLASS, "url": f"sqlite:///{tmp_path}/rasa/tracker.db"}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "rasa").stat().st_mode) == 0o700
