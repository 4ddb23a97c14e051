"""`aduan nlu eval`: our pipeline against Rasa's default recipe and a TF-IDF + linear SVM baseline.

Same data, same run: each pipeline is trained once on data/nlu and scored on both held-out sets
in tests/nlu (chat-style and formal, never used for training or for choosing anything), then in
stratified k-fold cross-validation over the training data, which is where settings, the fallback
threshold and the confirmation threshold are chosen. Category scores count a complaint filed as
`lainnya` (or a greeting or a question filed as a complaint) against the category, exactly as
the bot would route it; `faq` / `faq/<topic>` and every other non-complaint intent is `lainnya`.
Writes reports/nlu.md, reports/nlu.json and confusion-matrix PNGs.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nlu.tools.common import FALLBACK_CATEGORY, REPO_ROOT, Parser, category_of, quiet

REPORTS = REPO_ROOT / "reports"
HELDOUT = REPO_ROOT / "tests" / "nlu"
TRAIN = REPO_ROOT / "data" / "nlu"
SEED = 42
CONFIRM_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
FALLBACK_THRESHOLDS = (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)
AMBIGUITY_THRESHOLDS = (0.0, 0.05)
DEFAULT_CONFIRM_BELOW = 0.6  # actions/common.py CONFIRM_BELOW today (owned by the conversation code)


@dataclass
class Example:
    text: str
    intent: str  # base intent, as intent classifiers see it ("faq" for "faq/kk")
    full_intent: str = ""  # with the retrieval sub-intent, as written in the data
    source: str = ""

    def __post_init__(self) -> None:
        self.full_intent = self.full_intent or self.intent

    @property
    def category(self) -> str:
        return category_of(self.intent)


def load_examples(paths: list[Path], source: str = "") -> list[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    out: list[Example] = []
    for path in paths:
        data = load_data(str(path))
        out += [
            Example(m.get("text"), m.get("intent"), m.get_full_intent(), source or str(path))
            for m in data.intent_examples
        ]
    return out


def heldout_sets() -> dict[str, list[Example]]:
    """The chat-style set (complaints + conversation) and, once written, the formal set."""
    sets = {
        "chat": load_examples(sorted((HELDOUT / "heldout").glob("*.yml")), "chat")
        + load_examples([HELDOUT / "heldout_conversation.yml"], "conversation"),
    }
    formal = sorted((HELDOUT / "heldout_formal").glob("*.yml"))
    if formal:
        sets["formal"] = load_examples(formal, "formal")
    return sets


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
    runner_up: list[float] = field(default_factory=list)  # the second real intent's confidence
    seconds_train: float = 0.0
    model: Path | None = None
    calibrated: bool = True  # False: no meaningful confidence (the SVM baseline)

    def subset(self, idx: list[int]) -> Predictions:
        return Predictions(
            [self.intents[i] for i in idx],
            [self.raw_intents[i] for i in idx],
            [self.confidences[i] for i in idx],
            [self.runner_up[i] for i in idx] if self.runner_up else [],
            self.seconds_train,
            self.model,
            self.calibrated,
        )

    def extend(self, other: Predictions) -> None:
        self.intents += other.intents
        self.raw_intents += other.raw_intents
        self.confidences += other.confidences
        self.runner_up += other.runner_up
        self.seconds_train += other.seconds_train
        self.calibrated = other.calibrated


def run_rasa(config: dict[str, Any], train: list[Example], test: list[Example], workdir: Path) -> Predictions:
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    workdir.mkdir(parents=True, exist_ok=True)
    data = TrainingData([Message.build(text=e.text, intent=e.full_intent) for e in train])
    (workdir / "nlu.yml").write_text(RasaYAMLWriter().dumps(data), encoding="utf-8")
    (workdir / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    started = time.monotonic()
    model = train_nlu(str(workdir / "config.yml"), str(workdir / "nlu.yml"), str(workdir), fixed_model_name="m")
    seconds = time.monotonic() - started
    parser = Parser(Path(model))
    out = Predictions(seconds_train=seconds, model=Path(model))
    for start in range(0, len(test), 64):
        for result in parser.parse_many([e.text for e in test[start : start + 64]]):
            out.intents.append((result.get("intent") or {}).get("name") or "")
            real = [r for r in result.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
            best = real[0] if real else {}
            out.raw_intents.append(best.get("name") or "")
            out.confidences.append(float(best.get("confidence") or 0.0))
            out.runner_up.append(float(real[1].get("confidence") or 0.0) if len(real) > 1 else 0.0)
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
    intents = [str(i) for i in model.predict([e.text for e in test])]
    return Predictions(intents, intents, [1.0] * len(intents), [0.0] * len(intents), seconds, calibrated=False)


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


def expected_calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """Top-choice ECE: |accuracy - mean confidence| per confidence decile, weighted by its size."""
    buckets: dict[int, list[tuple[float, bool]]] = {}
    for c, ok in zip(confidences, correct, strict=True):
        buckets.setdefault(min(int(c * bins), bins - 1), []).append((c, ok))
    total = 0.0
    for items in buckets.values():
        accuracy = sum(ok for _, ok in items) / len(items)
        mean_conf = sum(c for c, _ in items) / len(items)
        total += abs(accuracy - mean_conf) * len(items)
    return total / max(len(confidences), 1)


def calibration(test: list[Example], preds: Predictions) -> float:
    """ECE of the best real intent's confidence; 'right' = the category (or non-complaint) it routes to."""
    correct = [category_of(i) == e.category for e, i in zip(test, preds.raw_intents, strict=True)]
    return expected_calibration_error(preds.confidences, correct)


def confirmation(test: list[Example], preds: Predictions, threshold: float) -> dict[str, Any]:
    """Messages routed to a category with confidence below `threshold` get the category buttons."""
    routed = [
        (e, i, c)
        for e, i, c in zip(test, preds.intents, preds.confidences, strict=True)
        if category_of(i) != FALLBACK_CATEGORY
    ]
    low = [(e, i) for e, i, c in routed if c < threshold]
    high = [(e, i) for e, i, c in routed if c >= threshold]
    return {
        "threshold": threshold,
        "routed": len(routed),
        "buttons": len(low),
        "rate": len(low) / max(len(routed), 1),
        "accuracy_buttons": sum(category_of(i) == e.category for e, i in low) / max(len(low), 1),
        "accuracy_no_buttons": sum(category_of(i) == e.category for e, i in high) / max(len(high), 1),
    }


def fallback_sweep(test: list[Example], preds: Predictions, labels: list[str]) -> list[dict[str, Any]]:
    """Fallback and ambiguity thresholds scored post hoc from the two best real intents (no retraining).

    As Rasa's FallbackClassifier: `lainnya` when the best confidence is below the threshold or the
    two best are closer than the ambiguity threshold.
    """
    gold = [e.category for e in test]
    runner_up = preds.runner_up or [0.0] * len(preds.confidences)
    rows = []
    for ambiguity in AMBIGUITY_THRESHOLDS:
        for threshold in FALLBACK_THRESHOLDS:
            predicted = [
                category_of(i) if c >= threshold and c - r >= ambiguity else FALLBACK_CATEGORY
                for i, c, r in zip(preds.raw_intents, preds.confidences, runner_up, strict=True)
            ]
            filed, _ = non_complaints_filed(test, predicted)
            lost = sum(1 for g, p in zip(gold, predicted, strict=True) if g != "lainnya" and p == "lainnya")
            rows.append(
                {
                    "threshold": threshold,
                    "ambiguity": ambiguity,
                    "macro_f1": scores(gold, predicted, labels)["macro_f1"],
                    "complaints_to_lainnya": lost,
                    "non_complaints_filed": filed,
                }
            )
    return rows


def summarize(test: list[Example], preds: Predictions, labels: list[str], confirm_below: float) -> dict[str, Any]:
    """Every number the report shows for one pipeline on one set."""
    predicted = category_predictions(preds)
    gold = [e.category for e in test]
    out: dict[str, Any] = {**scores(gold, predicted, labels), "train_seconds": preds.seconds_train}
    filed, total = non_complaints_filed(test, predicted)
    out["non_complaints_filed"], out["non_complaints"] = filed, total
    conv = [i for i, e in enumerate(test) if e.source == "conversation"]
    if conv:
        out["conversation_kept_out"] = sum(predicted[i] == "lainnya" for i in conv) / len(conv)
        out["conversation_total"] = len(conv)
    questions = [i for i, e in enumerate(test) if e.intent == "faq"]
    out["questions_filed"] = sum(predicted[i] != "lainnya" for i in questions)
    out["questions"] = len(questions)
    if preds.calibrated:
        out["ece"] = calibration(test, preds)
        out["confirmation"] = [confirmation(test, preds, t) for t in CONFIRM_THRESHOLDS]
        out["confirmation_at"] = confirmation(test, preds, confirm_below)
    return out


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


# --- cross-validation and the pipeline-choice sweep -------------------------------------------


def cross_validate(
    run: Any, train: list[Example], folds: int, tmp: Path, name: str
) -> tuple[list[Example], Predictions]:
    """Out-of-fold predictions for every training example (stratified by intent, fixed seed)."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    ordered: list[Example] = []
    collected = Predictions(seconds_train=0.0)
    for k, (tr_idx, te_idx) in enumerate(splitter.split([e.text for e in train], [e.intent for e in train])):
        print(f"fold {k + 1}/{folds}: training {name}", file=sys.stderr)
        te = [train[i] for i in te_idx]
        collected.extend(run([train[i] for i in tr_idx], te, tmp / f"fold{k}-{name}"))
        ordered += te
    return ordered, collected


def run_linear(overrides: dict[str, Any], train: list[Example], test: list[Example]) -> Predictions:
    """Our normalizer + linear classifier without the Rasa graph (same code, same settings; fast for sweeps)."""
    import numpy as np

    from nlu.classifier import LinearIntentClassifier, build_model, fit_temperature, probabilities
    from nlu.normalize import normalize

    cfg = {**LinearIntentClassifier.get_default_config(), **classifier_settings(), **overrides}
    texts = [normalize(e.text) for e in train]
    labels = np.asarray([e.intent for e in train])
    started = time.monotonic()
    temperature = fit_temperature(cfg, texts, labels) if cfg["calibration"] == "temperature" else cfg["temperature"]
    model = build_model(cfg, list(labels))
    model.fit(texts, labels)
    seconds = time.monotonic() - started
    probs = probabilities(model, [normalize(e.text) for e in test], temperature)
    order = np.argsort(-probs, axis=1)
    intents = [str(model.classes_[row[0]]) for row in order]
    confidences = [float(probs[i, row[0]]) for i, row in enumerate(order)]
    runner_up = [float(probs[i, row[1]]) if len(row) > 1 else 0.0 for i, row in enumerate(order)]
    threshold, ambiguity = fallback_settings()
    decided = [
        i if c >= threshold and c - r >= ambiguity else "nlu_fallback"
        for i, c, r in zip(intents, confidences, runner_up, strict=True)
    ]
    return Predictions(decided, intents, confidences, runner_up, seconds)


def classifier_settings() -> dict[str, Any]:
    for component in our_config()["pipeline"]:
        if component["name"].endswith("LinearIntentClassifier"):
            return {k: v for k, v in component.items() if k != "name"}
    return {}


def fallback_settings() -> tuple[float, float]:
    """FallbackClassifier's threshold and ambiguity threshold in config.yml."""
    for component in our_config()["pipeline"]:
        if component["name"] == "FallbackClassifier":
            return float(component.get("threshold", 0.3)), float(component.get("ambiguity_threshold", 0.1))
    return 0.0, 0.0


def sweep(train: list[Example], labels: list[str], folds: int, tmp: Path) -> str:
    """Settings compared by cross-validation on the training data only (held-out sets never touched)."""
    variants: dict[str, dict[str, Any]] = {
        "config.yml (fitted temperature, chosen)": {},
        "softmax, fixed temperature 0.1 (before)": {"calibration": "", "temperature": 0.1},
        "CalibratedClassifierCV sigmoid, 5 folds": {"calibration": "sigmoid"},
        "CalibratedClassifierCV isotonic, 5 folds": {"calibration": "isotonic"},
        "fitted temperature, class_weight balanced": {"calibration": "temperature", "class_weight": "balanced"},
        "fitted temperature, C=0.5": {"calibration": "temperature", "C": 0.5},
        "fitted temperature, C=2": {"calibration": "temperature", "C": 2.0},
        "fitted temperature, C=0.5, balanced": {"calibration": "temperature", "C": 0.5, "class_weight": "balanced"},
        "fitted temperature, word 1-3 grams": {"calibration": "temperature", "word_max_ngram": 3},
        "fitted temperature, char 1-5 grams": {"calibration": "temperature", "char_min_ngram": 1},
    }
    lines = [
        "# NLU pipeline choices",
        "",
        f"Each variant of our normalizer + linear classifier in {folds}-fold stratified cross-validation over "
        "the training data (data/nlu) only; the held-out sets in tests/nlu are never used to choose. Same "
        "code as the Rasa component, run without the Rasa graph (`run_linear`). Category macro-F1 as in "
        "reports/nlu.md, with the fallback threshold of config.yml; ECE = expected calibration error of "
        "the top choice (10 bins); buttons = share of messages routed to a category whose confidence is "
        "below 0.6, and how often the top choice was right for them and for the rest. The last columns "
        "score the same out-of-fold predictions post hoc with other fallback thresholds (t) and ambiguity "
        "thresholds (a: the two best closer than this also fall back, as Rasa's FallbackClassifier does).",
        "",
        "| variant | macro-F1 | min F1 | ECE | buttons < 0.6 | right with buttons | right without | "
        + " | ".join(f"t {t:.2f} a {a:.2f}" for a in AMBIGUITY_THRESHOLDS for t in FALLBACK_THRESHOLDS)
        + " | training (all folds) |",
        "|---|---|---|---|---|---|---|" + "---|" * (len(FALLBACK_THRESHOLDS) * len(AMBIGUITY_THRESHOLDS)) + "---|",
    ]
    for name, overrides in variants.items():
        print(f"sweep: {name}", file=sys.stderr)
        ordered, preds = cross_validate(
            lambda tr, te, wd, o=overrides: run_linear(o, tr, te), train, folds, tmp, "ours"
        )
        s = summarize(ordered, preds, labels, DEFAULT_CONFIRM_BELOW)
        worst = min(v["f1"] for v in s["per_category"].values())
        conf = s["confirmation_at"]
        fb = " | ".join(f"{row['macro_f1']:.3f}" for row in fallback_sweep(ordered, preds, labels))
        lines.append(
            f"| {name} | {s['macro_f1']:.3f} | {worst:.3f} | {s['ece']:.3f} | {conf['rate']:.1%} | "
            f"{conf['accuracy_buttons']:.1%} | {conf['accuracy_no_buttons']:.1%} | {fb} | {preds.seconds_train:.0f} s |"
        )
    return "\n".join(lines) + "\n"


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--folds", type=int, default=3)
    args.add_argument("--quick", action="store_true", help="held-out only, no cross-validation")
    args.add_argument(
        "--default-cv-epochs", type=int, default=10, help="epochs of the default recipe inside cross-validation"
    )
    args.add_argument(
        "--default-epochs",
        type=int,
        default=0,
        help="epochs of the default recipe for the held-out sets (0 = as shipped, 100)",
    )
    args.add_argument("--confirm-below", type=float, default=DEFAULT_CONFIRM_BELOW, help="confirmation threshold")
    args.add_argument("--only", default="", help="comma-separated subset of pipelines (for quick iterations)")
    args.add_argument("--sweep", action="store_true", help="compare pipeline variants by CV -> reports/nlu_sweep.md")
    args.add_argument("--render", action="store_true", help="only re-render reports/nlu.md from reports/nlu.json")
    opts = args.parse_args(argv)
    if opts.render:
        results = json.loads((REPORTS / "nlu.json").read_text(encoding="utf-8"))
        (REPORTS / "nlu.md").write_text(render_report(results), encoding="utf-8")
        return 0
    quiet()

    REPORTS.mkdir(exist_ok=True)
    labels = categories()
    train = load_examples(sorted(TRAIN.rglob("*.yml")))
    if opts.sweep:
        with tempfile.TemporaryDirectory(prefix="aduan-sweep-") as tmp:
            report = sweep(train, labels, opts.folds, Path(tmp))
        (REPORTS / "nlu_sweep.md").write_text(report, encoding="utf-8")
        print(f"wrote {REPORTS / 'nlu_sweep.md'}", file=sys.stderr)
        return 0
    sets = heldout_sets()
    heldout = [e for examples in sets.values() for e in examples]
    print(f"training examples: {len(train)}, held-out: {len(heldout)}", file=sys.stderr)
    results: dict[str, Any] = {
        "labels": labels,
        "train_size": len(train),
        "train_formal": sum("complaints_formal" in e.source for e in train),
        "sets": {name: len(examples) for name, examples in sets.items()},
        "confirm_below": opts.confirm_below,
        "default_epochs": opts.default_epochs or 100,
    }
    pipelines = {
        "ours": lambda tr, te, wd: run_rasa(our_config(), tr, te, wd),
        "rasa_default": lambda tr, te, wd: run_rasa(rasa_default_config(opts.default_epochs or None), tr, te, wd),
        "tfidf_svm": lambda tr, te, wd: run_svm(tr, te),
    }
    if opts.only:
        pipelines = {k: v for k, v in pipelines.items() if k in opts.only.split(",")}
    with tempfile.TemporaryDirectory(prefix="aduan-eval-") as tmp:
        results["heldout"] = {name: {} for name in sets}
        for name, run in pipelines.items():
            print(f"held-out: training {name} once, scoring every set", file=sys.stderr)
            preds = run(train, heldout, Path(tmp) / f"heldout-{name}")
            start = 0
            for set_name, examples in sets.items():
                idx = list(range(start, start + len(examples)))
                start += len(examples)
                part = preds.subset(idx)
                summary = summarize(examples, part, labels, opts.confirm_below)
                predicted = category_predictions(part)
                if name == "ours":
                    summary["errors"] = [
                        {"text": e.text, "gold": e.category, "predicted": p, "confidence": c}
                        for e, p, c in zip(examples, predicted, part.confidences, strict=True)
                        if p != e.category
                    ]
                results["heldout"][set_name][name] = summary
                confusion_png(
                    [e.category for e in examples],
                    predicted,
                    [*labels, "lainnya"],
                    f"held-out {set_name} — {name}",
                    REPORTS / f"confusion_{set_name}_{name}.png",
                )
            if name == "ours" and preds.model is not None:
                print("latency: 1,000 parses with our held-out model", file=sys.stderr)
                results["latency"] = latency(preds.model, [e.text for e in heldout])
        if not opts.quick:
            cv_pipelines = dict(pipelines)
            if "rasa_default" in cv_pipelines:
                cv_pipelines["rasa_default"] = lambda tr, te, wd: run_rasa(
                    rasa_default_config(opts.default_cv_epochs), tr, te, wd
                )
            results["cv"] = {"folds": opts.folds, "rasa_default_epochs": opts.default_cv_epochs}
            for name, run in cv_pipelines.items():
                ordered, preds = cross_validate(run, train, opts.folds, Path(tmp) / "cv", name)
                summary = summarize(ordered, preds, labels, opts.confirm_below)
                if name == "ours":
                    summary["fallback_sweep"] = fallback_sweep(ordered, preds, labels)
                    confusion_png(
                        [e.category for e in ordered],
                        category_predictions(preds),
                        [*labels, "lainnya"],
                        f"{opts.folds}-fold cross-validation — ours",
                        REPORTS / "confusion_cv_ours.png",
                    )
                results["cv"][name] = summary
    (REPORTS / "nlu.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    (REPORTS / "nlu.md").write_text(render_report(results), encoding="utf-8")
    print(f"wrote {REPORTS / 'nlu.md'}", file=sys.stderr)
    return 0


NAMES = {
    "ours": "Aduan pipeline (config.yml)",
    "rasa_default": "Rasa default recipe",
    "tfidf_svm": "TF-IDF + linear SVM",
}
SET_TITLES = {
    "chat": "chat-style held-out set (tests/nlu/heldout + heldout_conversation.yml)",
    "formal": "formal held-out set (tests/nlu/heldout_formal)",
}


def _worst(res: dict[str, Any]) -> float:
    return float(min(v["f1"] for v in res["per_category"].values()))


def render_report(r: dict[str, Any]) -> str:
    from datetime import date

    sets = list(r["heldout"])
    lines = [
        "# NLU evaluation",
        "",
        f"Generated by one run of `aduan nlu eval` on {date.today().isoformat()}. Training examples: "
        f"{r['train_size']} (of which {r['train_formal']} formal complaints in data/nlu/complaints_formal). "
        "Held-out sets (tests/nlu, written separately, never trained on, never used to choose a setting): "
        + ", ".join(f"{name} {n}" for name, n in r["sets"].items())
        + ".",
        "",
        "Category scores treat every prediction that is not one of the 13 categories as `lainnya`, exactly "
        "as the bot routes it: a complaint sent to the coordinator counts as a miss; a greeting or a question "
        "(`faq`) filed as a complaint counts against that category's precision. Each pipeline is trained once "
        "on all training data and scores every held-out set. Settings, the fallback threshold and the "
        "confirmation threshold are chosen by cross-validation on the training data only "
        "(reports/nlu_sweep.md and the tables below).",
        "",
        f"Rasa's default recipe runs with {r['default_epochs']} epochs for the held-out sets"
        + (
            f" and {r['cv']['rasa_default_epochs']} epochs inside cross-validation"
            if "cv" in r and "rasa_default" in r["cv"]
            else ""
        )
        + " (its shipped 100 epochs take ~55 min per training on this 2-core machine when idle; it is shared).",
        "",
        "## Summary",
        "",
        "| pipeline | "
        + " | ".join(f"{s} macro-F1" for s in sets)
        + " | CV macro-F1 | conversation kept out | questions (`faq`) filed | training |",
        "|---|" + "---|" * len(sets) + "---|---|---|---|",
    ]
    for name in NAMES:
        if name not in r["heldout"][sets[0]]:
            continue
        chat = r["heldout"]["chat"][name]
        cv = r.get("cv", {}).get(name)
        kept = chat.get("conversation_kept_out")
        questions = sum(r["heldout"][s][name]["questions_filed"] for s in sets)
        total_q = sum(r["heldout"][s][name]["questions"] for s in sets)
        cv_cell = f"{cv['macro_f1']:.3f}" if cv is not None else "–"
        kept_cell = f"{kept:.1%} of {chat['conversation_total']}" if kept is not None else "–"
        lines.append(
            f"| {NAMES[name]} | "
            + " | ".join(f"{r['heldout'][s][name]['macro_f1']:.3f}" for s in sets)
            + f" | {cv_cell} | {kept_cell} | {questions}/{total_q} | {chat['train_seconds']:.0f} s |"
        )
    for s in sets:
        lines += [
            "",
            f"## {SET_TITLES.get(s, s)}",
            "",
            "| pipeline | macro-F1 | min category F1 | non-complaints filed as complaints | ECE |",
            "|---|---|---|---|---|",
        ]
        for name, res in r["heldout"][s].items():
            ece = f"{res['ece']:.3f}" if "ece" in res else "– (no confidence)"
            lines.append(
                f"| {NAMES[name]} | {res['macro_f1']:.3f} | {_worst(res):.3f} | "
                f"{res['non_complaints_filed']}/{res['non_complaints']} | {ece} |"
            )
    if "cv" in r:
        cv = r["cv"]
        lines += [
            "",
            f"## {cv['folds']}-fold stratified cross-validation (training data)",
            "",
            "| pipeline | macro-F1 | min category F1 | ECE | training time (all folds) |",
            "|---|---|---|---|---|",
        ]
        for name in [n for n in NAMES if n in cv]:
            res = cv[name]
            ece = f"{res['ece']:.3f}" if "ece" in res else "–"
            lines.append(
                f"| {NAMES[name]} | {res['macro_f1']:.3f} | {_worst(res):.3f} | {ece} | {res['train_seconds']:.0f} s |"
            )
    columns = [(s, n) for s in sets for n in NAMES if n in r["heldout"][s]]
    if "cv" in r and "ours" in r["cv"]:
        columns.append(("cv", "ours"))
    lines += [
        "",
        "## Per-category F1",
        "",
        "| category | " + " | ".join(f"{s} · {n}" for s, n in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for cat in r["labels"]:
        cells = []
        for s, n in columns:
            res = r["cv"][n] if s == "cv" else r["heldout"][s][n]
            cells.append(f"{res['per_category'][cat]['f1']:.3f}")
        lines.append(f"| {cat} | " + " | ".join(cells) + " |")
    lines += ["", *[f"![{s} confusion matrix, ours](confusion_{s}_ours.png)" for s in sets]]
    lines += [
        "",
        "## Confidence and the category-confirmation buttons (our pipeline)",
        "",
        "A message routed to a category with a confidence below the confirmation threshold gets the "
        "category buttons (actions/common.py `CONFIRM_BELOW`, today 0.6). Rate = share of routed messages "
        "that would get buttons; the two accuracies say how often the top choice was right with and "
        "without buttons. The threshold is chosen on the cross-validation rows; the held-out rows only "
        "report it.",
        "",
        "| data | threshold | routed | buttons | rate | top choice right (buttons) | right (no buttons) |",
        "|---|---|---|---|---|---|---|",
    ]
    sources = ([("cross-validation", r["cv"]["ours"])] if "cv" in r and "ours" in r["cv"] else []) + [
        (f"held-out {s}", r["heldout"][s]["ours"]) for s in sets if "ours" in r["heldout"][s]
    ]
    for label, res in sources:
        rows = res["confirmation"] if label == "cross-validation" else [res["confirmation_at"]]
        for row in rows:
            lines.append(
                f"| {label} | {row['threshold']:.1f} | {row['routed']} | {row['buttons']} | {row['rate']:.1%} | "
                f"{row['accuracy_buttons']:.1%} | {row['accuracy_no_buttons']:.1%} |"
            )
    if "cv" in r and "ours" in r["cv"] and "fallback_sweep" in r["cv"]["ours"]:
        lines += [
            "",
            "## Fallback thresholds (cross-validation, our pipeline, scored post hoc)",
            "",
            "| threshold | ambiguity | macro-F1 | complaints sent to `lainnya` | non-complaints filed |",
            "|---|---|---|---|---|",
        ]
        for row in r["cv"]["ours"]["fallback_sweep"]:
            lines.append(
                f"| {row['threshold']:.2f} | {row.get('ambiguity', 0.0):.2f} | {row['macro_f1']:.3f} | "
                f"{row['complaints_to_lainnya']} | {row['non_complaints_filed']} |"
            )
    if "latency" in r:
        lat = r["latency"]
        lines += [
            "",
            "## Parse latency (our held-out model, in-process, after warm-up)",
            "",
            f"{lat['n']} messages: p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms, max {lat['max_ms']:.1f} ms.",
        ]
    for s in sets:
        errors = r["heldout"][s].get("ours", {}).get("errors") or []
        if errors:
            lines += [
                "",
                f"## Held-out errors of our pipeline — {s}",
                "",
                "| text | gold | predicted | confidence |",
                "|---|---|---|---|",
            ]
            for err in errors:
                text = err["text"].replace("|", "/")
                lines.append(f"| {text} | {err['gold']} | {err['predicted']} | {err['confidence']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
