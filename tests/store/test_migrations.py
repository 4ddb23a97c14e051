"""Migrations build the schema from empty on both databases, match the models, and roll back."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.store.db import engine_for
from bot.store.migrate import current_tables, downgrade, upgrade
from bot.store.models import Base

EXPECTED = {
    "citizens",
    "opds",
    "admins",
    "admin_groups",
    "admin_invites",
    "admin_topics",
    "tickets",
    "ticket_events",
    "attachments",
    "inbound_messages",
    "outbox",
    "handoffs",
    "sla_actions",
    "nlu_decisions",
    "nlu_reviews",
    "users",
    "message_refs",
    "relay_conversations",
    "alembic_version",
}


def test_upgrade_from_empty_matches_models(db_url: str) -> None:
    assert current_tables(db_url) == set()
    upgrade(db_url)
    assert current_tables(db_url) == EXPECTED
    with engine_for(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # Type-only differences (UTCDateTime is a DateTime decorator) are not schema drift.
    drift = [d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_type")]
    assert drift == []


def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    upgrade(db_url)
    downgrade(db_url, "base")
    assert current_tables(db_url) <= {"alembic_version"}
    upgrade(db_url)
    assert current_tables(db_url) == EXPECTED


def test_db_upgrade_creates_a_missing_postgresql_database(pg_ok: bool) -> None:
    """README's PostgreSQL path names a database that does not exist yet: `aduan db upgrade` creates it."""
    import subprocess
    import sys
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot.config import REPO_ROOT
    from tests.conftest import PG_URL, _pg_driver_url

    if not pg_ok:
        pytest.skip("PostgreSQL not reachable")
    name = f"aduan_t_{uuid.uuid4().hex[:10]}"
    url = make_url(_pg_driver_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "ADUAN_DATABASE_URL": url, "PYTHONPATH": str(REPO_ROOT)}
    admin = create_engine(_pg_driver_url(PG_URL), isolation_level="AUTOCOMMIT")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        assert "Database siap" in result.stdout
        again = subprocess.run(
            [sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0 and "baru dibuat" not in again.stdout
    finally:
        from bot.store.db import engine_for

        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
