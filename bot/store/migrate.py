"""Alembic migrations driven from code, so `aduan db upgrade` needs no alembic.ini on the path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.store.db import engine_for

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named in `url` when it does not exist yet; True when created.

    An operator following the README points ADUAN_DATABASE_URL at a new database name; making them
    run `createdb` first is a step nobody needs. SQLite files are created on first connect anyway.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return False
    maintenance = create_engine(
        parsed.set(database="postgres", query={}), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        with maintenance.connect() as conn:
            exists = conn.scalar(text("select 1 from pg_database where datname = :name"), {"name": parsed.database})
            if exists:
                return False
            quoted = conn.dialect.identifier_preparer.quote(parsed.database)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        maintenance.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current_tables(url: str) -> set[str]:
    return set(inspect(engine_for(url)).get_table_names())
