"""`make run` skips `rasa train` (before loading Rasa) when the model matches its inputs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bot.config import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import model_fingerprint as fp


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name in ("config.yml", "domain.yml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / name, root / name)
    shutil.copytree(REPO_ROOT / "data", root / "data")
    shutil.copytree(REPO_ROOT / "nlu", root / "nlu", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "models").mkdir()
    return root


def test_fresh_only_when_model_and_inputs_match(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert not fp.is_fresh(root)  # no model yet
    (root / "models" / "aduan.tar.gz").write_bytes(b"model")
    assert not fp.is_fresh(root)  # a model of unknown origin is retrained once
    fp.write(root)
    assert fp.is_fresh(root)
    nlu_file = next((root / "data").rglob("*.yml"))
    nlu_file.write_text(nlu_file.read_text() + "\n# one more line\n")
    assert not fp.is_fresh(root)
    fp.write(root)
    (root / "nlu" / "components.py").write_text("# changed component\n")
    assert not fp.is_fresh(root)  # custom NLU code is part of the model
    fp.write(root)
    (root / "nlu" / "__pycache__").mkdir(exist_ok=True)
    (root / "nlu" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert fp.is_fresh(root)


def test_check_is_a_standalone_script() -> None:
    """The Makefile calls it before Rasa is loaded: standard library only (time measured in README)."""
    source = (REPO_ROOT / "scripts" / "model_fingerprint.py").read_text()
    assert "import rasa" not in source and "from bot" not in source
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "model_fingerprint.py"), "bogus"], capture_output=True, text=True
    )
    assert result.returncode == 2 and "usage" in result.stderr


def test_logging_and_tooling_do_not_force_a_retrain(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "models" / "aduan.tar.gz").write_bytes(b"model")
    fp.write(root)
    (root / "nlu" / "log_masking.py").write_text("# changed\n")
    (root / "nlu" / "tools" / "predict.py").write_text("# changed\n")
    assert fp.is_fresh(root)
