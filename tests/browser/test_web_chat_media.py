"""Web chat as good as Telegram: photo upload, shared location, reload keeps everything, status by code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_web_chat import CODE, PHONE, REPLY_TIMEOUT, click_button, last_bot, say
from tests.gateway.test_web_routes import png
from tests.integration.stack import GatewayThread, Stack

LAT, LON = -7.5695, 110.8286


def test_complaint_with_photo_and_location_survives_a_reload(
    browser: Browser, gateway: GatewayThread, stack: Stack, tmp_path: Path
) -> None:
    photo = tmp_path / "jalan.png"
    photo.write_bytes(png())
    context = browser.new_context(
        viewport={"width": 320, "height": 640},
        is_mobile=True,
        has_touch=True,
        locale="id-ID",
        geolocation={"latitude": LAT, "longitude": LON},
        permissions=["geolocation"],
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    try:
        page.goto(gateway.url + "/")
        last_bot(page, "Halo")
        say(page, "jalan depan SD 3 berlubang besar, udh 2 org jatuh")
        last_bot(page, re.compile("lokasi", re.I))
        page.locator("#loc-btn").click()
        expect(page.locator(".msg.me", has_text="Lokasi")).to_be_visible()
        last_bot(page, re.compile("foto", re.I))
        page.set_input_files("#photo", str(photo))
        expect(page.locator(".msg.me img")).to_be_visible()
        last_bot(page, re.compile("identitas", re.I))
        click_button(page, "Biasa")
        last_bot(page, "ringkasan")
        assert "Titik lokasi" in page.locator("#log").inner_text()
        click_button(page, "Kirim laporan")
        done = page.locator(".msg.bot").filter(has_text=CODE).last
        expect(done).to_be_visible(timeout=REPLY_TIMEOUT)
        code = CODE.search(done.inner_text()).group(0)

        # The code stays on one line at 320 px and is one tap to copy.
        chip = page.locator(".msg.bot .code", has_text=code).last
        box = chip.bounding_box()
        assert box and box["height"] < 40 and box["x"] + box["width"] <= 320, box
        chip.click()
        expect(page.locator(".copied")).to_be_visible()
        expect(page.locator(".copied")).to_have_count(0, timeout=5000)

        bot_before = page.locator(".msg.bot").all_inner_texts()
        page.reload()
        expect(page.locator(".msg.bot").filter(has_text=code).last).to_be_visible(timeout=REPLY_TIMEOUT)
        # both sides came back, in order, the citizen's messages too
        assert page.locator(".msg.bot").all_inner_texts() == bot_before
        mine = [t.strip() for t in page.locator(".msg.me").all_inner_texts()]
        assert mine == [
            "jalan depan SD 3 berlubang besar, udh 2 org jatuh",
            "📍 Lokasi",
            "📷 Foto",
            "1 Biasa",  # the privacy buttons are numbered so a typed "1" works too
            "✅ Kirim laporan",
        ], mine
        assert page.locator(".buttons button:enabled").count() == 0  # answered rows stay switched off
        # no polling: replies come over one event stream, not a request every 700 ms
        assert sum("/api/web/messages?" in url for url in requests) == 0
        assert any("/api/web/events" in url for url in requests)
        assert not errors, errors
    finally:
        context.close()

    ticket = stack.tickets.get(code)
    assert ticket.latitude == pytest.approx(LAT) and ticket.longitude == pytest.approx(LON)
    assert len(ticket.photos) == 1 and ticket.photos[0].startswith("media:")

    # Someone else (another device, no session) checks the status by code: public part only.
    other = browser.new_context(viewport=PHONE, locale="id-ID")
    page = other.new_page()
    try:
        page.goto(gateway.url + "/")
        page.locator("#status-open").click()
        page.locator("#status-code").fill(code.lower())
        page.locator("#status-code").press("Enter")
        result = page.locator("#status-result")
        expect(result).to_contain_text("Diteruskan ke OPD", timeout=REPLY_TIMEOUT)
        expect(result).to_contain_text("Dinas Pekerjaan Umum")
        assert "berlubang" not in result.inner_text()
        assert page.locator(".msg.me").count() == 0  # a new device starts its own, empty conversation
    finally:
        other.close()
