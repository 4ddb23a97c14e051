"""Drift test: the domain's complaint intents and the form-start rule follow data/categories.yml."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import REPO_ROOT
from bot.domain.categories import load_taxonomy
from nlu.tools.categories import complaint_intents, generate, stale_files


def test_generated_parts_match_categories_yml() -> None:
    stale = stale_files(REPO_ROOT)
    assert stale == [], f"run `python -m nlu.tools.categories` (or `make train`): {stale}"


def test_every_category_has_an_intent_examples_and_the_rule() -> None:
    taxonomy = load_taxonomy(REPO_ROOT / "data" / "categories.yml")
    intents = complaint_intents(REPO_ROOT)
    assert intents == [c.intent for c in taxonomy.categories.values()]
    domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text())
    assert set(intents) <= set(domain["intents"])
    rule = yaml.safe_load((REPO_ROOT / "data" / "rules_categories.yml").read_text())["rules"][0]
    assert {step["intent"] for step in rule["steps"][0]["or"]} >= set(intents)
    for cid in taxonomy.categories:
        assert (REPO_ROOT / "data" / "nlu" / "complaints" / f"{cid}.yml").exists(), cid


def test_generator_rewrites_only_what_drifted(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    categories = yaml.safe_load((REPO_ROOT / "data" / "categories.yml").read_text())
    categories["categories"].append({"id": "pemakaman", "label": "Pemakaman", "opd": "dpupr", "sla_days": 5})
    (tmp_path / "data" / "categories.yml").write_text(yaml.safe_dump(categories))
    (tmp_path / "domain.yml").write_text((REPO_ROOT / "domain.yml").read_text())
    assert set(generate(tmp_path)) == {tmp_path / "domain.yml", tmp_path / "data" / "rules_categories.yml"}
    assert "  - complaint_pemakaman\n" in (tmp_path / "domain.yml").read_text()
    assert "    - intent: complaint_pemakaman\n" in (tmp_path / "data" / "rules_categories.yml").read_text()
    assert generate(tmp_path) == [] and stale_files(tmp_path) == []


def test_every_response_an_action_names_exists_in_the_domain() -> None:
    """A response sent only from action code is easy to lose in an edit: each must be in domain.yml."""
    import re

    domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text())
    code = "\n".join(p.read_text() for p in (REPO_ROOT / "actions").glob("*.py"))
    named = set(re.findall(r'"(utter_[a-z_]+)"', code)) - {"utter_faq", "utter_action"}
    assert sorted(named - set(domain["responses"])) == []
    for name, variants in domain["responses"].items():
        assert len(variants) <= 2, name  # a response key swallowed by its neighbour shows up as extra variants
