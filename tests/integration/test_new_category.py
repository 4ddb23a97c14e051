"""A city adds a 14th category: categories.yml + a file of examples, then `make train` (issue 8).

The project is copied to a temporary folder; only `data/categories.yml` and the new examples
file change there. The generator (the first step of `make train`) and `rasa train` must then
produce a model that knows the new category, with no edit to domain.yml, rules or code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from bot.domain.categories import load_taxonomy
from tests.integration.stack import APP_PYTHON, RASA_BIN, REPO_ROOT

EXAMPLES = """version: "3.1"
nlu:
- intent: complaint_pemakaman
  examples: |
    - makam keluarga sy digusur tanpa pemberitahuan
    - tpu penuh tidak bisa menguburkan
    - biaya pemakaman di tpu mahal sekali
    - petugas makam minta uang tambahan
    - kuburan di tpu tidak terawat rumputnya tinggi
    - izin pemakaman lama keluarnya
    - lahan makam habis min
    - nisan makam ortu hilang
    - retribusi makam naik terus
    - jalan ke pemakaman umum becek
    - tpu kebanjiran makam amblas
    - juru kunci makam tidak ada
    - mau makamkan jenazah tapi tpu tutup
    - makam dibongkar tanpa izin ahli waris
    - area pemakaman gelap dan kumuh
    - perpanjangan sewa makam dipersulit
    - pemakaman warga miskin ditolak
    - tanah kuburan longsor nisan roboh
"""

CATEGORY = """  - id: pemakaman
    label: Pemakaman
    description: TPU, lahan makam, retribusi dan izin pemakaman
    opd: dpupr
    sla_days: 5
"""


def test_a_fourteenth_category_needs_only_categories_yml_and_its_examples(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("domain.yml", "config.yml"):
        shutil.copy(REPO_ROOT / name, project / name)
    shutil.copytree(REPO_ROOT / "data", project / "data")
    shutil.copytree(REPO_ROOT / "nlu", project / "nlu", ignore=shutil.ignore_patterns("__pycache__"))
    domain_before = (project / "domain.yml").read_text()

    categories = project / "data" / "categories.yml"
    text = categories.read_text()
    anchor = "\n# Fallback for complaints"
    categories.write_text(text.replace(anchor, "\n" + CATEGORY + anchor, 1))
    (project / "data" / "nlu" / "complaints" / "pemakaman.yml").write_text(EXAMPLES)
    assert "pemakaman" in load_taxonomy(categories).categories

    env = {**os.environ, "PYTHONPATH": str(project)}
    # `make train` = the generator, then `rasa train`.
    subprocess.run([str(APP_PYTHON), "-m", "nlu.tools.categories"], cwd=project, env=env, check=True)
    assert "complaint_pemakaman" in (project / "domain.yml").read_text()
    assert (project / "domain.yml").read_text() != domain_before
    validate = subprocess.run(
        [str(RASA_BIN), "data", "validate"], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert validate.returncode == 0, (validate.stdout + validate.stderr)[-2000:]
    subprocess.run(
        [str(RASA_BIN), "train", "--fixed-model-name", "aduan", "--out", "models"],
        cwd=project,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    predicted = subprocess.run(
        [str(RASA_BIN.parent / "python"), "-m", "nlu.tools.predict", "--model", "models/aduan.tar.gz"],
        cwd=project,
        env=env,
        input="makam keluarga sy digusur tanpa pemberitahuan\nlahan tpu sudah penuh min\n",
        capture_output=True,
        text=True,
        check=True,
    )
    intents = [json.loads(line)["intent"] for line in predicted.stdout.splitlines() if line.strip()]
    assert intents == ["complaint_pemakaman", "complaint_pemakaman"], predicted.stdout
