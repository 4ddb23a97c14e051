"""The trainer page on a phone without Rasa: keyboard one-key actions, bulk accept, personal-data removal."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from bot.config import Settings
from bot.store.db import session_factory
from bot.store.migrate import upgrade
from bot.trainer.data import read_examples
from bot.trainer.recorder import record_decision
from bot.web.accounts import create_user
from bot.web.app import WebSettings, create_web_app
from tests.integration.stack import free_port, wait_until
from tests.trainer.test_inbox import FakeReplies

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site(chromium: Path, sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, object, Path]]:
    upgrade(sqlite_url)
    settings = Settings(_env_file=None, ADUAN_DATABASE_URL=sqlite_url)
    curated = tmp_path / "curated"
    app = create_web_app(
        settings,
        WebSettings(
            _env_file=None,
            ADUAN_SESSION_SECRET="actions-test-secret-0123456789",
            ADUAN_TRAINER_CURATED_ROOT=curated,
            ADUAN_TRAINER_REPORTS_DIR=tmp_path / "reports",
        ),
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 30, "web app")
    try:
        yield f"http://127.0.0.1:{port}", session_factory(sqlite_url), curated
    finally:
        server.should_exit = True
        thread.join(10)


def _login(page: Page, url: str, sessions) -> None:
    with sessions() as session, session.begin():
        _, one_time = create_user(session, "pelatih", "trainer")
    page.goto(url + "/login")
    page.fill("#name", "pelatih")
    page.fill("#password", one_time)
    page.click("button[type=submit]")
    page.fill("#current", one_time)
    page.fill("#new", "sandi-baru-pelatih-1")
    page.fill("#repeat", "sandi-baru-pelatih-1")
    page.click("button.primary")
    expect(page).to_have_url(re.compile(r"/trainer"))


def test_keyboard_bulk_and_personal_data(browser: Browser, site) -> None:
    url, sessions, curated = site
    for n, (text, intent, confidence) in enumerate(
        [
            ("got depan rumah mampet total", "complaint_infrastruktur", 0.41),
            ("saluran air tersumbat sampah", "complaint_infrastruktur", 0.45),
            ("bu ani rt 3 sakit tolong", "complaint_kesehatan", 0.2),
            ("botnya lucu jg ya hehe", "chitchat", 0.3),
        ]
    ):
        record_decision(sessions, "web", f"web:{n}", text, FakeReplies(intent, confidence))

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="id-ID")
    page = context.new_page()
    try:
        _login(page, url, sessions)
        first = page.locator("article.item").first
        expect(first).to_contain_text("bu ani rt 3 sakit tolong")  # lowest confidence first
        expect(first).to_have_class(re.compile("current"))
        page.keyboard.press("p")  # personal data: removed
        expect(page.locator("article.item", has_text="bu ani")).to_have_count(0)

        page.keyboard.press("j")  # move down and back up again
        expect(page.locator("article.item").nth(1)).to_have_class(re.compile("current"))
        page.keyboard.press("k")
        expect(page.locator("article.item.current")).to_contain_text("botnya lucu")
        page.keyboard.press("b")  # discard
        expect(page.locator("article.item", has_text="botnya lucu")).to_have_count(0)

        page.get_by_role("button", name=re.compile(r"Terima semua «complaint_infrastruktur» \(2\)")).click()
        expect(page.locator(".notice").first).to_contain_text("2 contoh")
        expect(page.locator("article.item")).to_have_count(0)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
    finally:
        context.close()
    written = read_examples(curated / "data" / "nlu" / "curated" / "complaint_infrastruktur.yml")
    assert sorted(t for _, t in written) == ["got depan rumah mampet total", "saluran air tersumbat sampah"]
