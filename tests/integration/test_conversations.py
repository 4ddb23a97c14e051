"""Rasa's own checks in the test suite: data validation and the conversation test stories."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from bot.config import REPO_ROOT
from tests.integration.stack import MODEL, RASA_BIN, ensure_model

ACTIONS_DIR = REPO_ROOT / "actions"
FORM_SLOTS = ("complaint_text", "category", "location", "photo", "privacy", "confirmed")
# Sent by Rasa itself: the form asks `utter_ask_<slot>`, the fallback actions use these two.
IMPLICIT = {f"utter_ask_{slot}" for slot in FORM_SLOTS} | {"utter_ask_rephrase", "utter_default"}


def test_rasa_data_validate_is_clean() -> None:
    result = subprocess.run(
        [str(RASA_BIN), "data", "validate"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    warnings = [line for line in output.splitlines() if "UserWarning" in line]
    # Responses sent only by custom actions are reported as unused by Rasa: each must really be used.
    unused = [m.group(1) for w in warnings if (m := re.search(r"utterance '(utter_\w+)' is not used", w))]
    action_code = "\n".join(p.read_text() for p in ACTIONS_DIR.glob("*.py"))
    assert [u for u in unused if u not in IMPLICIT and f'"{u}"' not in action_code] == []
    other = [w for w in warnings if "is not used in any story or rule" not in w]
    assert other == [], other


def test_conversation_stories_pass(tmp_path: Path) -> None:
    ensure_model()
    result = subprocess.run(
        [
            str(RASA_BIN),
            "test",
            "core",
            "--model",
            str(MODEL),
            "--stories",
            "tests/conversations",
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:] + details
    assert "none of the test stories failed" in details.lower(), details
