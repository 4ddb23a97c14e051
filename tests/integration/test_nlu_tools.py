"""`aduan nlu predict`: one JSON object per input line, categories from the taxonomy or `lainnya`."""

from __future__ import annotations

import json
import subprocess

from bot.config import REPO_ROOT
from bot.domain.categories import load_taxonomy
from tests.integration.stack import ensure_model

ADUAN = REPO_ROOT / ".venv" / "bin" / "aduan"


def test_predict_reads_text_and_jsonl_and_keeps_line_count() -> None:
    ensure_model()
    lines = [
        "min jalan depan SD 3 berlubang bgt, udh 2 org jatuh",
        json.dumps({"text": "bansos sy blm cair udh 3 bulan"}),
        "",
        "halo min, selamat pagi",
        "lampu pju di gang mawar mati sejak seminggu",
    ]
    result = subprocess.run(
        [str(ADUAN), "nlu", "predict", "-"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(lines)
    assert all(set(r) == {"text", "intent", "category", "confidence"} for r in rows)
    valid = set(load_taxonomy().categories) | {"lainnya"}
    assert all(r["category"] in valid for r in rows)
    assert [r["category"] for r in rows] == ["infrastruktur", "bansos", "lainnya", "lainnya", "penerangan_jalan"]
    assert rows[1]["text"] == "bansos sy blm cair udh 3 bulan"
    assert rows[3]["intent"] == "greet"
