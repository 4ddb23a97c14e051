"""The retraining gate: score the live and the candidate model on the same held-out sets, in one run.

The candidate passes only if its macro-F1 over the complaint categories drops by at most
0.5 points and no category's F1 drops by more than 3 points. Runs in the Rasa env:

    python -m nlu.tools.gate --live models/aduan.tar.gz --candidate models/candidates/x.tar.gz \
        --heldout tests/nlu/heldout/*.yml ... --json out.json

Only the NLU part of each model is loaded (nlu.tools.common.Parser), so this never touches the
running Rasa server.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from nlu.tools.common import FALLBACK_CATEGORY, REPO_ROOT, Parser, category_of, quiet

MAX_MACRO_DROP = 0.005
MAX_CATEGORY_DROP = 0.03


def categories() -> list[str]:
    with open(REPO_ROOT / "data" / "categories.yml", encoding="utf-8") as fh:
        return [c["id"] for c in yaml.safe_load(fh)["categories"]]


def load_heldout(paths: list[Path]) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    out: list[tuple[str, str]] = []
    for path in paths:
        data = load_data(str(path))
        out += [(m.get("text"), m.get("intent")) for m in data.intent_examples]
    return out


def f1_scores(gold: list[str], predicted: list[str], labels: list[str]) -> dict[str, Any]:
    """Per-category F1 and their macro average over `labels` (non-complaints count as `lainnya`)."""
    per: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[label] = {"f1": f1, "precision": precision, "recall": recall, "support": tp + fn}
    scored = [label for label in labels if per[label]["support"] > 0]
    macro = sum(per[label]["f1"] for label in scored) / len(scored) if scored else 0.0
    return {"macro_f1": macro, "per_category": per}


def score(model: Path, examples: list[tuple[str, str]], labels: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    parser = Parser(model)
    try:
        parsed = parser.parse_many([text for text, _ in examples])
    finally:
        parser.close()
    gold = [category_of(intent) for _, intent in examples]
    predicted = [category_of((p.get("intent") or {}).get("name")) for p in parsed]
    result = f1_scores(gold, predicted, labels)
    confusions = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    result["confusions"] = [{"gold": g, "predicted": p, "count": n} for (g, p), n in confusions.most_common(15)]
    result["intent_accuracy"] = sum(
        1 for (_, intent), p in zip(examples, parsed, strict=True) if (p.get("intent") or {}).get("name") == intent
    ) / max(len(examples), 1)
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def decide(live: dict[str, Any], candidate: dict[str, Any]) -> tuple[bool, list[str]]:
    """Promote only if the candidate is not worse than allowed; the reasons say why not."""
    reasons = []
    drop = live["macro_f1"] - candidate["macro_f1"]
    if drop > MAX_MACRO_DROP:
        reasons.append(
            f"macro-F1 turun {drop * 100:.2f} poin ({live['macro_f1']:.4f} -> {candidate['macro_f1']:.4f}); "
            f"batas {MAX_MACRO_DROP * 100:.1f} poin"
        )
    for label, before in live["per_category"].items():
        after = candidate["per_category"].get(label, {"f1": 0.0})
        if before["support"] and before["f1"] - after["f1"] > MAX_CATEGORY_DROP:
            reasons.append(
                f"kategori {label} turun {(before['f1'] - after['f1']) * 100:.2f} poin "
                f"({before['f1']:.4f} -> {after['f1']:.4f}); batas {MAX_CATEGORY_DROP * 100:.0f} poin"
            )
    return not reasons, reasons


def compare(live: Path, candidate: Path, heldout: list[Path]) -> dict[str, Any]:
    examples = load_heldout(heldout)
    labels = categories()
    live_score = score(live, examples, labels)
    candidate_score = score(candidate, examples, labels)
    passed, reasons = decide(live_score, candidate_score)
    return {
        "live_model": str(live),
        "candidate_model": str(candidate),
        "heldout_files": [str(p) for p in heldout],
        "heldout_size": len(examples),
        "labels": labels,
        "fallback_label": FALLBACK_CATEGORY,
        "live": live_score,
        "candidate": candidate_score,
        "passed": passed,
        "reasons": reasons,
        "rules": {"max_macro_f1_drop": MAX_MACRO_DROP, "max_category_f1_drop": MAX_CATEGORY_DROP},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", type=Path, required=True)
    parser.add_argument("--candidate", type=Path, required=True)
    parser.add_argument("--heldout", type=Path, nargs="+", required=True)
    parser.add_argument("--json", type=Path, help="write the comparison here (else stdout)")
    args = parser.parse_args(argv)
    quiet()
    result = compare(args.live, args.candidate, args.heldout)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
