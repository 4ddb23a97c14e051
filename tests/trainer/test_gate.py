"""The gate refuses a deliberately worse candidate and promotes a better one (real models, same held-out sets)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.config import REPO_ROOT
from bot.trainer.data import NluFiles
from bot.trainer.retrain import RASA_BIN, ModelPlace, rollback, run_gate, write_report
from nlu.tools.gate import decide
from tests.integration.stack import ensure_model

pytestmark = pytest.mark.integration


def _scores(macro: float, **per: float) -> dict:
    return {"macro_f1": macro, "per_category": {k: {"f1": v, "support": 10} for k, v in per.items()}}


def test_gate_rules_macro_half_point_and_three_points_per_category() -> None:
    live = _scores(0.900, a=0.90, b=0.90)
    assert decide(live, _scores(0.896, a=0.88, b=0.912)) == (True, [])  # -0.4 macro, -2 points on a
    ok, reasons = decide(live, _scores(0.894, a=0.90, b=0.888))
    assert not ok and "macro-F1 turun 0.60 poin" in reasons[0]
    ok, reasons = decide(live, _scores(0.905, a=0.86, b=0.95))
    assert not ok and len(reasons) == 1 and "kategori a turun 4.00 poin" in reasons[0]


@pytest.fixture(scope="module")
def corrupted_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An NLU-only model trained with every complaint's label moved to the next category."""
    root = tmp_path_factory.mktemp("corrupt")
    nlu_dir = root / "nlu"
    nlu_dir.mkdir()
    files = sorted((REPO_ROOT / "data" / "nlu" / "complaints").glob("*.yml"))
    intents = []
    for path in files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        intents += [b["intent"] for b in doc["nlu"] if b.get("intent")]
    shifted = dict(zip(intents, intents[1:] + intents[:1], strict=True))
    for path in files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for block in doc["nlu"]:
            if block.get("intent") in shifted:
                block["intent"] = shifted[block["intent"]]
        (nlu_dir / path.name).write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    for extra in ("conversation.yml", "dialogue.yml"):
        shutil.copy(REPO_ROOT / "data" / "nlu" / extra, nlu_dir / extra)
    out = root / "out"
    subprocess.run(
        [
            str(RASA_BIN),
            "train",
            "nlu",
            "--config",
            "config.yml",
            "--nlu",
            str(nlu_dir),
            "--out",
            str(out),
            "--fixed-model-name",
            "corrupt",
        ],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    return out / "corrupt.tar.gz"


def test_gate_refuses_a_worse_candidate_and_passes_a_better_one(corrupted_model: Path, tmp_path: Path) -> None:
    good = ensure_model()
    files = NluFiles()
    worse = run_gate(good, corrupted_model, files)
    assert not worse["passed"]
    assert worse["candidate"]["macro_f1"] < worse["live"]["macro_f1"] - 0.3
    assert any("macro-F1 turun" in r for r in worse["reasons"])
    assert any(r.startswith("kategori ") for r in worse["reasons"])
    assert worse["heldout_size"] >= 500  # every held-out file, both models, one run

    better = run_gate(corrupted_model, good, files)
    assert better["passed"] and better["reasons"] == []
    assert better["live"]["macro_f1"] == worse["candidate"]["macro_f1"]  # same sets, same scores

    place = ModelPlace(live=tmp_path / "live.tar.gz", home=tmp_path / "trainer", reports=tmp_path / "reports")
    report = write_report(worse, place, promoted=False, notes=["kandidat disimpan terpisah"])
    text = report.read_text(encoding="utf-8")
    assert "DITOLAK" in text and "macro-F1 turun" in text
    assert (place.reports / "trainer_gate.json").exists()


def test_rollback_without_a_previous_model_says_so(tmp_path: Path) -> None:
    place = ModelPlace(live=tmp_path / "live.tar.gz", home=tmp_path / "trainer", reports=tmp_path / "reports")
    with pytest.raises(Exception, match="Belum ada model sebelumnya"):
        rollback(place, None)
