"""Shared by predict and evaluate: model loading, parsing, intent -> category."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO_ROOT / "models" / "aduan.tar.gz"
INTENT_PREFIX = "complaint_"
FALLBACK_CATEGORY = "lainnya"


def quiet() -> None:
    """Keep TensorFlow and Rasa chatter off stdout/stderr so stdout stays machine-readable."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import warnings

    warnings.filterwarnings("ignore")
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)  # unconfigured structlog prints debug lines (with texts) to stdout
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
    for name in ("rasa", "tensorflow", "absl", "sanic"):
        logging.getLogger(name).setLevel(logging.ERROR)


def category_of(intent: str | None) -> str:
    if intent and intent.startswith(INTENT_PREFIX):
        return intent.removeprefix(INTENT_PREFIX)
    return FALLBACK_CATEGORY


def ensure_model(path: Path | None) -> Path:
    model = path or DEFAULT_MODEL
    if not model.exists():
        print(f"no model at {model}: training one first (takes a few minutes)", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "rasa", "train", "--fixed-model-name", "aduan", "--out", "models"],
            cwd=REPO_ROOT,
            check=True,
            stdout=sys.stderr,
        )
        model = DEFAULT_MODEL
    return model


class Parser:
    """A loaded NLU model; `parse` is synchronous for simple scripts."""

    def __init__(self, model: Path) -> None:
        from rasa.core.agent import Agent

        self._loop = asyncio.new_event_loop()
        self.agent = Agent.load(str(model))

    def parse(self, text: str) -> dict[str, Any]:
        return self._loop.run_until_complete(self.agent.parse_message(text))

    def close(self) -> None:
        self._loop.close()
