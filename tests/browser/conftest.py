"""Headless Chromium (Debian's, never `playwright install`) against the real gateway and real Rasa."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.stack import GatewayThread, Stack

CHROMIUM = Path(os.environ.get("ADUAN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.integration)  # it drives the real Rasa + action server too


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The browser binary; checked before the (slow) stack so a missing browser costs nothing."""
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} not found (install Debian's chromium, e.g. `make browser`)"
        if IN_CI:
            pytest.fail(f"headless Chromium is required in CI: {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="package")
def gateway(chromium: Path, stack: Stack) -> Iterator[GatewayThread]:
    with GatewayThread(stack.settings()) as gw:
        yield gw


@pytest.fixture(scope="package")
def browser(chromium: Path) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
