"""Test support (the fake Telegram/LINE servers) imported from the repository checkout.

The fakes live under tests/support/, outside the installed package; the offline demo (`aduan dev`),
the conversation evaluation and the benchmark import them through this one function.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from bot.config import REPO_ROOT


class NoCheckout(RuntimeError):
    """tests/support/ is not there (an installed package without the repository)."""


def on_path() -> None:
    """Put the checkout (and so its `tests` package) on sys.path."""
    if not (REPO_ROOT / "tests" / "support").is_dir():
        raise NoCheckout("Fake server hanya tersedia dari checkout repositori (tests/support/ tidak ditemukan).")
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)


def test_support(module: str) -> ModuleType:
    """`tests.support.<module>`, imported from the checkout."""
    on_path()
    return importlib.import_module(f"tests.support.{module}")
