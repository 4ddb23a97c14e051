"""`aduan nlu eval`: our pipeline against Rasa's default recipe and a TF-IDF + linear SVM baseline.

Same data, same run: each pipeline is trained on data/nlu and scored on the held-out set in
tests/nlu (never used for training), then in stratified k-fold cross-validation over the
training data. Category scores count a complaint filed as `lainnya` (or a greeting filed as a
complaint) against the category, exactly as the bot would route it. Writes reports/nlu.md,
reports/nlu.json and confusion-matrix PNGs.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nlu.tools.common import REPO_ROOT, Parser, category_of, quiet

REPORTS = REPO_ROOT / "reports"
HELDOUT = REPO_ROOT / "tests" / "nlu"
TRAIN = REPO_ROOT / "data" / "nlu"
SEED = 42


@dataclass
class Example:
    text: str
    intent: str

    @property
    def category(self) -> str:
        return category_of(self.intent)


def load_examples(paths: list[Path]) -> list[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    out: list[Example] = []
    for path in paths:
        data = load_data(str(path))
        out += [Example(m.get("text"), m.get("intent")) for m in data.intent_examples]
    return out


def categories() -> list[str]:
    with open(REPO_ROOT / "data" / "categories.yml", encoding="utf-8") as fh:
        return [c["id"] for c in yaml.safe_load(fh)["categories"]]


# --- pipelines -------------------------------------------------------------------------------


def our_config() -> dict[str, Any]:
    with open(REPO_ROOT / "config.yml", encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    return {"recipe": "default.v1", "language": cfg.get("language", "id"), "pipeline": cfg["pipeline"]}


def rasa_default_config(epochs: int | None = None) -> dict[str, Any]:
    """Rasa 3.6's default recipe pipeline (what `rasa init` projects get), language set to id."""
    import rasa.engine.recipes

    path = Path(rasa.engine.recipes.__file__).parent / "config_files" / "default_config.yml"
    with open(path, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    pipeline = copy.deepcopy(cfg["pipeline"])
    if epochs is not None:
        for component in pipeline:
            if "epochs" in component:
                component["epochs"] = epochs
    return {"recipe": "default.v1", "language": "id", "pipeline": pipeline}


@dataclass
class Predictions:
    intents: list[str] = field(default_factory=list)
    raw_intents: list[str] = field(default_factory=list)  # best real intent, before the fallback decision
    confidences: list[float] = field(default_factory=list)
    seconds_train: float = 0.0


def run_rasa(config: dict[str, Any], train: list[Example], test: list[Example], workdir: Path) -> Predictions:
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    workdir.mkdir(parents=True, exist_ok=True)
    data = TrainingData([Message(data={"text": e.text, "intent": e.intent}) for e in train])
    (workdir / "nlu.yml").write_text(RasaYAMLWriter().dumps(data), encoding="utf-8")
    (workdir / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    started = time.monotonic()
    model = train_nlu(str(workdir / "config.yml"), str(workdir / "nlu.yml"), str(workdir), fixed_model_name="m")
    seconds = time.monotonic() - started
    parser = Parser(Path(model))
    out = Predictions(seconds_train=seconds)
    for example in test:
        result = parser.parse(example.text)
        out.intents.append((result.get("intent") or {}).get("name") or "")
        best = next((r for r in result.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"), {})
        out.raw_intents.append(best.get("name") or "")
        out.confidences.append(float(best.get("confidence") or 0.0))
    parser.close()
    return out


def run_svm(train: list[Example], test: list[Example]) -> Predictions:
    """TF-IDF (word 1-2 + char_wb 2-5 n-grams) and a linear SVM on the raw lower-cased text."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    model = make_pipeline(
        make_union(
            TfidfVectorizer(lowercase=True, ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(lowercase=True, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        ),
        LinearSVC(C=1.0, random_state=SEED),
    )
    started = time.monotonic()
    model.fit([e.text for e in train], [e.intent for e in train])
    seconds = time.monotonic() - started
    intents = list(model.predict([e.text for e in test]))
    return Predictions(intents=intents, raw_intents=intents, confidences=[1.0] * len(intents), seconds_train=seconds)


# --- metrics ---------------------------------------------------------------------------------


def scores(gold: list[str], predicted: list[str], labels: list[str]) -> dict[str, Any]:
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    per = {lab: {"precision": p[i], "recall": r[i], "f1": f[i], "support": int(s[i])} for i, lab in enumerate(labels)}
    return {"macro_f1": float(sum(f) / len(f)), "per_category": per}


def category_predictions(preds: Predictions) -> list[str]:
    return [category_of(i) for i in preds.intents]


def non_complaints_filed(test: list[Example], predicted: list[str]) -> tuple[int, int]:
    """How many non-complaint messages (greetings, questions to the bot…) would become tickets."""
    idx = [i for i, e in enumerate(test) if e.category == "lainnya"]
    return sum(1 for i in idx if predicted[i] != "lainnya"), len(idx)


def confusion_png(gold: list[str], predicted: list[str], labels: list[str], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(gold, predicted, labels=labels)
    fig, ax = plt.subplots(figsize=(11, 9))
    ax.imshow(matrix, cmap="Greens")
    ax.set_xticks(range(len(labels)), labels=labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels=labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black",
                )
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def threshold_sweep(test: list[Example], preds: Predictions, labels: list[str]) -> list[dict[str, Any]]:
    """Fallback thresholds scored post hoc from the best real intent and its confidence (no retraining).

    Only the absolute threshold is swept; the ambiguity threshold of config.yml is not applied here.
    """
    rows = []
    for threshold in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        predicted = [
            category_of(i) if c >= threshold else "lainnya"
            for i, c in zip(preds.intents, preds.confidences, strict=True)
        ]
        gold = [e.category for e in test]
        filed, _ = non_complaints_filed(test, predicted)
        to_coordinator = sum(1 for g, p in zip(gold, predicted, strict=True) if g != "lainnya" and p == "lainnya")
        rows.append(
            {
                "threshold": threshold,
                "macro_f1": scores(gold, predicted, labels)["macro_f1"],
                "complaints_to_lainnya": to_coordinator,
                "non_complaints_filed": filed,
            }
        )
    return rows


# --- latency ---------------------------------------------------------------------------------


def latency(model: Path, texts: list[str], n: int = 1000) -> dict[str, float]:
    parser = Parser(model)
    parser.parse("halo")  # warm-up, as the server does before it says ready
    timings = []
    for i in range(n):
        started = time.perf_counter()
        parser.parse(texts[i % len(texts)])
        timings.append((time.perf_counter() - started) * 1000)
    parser.close()
    timings.sort()
    return {
        "n": n,
        "p50_ms": statistics.median(timings),
        "p95_ms": timings[int(0.95 * n) - 1],
        "max_ms": timings[-1],
    }


# --- pipeline-choice sweep --------------------------------------------------------------------

DIET_PIPELINE = [
    {"name": "nlu.components.IndonesianNormalizer"},
    {"name": "WhitespaceTokenizer"},
    {"name": "nlu.components.IndonesianEntityExtractor"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5},
    {
        "name": "DIETClassifier",
        "epochs": 60,
        "entity_recognition": False,
        "constrain_similarities": True,
        "number_of_transformer_layers": 0,
        "random_seed": SEED,
    },
    {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.05},
]


def variant(**overrides: Any) -> dict[str, Any]:
    """Our config with the linear classifier's settings overridden."""
    cfg = our_config()
    for component in cfg["pipeline"]:
        if component["name"].endswith("LinearIntentClassifier"):
            component.update(overrides)
    return cfg


def sweep(train: list[Example], heldout: list[Example], labels: list[str], folds: int, tmp: Path) -> str:
    from sklearn.model_selection import StratifiedKFold

    variants: dict[str, dict[str, Any]] = {
        "linear, word 1-2 + char_wb 2-5, C=1 (chosen)": variant(),
        "linear, char_wb 1-4": variant(char_min_ngram=1, char_max_ngram=4),
        "linear, char_wb 3-6": variant(char_min_ngram=3, char_max_ngram=6),
        "linear, words 1 only": variant(word_max_ngram=1),
        "linear, C=0.5": variant(C=0.5),
        "linear, C=2": variant(C=2.0),
        "DIET (0 transformer layers, 60 epochs), word + char_wb 2-5": {
            "recipe": "default.v1",
            "language": "id",
            "pipeline": DIET_PIPELINE,
        },
    }
    splits = list(
        StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED).split(
            [e.text for e in train], [e.intent for e in train]
        )
    )
    lines = [
        "# NLU pipeline choices",
        "",
        f"Each variant trained on the same data: {folds}-fold stratified cross-validation over the training "
        "set and the held-out set (tests/nlu). Category macro-F1 as in reports/nlu.md.",
        "",
        "| variant | CV macro-F1 | held-out macro-F1 | held-out min F1 |",
        "|---|---|---|---|",
    ]
    for name, cfg in variants.items():
        print(f"sweep: {name}", file=sys.stderr)
        gold: list[str] = []
        predicted: list[str] = []
        for k, (tr_idx, te_idx) in enumerate(splits):
            te = [train[i] for i in te_idx]
            preds = run_rasa(cfg, [train[i] for i in tr_idx], te, tmp / f"sweep-{len(lines)}-{k}")
            gold += [e.category for e in te]
            predicted += category_predictions(preds)
        cv = scores(gold, predicted, labels)
        held_preds = run_rasa(cfg, train, heldout, tmp / f"sweep-{len(lines)}-heldout")
        held = scores([e.category for e in heldout], category_predictions(held_preds), labels)
        worst = min(v["f1"] for v in held["per_category"].values())
        lines.append(f"| {name} | {cv['macro_f1']:.3f} | {held['macro_f1']:.3f} | {worst:.3f} |")
    return "\n".join(lines) + "\n"


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--folds", type=int, default=3)
    args.add_argument("--quick", action="store_true", help="held-out only, no cross-validation")
    args.add_argument(
        "--default-cv-epochs",
        type=int,
        default=10,
        help="epochs of the default recipe inside cross-validation (held-out uses its own 100)",
    )
    args.add_argument("--only", default="", help="comma-separated subset of pipelines (for quick iterations)")
    args.add_argument("--sweep", action="store_true", help="compare pipeline variants -> reports/nlu_sweep.md")
    opts = args.parse_args(argv)
    quiet()
    from sklearn.model_selection import StratifiedKFold

    REPORTS.mkdir(exist_ok=True)
    labels = categories()
    train = load_examples(sorted(TRAIN.rglob("*.yml")))
    heldout = load_examples(sorted((HELDOUT / "heldout").glob("*.yml")) + [HELDOUT / "heldout_conversation.yml"])
    print(f"training examples: {len(train)}, held-out: {len(heldout)}", file=sys.stderr)
    if opts.sweep:
        with tempfile.TemporaryDirectory(prefix="aduan-sweep-") as tmp:
            report = sweep(train, heldout, categories(), opts.folds, Path(tmp))
        (REPORTS / "nlu_sweep.md").write_text(report, encoding="utf-8")
        print(f"wrote {REPORTS / 'nlu_sweep.md'}", file=sys.stderr)
        return 0
    results: dict[str, Any] = {"labels": labels, "train_size": len(train), "heldout_size": len(heldout)}
    pipelines = {
        "ours": lambda tr, te, wd: run_rasa(our_config(), tr, te, wd),
        "rasa_default": lambda tr, te, wd: run_rasa(rasa_default_config(), tr, te, wd),
        "tfidf_svm": lambda tr, te, wd: run_svm(tr, te),
    }
    if opts.only:
        pipelines = {k: v for k, v in pipelines.items() if k in opts.only.split(",")}
    gold = [e.category for e in heldout]
    with tempfile.TemporaryDirectory(prefix="aduan-eval-") as tmp:
        held: dict[str, Any] = {}
        for name, run in pipelines.items():
            print(f"held-out: training {name}", file=sys.stderr)
            preds = run(train, heldout, Path(tmp) / f"heldout-{name}")
            predicted = category_predictions(preds)
            filed, total = non_complaints_filed(heldout, predicted)
            held[name] = {
                **scores(gold, predicted, labels),
                "train_seconds": preds.seconds_train,
                "non_complaints_filed": filed,
                "non_complaints": total,
            }
            confusion_png(
                gold, predicted, [*labels, "lainnya"], f"held-out — {name}", REPORTS / f"confusion_heldout_{name}.png"
            )
            if name == "ours":
                held[name]["threshold_sweep"] = threshold_sweep(heldout, preds, labels)
                held[name]["errors"] = [
                    {"text": e.text, "gold": e.category, "predicted": p}
                    for e, p in zip(heldout, predicted, strict=True)
                    if p != e.category
                ]
        results["heldout"] = held
        if not opts.quick:
            folds = StratifiedKFold(n_splits=opts.folds, shuffle=True, random_state=SEED)
            cv_pipelines = dict(pipelines)
            if "rasa_default" in cv_pipelines:
                cv_pipelines["rasa_default"] = lambda tr, te, wd: run_rasa(
                    rasa_default_config(opts.default_cv_epochs), tr, te, wd
                )
            collected: dict[str, list[str]] = {name: [] for name in cv_pipelines}
            cv_gold: list[str] = []
            cv_train_seconds: Counter[str] = Counter()
            for k, (tr_idx, te_idx) in enumerate(folds.split([e.text for e in train], [e.intent for e in train])):
                tr = [train[i] for i in tr_idx]
                te = [train[i] for i in te_idx]
                cv_gold += [e.category for e in te]
                for name, run in cv_pipelines.items():
                    print(f"fold {k + 1}/{opts.folds}: training {name}", file=sys.stderr)
                    preds = run(tr, te, Path(tmp) / f"fold{k}-{name}")
                    collected[name] += category_predictions(preds)
                    cv_train_seconds[name] += preds.seconds_train
            results["cv"] = {
                "folds": opts.folds,
                "rasa_default_epochs": opts.default_cv_epochs,
                **{
                    name: {**scores(cv_gold, pred, labels), "train_seconds": cv_train_seconds[name]}
                    for name, pred in collected.items()
                },
            }
            if "ours" in collected:
                confusion_png(
                    cv_gold,
                    collected["ours"],
                    [*labels, "lainnya"],
                    f"{opts.folds}-fold cross-validation — ours",
                    REPORTS / "confusion_cv_ours.png",
                )
    model = REPO_ROOT / "models" / "aduan.tar.gz"
    if model.exists():
        print("latency: 1,000 parses with the production model", file=sys.stderr)
        results["latency"] = latency(model, [e.text for e in heldout])
    (REPORTS / "nlu.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    (REPORTS / "nlu.md").write_text(render_report(results), encoding="utf-8")
    print(f"wrote {REPORTS / 'nlu.md'}", file=sys.stderr)
    return 0


def render_report(r: dict[str, Any]) -> str:
    from datetime import date

    names = {
        "ours": "Aduan pipeline (config.yml)",
        "rasa_default": "Rasa default recipe",
        "tfidf_svm": "TF-IDF + linear SVM",
    }
    lines = [
        "# NLU evaluation",
        "",
        f"Generated by `aduan nlu eval` on {date.today().isoformat()}. Training examples: {r['train_size']}; "
        f"held-out examples: {r['heldout_size']} (tests/nlu, written separately, never trained on).",
        "Category scores treat every prediction that is not one of the 13 categories as `lainnya`, "
        "exactly as the bot routes it (a complaint sent to the coordinator counts as a miss; a greeting "
        "filed as a complaint counts against that category's precision).",
        "",
        "## Held-out set",
        "",
        "| pipeline | macro-F1 | min category F1 | non-complaints filed as complaints | training time |",
        "|---|---|---|---|---|",
    ]
    for name, res in r["heldout"].items():
        worst = min(res["per_category"].values(), key=lambda v: v["f1"])["f1"]
        lines.append(
            f"| {names[name]} | {res['macro_f1']:.3f} | {worst:.3f} | "
            f"{res['non_complaints_filed']}/{res['non_complaints']} | {res['train_seconds']:.0f} s |"
        )
    if "cv" in r:
        cv = r["cv"]
        lines += [
            "",
            f"## {cv['folds']}-fold stratified cross-validation (training data)",
            "",
            f"The default recipe runs with {cv['rasa_default_epochs']} epochs inside cross-validation "
            "(its shipped 100 epochs take ~55 min per training on this 2-core machine); the held-out "
            "comparison above uses it unchanged.",
            "",
            "| pipeline | macro-F1 | min category F1 | training time (all folds) |",
            "|---|---|---|---|",
        ]
        for name in [n for n in ("ours", "rasa_default", "tfidf_svm") if n in cv]:
            res = cv[name]
            worst = min(res["per_category"].values(), key=lambda v: v["f1"])["f1"]
            lines.append(f"| {names[name]} | {res['macro_f1']:.3f} | {worst:.3f} | {res['train_seconds']:.0f} s |")
    ours = r["heldout"]["ours"]
    lines += [
        "",
        "## Per category — our pipeline, held-out",
        "",
        "| category | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for cat, v in ours["per_category"].items():
        lines.append(f"| {cat} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |")
    lines += [
        "",
        "![held-out confusion matrix](confusion_heldout_ours.png)",
        "",
        "## Fallback threshold (held-out, our pipeline, scored post hoc)",
        "",
        "| threshold | macro-F1 | complaints sent to `lainnya` | non-complaints filed |",
        "|---|---|---|---|",
    ]
    for row in ours["threshold_sweep"]:
        lines.append(
            f"| {row['threshold']:.1f} | {row['macro_f1']:.3f} | {row['complaints_to_lainnya']} | "
            f"{row['non_complaints_filed']} |"
        )
    if "latency" in r:
        lat = r["latency"]
        lines += [
            "",
            "## Parse latency (production model, in-process, after warm-up)",
            "",
            f"{lat['n']} messages: p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms, max {lat['max_ms']:.1f} ms.",
        ]
    if ours["errors"]:
        lines += ["", "## Held-out errors of our pipeline", "", "| text | gold | predicted |", "|---|---|---|"]
        for err in ours["errors"]:
            text = err["text"].replace("|", "/")
            lines.append(f"| {text} | {err['gold']} | {err['predicted']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
