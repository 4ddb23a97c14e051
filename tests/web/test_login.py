"""Web accounts: one-time password, argon2, signed session, CSRF on every form, throttling, roles."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from bot.cli import main as cli
from bot.config import Settings
from bot.store import models as m
from bot.store.db import session_factory
from bot.store.migrate import upgrade
from bot.web.accounts import MAX_FAILURES
from bot.web.app import WebSettings, create_web_app

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
NEW_PASSWORD = "sandi-baru-yang-panjang"


@pytest.fixture
def web(db_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch):
    upgrade(db_url)
    monkeypatch.setenv("ADUAN_DATABASE_URL", db_url)
    from bot.config import get_settings

    get_settings.cache_clear()
    settings = Settings(_env_file=None, ADUAN_DATABASE_URL=db_url)
    app = create_web_app(
        settings,
        WebSettings(_env_file=None, ADUAN_SESSION_SECRET="test-secret-0123456789", ADUAN_TRAINER_CURATED_ROOT=tmp_path),
    )
    yield app
    get_settings.cache_clear()


def add_user(name: str, role: str) -> str:
    result = CliRunner().invoke(cli, ["users", "add", name, "--role", role])
    assert result.exit_code == 0, result.output
    return re.search(r"Kata sandi sekali pakai: (\S+)", result.output).group(1)


def csrf_of(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return CSRF.search(page.text).group(1)


def login(client: TestClient, name: str, password: str):
    return client.post(
        "/login", data={"name": name, "password": password, "csrf": csrf_of(client, "/login")}, follow_redirects=False
    )


def logged_in(app, name: str, role: str) -> TestClient:
    """A client past the first login and the forced password change."""
    client = TestClient(app)
    first = login(client, name, add_user(name, role))
    assert first.status_code == 303 and first.headers["location"] == "/akun/sandi"
    return client


def change_password(client: TestClient, current: str) -> None:
    token = csrf_of(client, "/akun/sandi")
    done = client.post(
        "/akun/sandi",
        data={"current": current, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text


def test_one_time_password_must_be_changed_then_trainer_page_opens(web) -> None:
    client = TestClient(web)
    assert client.get("/trainer", follow_redirects=False).headers["location"].startswith("/login")
    password = add_user("rina", "trainer")
    assert login(client, "rina", password).headers["location"] == "/akun/sandi"
    assert client.get("/trainer", follow_redirects=False).headers["location"] == "/akun/sandi"
    change_password(client, password)
    page = client.get("/trainer")
    assert page.status_code == 200 and "Kotak masuk NLU" in page.text
    # the one-time password no longer works; the new one does, and the hash is argon2
    fresh = TestClient(web)
    assert login(fresh, "rina", password).status_code == 401
    assert login(fresh, "rina", NEW_PASSWORD).headers["location"] == "/trainer"
    with session_factory(Settings(_env_file=None).sqlalchemy_url)() as session:
        user = session.query(m.User).filter_by(name="rina").one()
        assert user.password_hash.startswith("$argon2") and not user.must_change_password


def test_wrong_password_is_refused_politely_without_a_session(web) -> None:
    add_user("budi", "trainer")
    client = TestClient(web)
    answer = login(client, "budi", "salah-sekali")
    assert answer.status_code == 401 and "Nama pengguna atau kata sandi salah" in answer.text
    unknown = login(client, "tidak-ada", "salah-sekali")
    assert unknown.status_code == 401 and "Nama pengguna atau kata sandi salah" in unknown.text
    assert client.get("/trainer", follow_redirects=False).status_code == 303


def test_login_is_throttled_after_repeated_failures(web) -> None:
    password = add_user("sari", "trainer")
    client = TestClient(web)
    for _ in range(MAX_FAILURES):
        assert login(client, "sari", "tebakan-salah").status_code == 401
    locked = login(client, "sari", password)  # even the right password waits now
    assert locked.status_code == 401 and "Terlalu banyak percobaan" in locked.text


def test_forms_without_csrf_token_are_refused(web) -> None:
    password = add_user("dewi", "trainer")
    client = TestClient(web)
    client.get("/login")
    no_token = client.post("/login", data={"name": "dewi", "password": password}, follow_redirects=False)
    assert no_token.status_code == 403 and "kedaluwarsa" in no_token.text
    assert login(client, "dewi", password).status_code == 303
    change_password(client, password)
    for path in ("/trainer/retrain", "/trainer/rollback", "/trainer/bulk", "/trainer/items/1"):
        refused = client.post(path, data={"action": "discard"}, follow_redirects=False)
        assert refused.status_code == 403, path
        forged = client.post(path, data={"action": "discard", "csrf": "palsu"}, follow_redirects=False)
        assert forged.status_code == 403, path


def test_trainer_cannot_reach_koordinator_pages(web) -> None:
    trainer = logged_in(web, "tono", "trainer")
    # still forced to change the password: every page sends the user there first
    assert trainer.get("/koordinator", follow_redirects=False).headers["location"] == "/akun/sandi"
    koordinator_password = add_user("kiki", "koordinator")
    trainer_password = add_user("tina", "trainer")
    t = TestClient(web)
    login(t, "tina", trainer_password)
    change_password(t, trainer_password)
    refused = t.get("/koordinator")
    assert refused.status_code == 403 and "bukan untuk peran Anda" in refused.text
    k = TestClient(web)
    login(k, "kiki", koordinator_password)
    change_password(k, koordinator_password)
    assert k.get("/koordinator").status_code == 200
    assert k.get("/trainer").status_code == 200
