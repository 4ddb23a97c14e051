"""Runs this folder's Rasa-env tests with .venv-rasa's pytest, so the app env's `make test` covers them."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"


@pytest.mark.skipif(importlib.util.find_spec("rasa") is not None, reason="already inside the Rasa env")
def test_rasa_env_suite_passes() -> None:
    if not RASA_PYTHON.exists():
        pytest.skip(".venv-rasa is missing (make setup)")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [str(RASA_PYTHON), "-m", "pytest", str(HERE), "-q", "-p", "no:cacheprovider", f"--confcutdir={HERE}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    sys.stdout.write(result.stdout[-5000:])
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
