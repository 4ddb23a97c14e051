"""Training data hygiene: every category has data, the held-out set is separate and sufficient."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from bot.config import REPO_ROOT
from bot.domain.categories import load_taxonomy

DATA = REPO_ROOT / "data" / "nlu"
HELDOUT = REPO_ROOT / "tests" / "nlu"


def examples(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in yaml.safe_load(path.read_text())["nlu"]:
        if "intent" in item:
            out.setdefault(item["intent"], []).extend(
                line[2:].strip() for line in item["examples"].strip().splitlines()
            )
    return out


def all_examples(paths: list[Path]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for path in paths:
        for intent, texts in examples(path).items():
            merged.setdefault(intent, []).extend(texts)
    return merged


TRAIN = all_examples(sorted(DATA.rglob("*.yml")))
HELD = all_examples(
    sorted((HELDOUT / "heldout").glob("*.yml"))
    + sorted((HELDOUT / "heldout_formal").glob("*.yml"))
    + [HELDOUT / "heldout_conversation.yml"]
)
FORMAL = all_examples(sorted((DATA / "complaints_formal").glob("*.yml")))
CATEGORIES = load_taxonomy().categories


def test_every_category_has_an_intent_file_and_150_examples() -> None:
    for cid, category in CATEGORIES.items():
        assert (DATA / "complaints" / f"{cid}.yml").exists(), cid
        assert len(set(TRAIN[category.intent])) >= 150, cid
    complaint_intents = {i for i in TRAIN if i.startswith("complaint_")}
    assert complaint_intents == {c.intent for c in CATEGORIES.values()}


def test_heldout_has_25_per_category_and_never_overlaps_training() -> None:
    train_texts = {t.lower() for texts in TRAIN.values() for t in texts}
    for category in CATEGORIES.values():
        assert len(HELD[category.intent]) >= 25, category.id
    leaked = [t for texts in HELD.values() for t in texts if t.lower() in train_texts]
    assert leaked == []


def test_formal_complaints_cover_every_category_and_only_complaints() -> None:
    """data/nlu/complaints_formal: long, formal complaints for every category (issue 12)."""
    for category in CATEGORIES.values():
        assert len(set(FORMAL[category.intent])) >= 30, category.id
    assert set(FORMAL) == {c.intent for c in CATEGORIES.values()}


def test_no_pure_question_left_in_complaint_training_data() -> None:
    """Questions asking how/what/where are `faq` (answered, never filed); a complaint may still end in '?'."""
    openers = ("bagaimana cara", "gimana cara", "syarat ", "cara ", "berapa biaya", "pripun carane", "kumaha carana")
    complaints = [t for intent, texts in TRAIN.items() if intent.startswith("complaint_") for t in texts]
    assert [t for t in complaints if t.lower().startswith(openers) and t.endswith("?")] == []


def test_conversation_intents_are_covered() -> None:
    needed = {
        "greet",
        "goodbye",
        "thanks",
        "affirm",
        "deny",
        "help",
        "check_status",
        "my_tickets",
        "cancel",
        "give_location",
        "give_rating",
        "ask_human",
        "bot_challenge",
        "out_of_scope",
        "chitchat",
    }
    assert needed <= set(TRAIN)
    assert len(TRAIN["greet"]) >= 50


def test_no_example_labelled_twice() -> None:
    counts = Counter(t.lower() for texts in TRAIN.values() for t in set(texts))
    assert [t for t, n in counts.items() if n > 1] == []
