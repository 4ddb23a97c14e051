"""Migrations build the schema from empty on both databases, match the models, and roll back."""

from __future__ import annotations

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
