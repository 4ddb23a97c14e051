"""A citizen on a phone files a complaint through the web chat, in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.integration.stack import GatewayThread, Stack

CODE = re.compile(r"ADU-[2-9A-HJKMNP-TV-Z]{7}")
PHONE = {"width": 390, "height": 844}
REPLY_TIMEOUT = 90_000  # ms: the first Rasa turn after start-up can be slow
SCREENSHOT_COPY = Path("/tmp/webchat.png")


def last_bot(page: Page, pattern: str | re.Pattern[str]) -> None:
    expect(page.locator(".msg.bot").filter(has_text=pattern).last).to_be_visible(timeout=REPLY_TIMEOUT)


def click_button(page: Page, title: str) -> None:
    button = page.locator(".buttons button", has_text=title).last  # the newest row offering it
    expect(button).to_be_enabled(timeout=REPLY_TIMEOUT)
    button.click()
    expect(button).to_be_disabled()  # a row answers once: its buttons switch off after a click


def say(page: Page, text: str) -> None:
    box = page.locator("#text")
    box.click()
    box.press_sequentially(text, delay=5)
    box.press("Enter")
    expect(page.locator(".msg.me", has_text=text).last).to_be_visible()
    expect(box).to_have_value("")


def assert_fits_the_phone(page: Page) -> None:
    """Nothing sticks out sideways and every button is fully on screen and readable."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px"
    for button in page.locator(".buttons button").all():
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], button.inner_text()
        assert box["height"] >= 40, f"tap target too small: {button.inner_text()!r} {box}"
    for bubble in page.locator(".msg").all():
        box = bubble.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], bubble.inner_text()[:40]
    form = page.locator("#form").bounding_box()
    assert form and form["y"] + form["height"] <= PHONE["height"] + 1, "message box is below the screen"


def test_citizen_files_a_complaint_from_a_phone(
    browser: Browser, gateway: GatewayThread, stack: Stack, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="id-ID")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(gateway.url + "/")
        expect(page).to_have_title(re.compile("Aduan"))
        last_bot(page, "Halo")

        say(page, "sampah numpuk di TPS pasar legi udh seminggu bau bgt")
        last_bot(page, re.compile("lokasi", re.I))
        say(page, "TPS pasar legi, jl. sutan syahrir kel. setabelan, sebelah parkiran motor")
        last_bot(page, re.compile("foto", re.I))
        click_button(page, "Lewati")
        last_bot(page, re.compile("identitas", re.I))
        page.screenshot(path=str(tmp_path / "webchat-privacy.png"))
        click_button(page, "Anonim")
        last_bot(page, "ringkasan")
        expect(page.locator(".buttons button", has_text="Kirim laporan").last).to_be_enabled(timeout=REPLY_TIMEOUT)
        summary = page.locator("#log").inner_text()
        assert "Lingkungan Hidup dan Kebersihan" in summary and "Dinas Lingkungan Hidup" in summary, summary
        click_button(page, "Kirim laporan")

        done = page.locator(".msg.bot").filter(has_text=CODE).last
        expect(done).to_be_visible(timeout=REPLY_TIMEOUT)
        page.wait_for_timeout(300)  # let the scroll settle before the picture
        shot = tmp_path / "webchat.png"
        page.screenshot(path=str(shot))
        shutil.copyfile(shot, SCREENSHOT_COPY)
        assert_fits_the_phone(page)
        assert not errors, errors

        code = CODE.search(done.inner_text())
        assert code
        session_id = page.evaluate("localStorage.getItem('aduan-web-session')")
    finally:
        context.close()

    ticket = stack.tickets.get(code.group(0))
    assert ticket.channel == "web"
    assert ticket.chat_id == session_id
    assert ticket.category_id == "lingkungan" and ticket.opd_id == "dlh"
    assert ticket.anonymous
    assert "pasar legi" in (ticket.location_text or "").lower()
