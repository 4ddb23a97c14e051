"""Shared fixtures: fresh ticket stores on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from bot.store.db import engine_for
from bot.store.migrate import upgrade
from bot.tickets import TicketService
from tests.integration.stack import Stack, ensure_model

PG_URL = os.environ.get("ADUAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_driver_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


def postgres_available() -> bool:
    try:
        with create_engine(_pg_driver_url(PG_URL), connect_args={"connect_timeout": 3}).connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_ok() -> bool:
    ok = postgres_available()
    if not ok and IN_CI:
        pytest.fail(f"PostgreSQL is required in CI but {PG_URL} is not reachable")
    return ok


@contextmanager
def pg_schema(base: str = PG_URL) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema; it and Rasa's `<schema>_rasa` are dropped after."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_driver_url(base))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = _pg_driver_url(base) + f"{sep}options={quote(f'-csearch_path={schema}')}"
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with admin.begin() as conn:
            for name in (schema, f"{schema}_rasa"):
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_ok: bool) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    if not pg_ok:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    with pg_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'aduan.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database URL, on each backend in turn."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def service(db_url: str) -> TicketService:
    upgrade(db_url)
    svc = TicketService.from_url(db_url)
    svc.sync_opds()
    return svc


@pytest.fixture
def sqlite_service(sqlite_url: str) -> TicketService:
    upgrade(sqlite_url)
    svc = TicketService.from_url(sqlite_url)
    svc.sync_opds()
    return svc


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One real stack per test session: trained model, Rasa server and action server on loopback."""
    ensure_model()
    workdir = tmp_path_factory.mktemp("stack")
    s = Stack(workdir, f"sqlite:///{workdir / 'tickets.db'}")
    try:
        s.start()
        yield s
    finally:
        s.stop()
