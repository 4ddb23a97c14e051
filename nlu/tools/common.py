"""Shared by predict and evaluate: model loading, parsing, intent -> category."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO_ROOT / "models" / "aduan.tar.gz"
INTENT_PREFIX = "complaint_"  # the category list itself: data/categories.yml via nlu.tools.categories
FALLBACK_CATEGORY = "lainnya"


def quiet() -> None:
    """Keep TensorFlow and Rasa chatter off stdout/stderr so stdout stays machine-readable."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import warnings

    warnings.filterwarnings("ignore")
    # Imports inside Rasa (pkg_resources, SQLAlchemy 1.4, matplotlib) add their own "default" filters
    # back; for a tool whose output is JSON lines, no warning is worth a screen of stderr.
    warnings.showwarning = lambda *args, **kwargs: None
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
        from nlu.tools.categories import generate

        generate()  # like `make train`: the category parts of the domain and rules follow categories.yml
        subprocess.run(
            [sys.executable, "-m", "rasa", "train", "--fixed-model-name", "aduan", "--out", "models"],
            cwd=REPO_ROOT,
            check=True,
            stdout=sys.stderr,
        )
        model = DEFAULT_MODEL
    return model


class Parser:
    """Only the NLU part of a trained model: the dialogue policies (TensorFlow) are never loaded.

    `parse_many` runs a whole batch through the graph in one go, which is what makes
    `aduan nlu predict` fast on files.
    """

    def __init__(self, model: Path) -> None:
        import tempfile

        from rasa.engine.graph import ExecutionContext
        from rasa.engine.runner.dask import DaskGraphRunner
        from rasa.engine.storage.local_model_storage import LocalModelStorage

        self._tmp = tempfile.TemporaryDirectory(prefix="aduan-model-")
        storage, metadata = LocalModelStorage.from_model_archive(Path(self._tmp.name), model)
        self._target = metadata.nlu_target
        schema = metadata.predict_schema.minimal_graph_schema([self._target])
        self._runner = DaskGraphRunner.create(
            graph_schema=schema,
            model_storage=storage,
            execution_context=ExecutionContext(graph_schema=schema, model_id=metadata.model_id),
        )

    def parse_many(self, texts: list[str]) -> list[dict[str, Any]]:
        from rasa.core.channels.channel import UserMessage

        if not texts:
            return []
        results = self._runner.run(
            inputs={"__message__": [UserMessage(text) for text in texts]}, targets=[self._target]
        )
        out = []
        for message in results[self._target]:
            parsed: dict[str, Any] = {"text": "", "intent": {"name": None, "confidence": 0.0}, "entities": []}
            parsed.update(message.as_dict(only_output_properties=True))
            out.append(parsed)
        return out

    def parse(self, text: str) -> dict[str, Any]:
        return self.parse_many([text])[0]

    def close(self) -> None:
        self._tmp.cleanup()
