"""A trainer on a phone labels a real citizen's message, retrains, and the promoted model has learned it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from bot.store import models as m
from bot.web.accounts import create_user
from tests.integration.stack import GatewayThread, Stack
from tests.trainer.conftest import WebCitizen

PHONE = {"width": 390, "height": 844}
TEXT = "kucing liar banyak yg mati di got dekat pasar, bangkainya dibiarkan"
# The text is about both (dead animals, a drain). The trainer picks the one the live model did not
# say, so the test shows a correction being learned whatever the training data already teaches.
CANDIDATES = ("complaint_lingkungan", "complaint_infrastruktur")
PASSWORD = "kata-sandi-pelatih-baru"
RETRAIN_TIMEOUT = 600_000  # ms: a full `rasa train` plus the gate on a shared 2-core machine


@pytest.fixture
def trainer_site(
    chromium: Path, stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GatewayThread]:
    """The real gateway; labels go to a temporary curated folder, the gate report to tmp."""
    monkeypatch.setenv("ADUAN_TRAINER_CURATED_ROOT", str(tmp_path / "curated"))
    monkeypatch.setenv("ADUAN_TRAINER_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("ADUAN_SESSION_SECRET", "browser-test-secret-0123456789")
    with GatewayThread(stack.settings()) as gw:
        yield gw


def _latest_decision(gw: GatewayThread, sender_id: str) -> m.NluDecision:
    with gw.gateway.sessions() as session:
        row = session.scalars(
            select(m.NluDecision).where(m.NluDecision.sender_id == sender_id).order_by(m.NluDecision.id.desc())
        ).first()
        session.expunge_all()
        return row


def _login_first_time(page: Page, url: str, name: str, one_time: str) -> None:
    page.goto(url + "/trainer")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#name", name)
    page.fill("#password", one_time)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/akun/sandi"))
    page.fill("#current", one_time)
    page.fill("#new", PASSWORD)
    page.fill("#repeat", PASSWORD)
    page.click("button.primary")
    expect(page).to_have_url(re.compile(r"/trainer"))


def test_trainer_labels_a_real_message_retrains_and_the_bot_learns_it(
    browser: Browser, trainer_site: GatewayThread, stack: Stack
) -> None:
    citizen = WebCitizen(trainer_site.url)
    citizen.say(TEXT)
    before = _latest_decision(trainer_site, citizen.sender_id)
    assert before is not None
    label = next(c for c in CANDIDATES if c != before.intent)

    with trainer_site.gateway.sessions() as session, session.begin():
        _, one_time = create_user(session, "pelatih-browser", "trainer")

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="id-ID")
    page = context.new_page()
    try:
        _login_first_time(page, trainer_site.url, "pelatih-browser", one_time)
        item = page.locator("article.item", has_text="kucing liar banyak").first
        expect(item).to_be_visible()
        expect(item.locator("ol.top3 li")).not_to_have_count(0)
        item.locator("select[name=other]").select_option(label)
        item.get_by_role("button", name="Pakai label ini").click()
        expect(page.locator(".notice")).to_contain_text("Tersimpan")
        expect(page.locator("article.item", has_text="kucing liar banyak")).to_have_count(0)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"page scrolls sideways by {overflow}px on a phone"

        page.get_by_role("button", name="Latih ulang & uji").click()
        expect(page.locator("#job-status")).to_contain_text("sudah aktif", timeout=RETRAIN_TIMEOUT)
        expect(page.locator("#gate-result")).to_contain_text("dipromosikan")
        expect(page.get_by_role("button", name="Pulihkan model sebelumnya")).to_be_visible()
    finally:
        context.close()

    again = WebCitizen(trainer_site.url)
    again.say(TEXT)
    after = _latest_decision(trainer_site, again.sender_id)
    assert after.intent == label, (after.intent, after.confidence)
    assert after.model_id != before.model_id
