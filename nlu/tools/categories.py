"""Generate the category parts of the Rasa project from data/categories.yml (the one source).

A city that adds or renames a category edits `data/categories.yml` and adds
`data/nlu/complaints/<id>.yml`; `make train` (and the test stack) run this first, so the
domain's complaint intents and the rule that starts the complaint form follow by themselves.

    python -m nlu.tools.categories          # rewrite what is out of date
    python -m nlu.tools.categories --check  # exit 1 and name the files that differ (drift test)

Plain Python + PyYAML so it runs in either virtualenv; imports nothing from bot/.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
INTENT_PREFIX = "complaint_"
BEGIN = "  # BEGIN complaint intents: generated from data/categories.yml by `python -m nlu.tools.categories`"
END = "  # END complaint intents"
RULES_FILE = Path("data") / "rules_categories.yml"
# Besides every complaint intent, these also open the complaint form.
ALSO_START_FORM = ("start_report", "give_location", "share_photo", "share_location")


def category_ids(root: Path = REPO_ROOT) -> list[str]:
    data = yaml.safe_load((root / "data" / "categories.yml").read_text(encoding="utf-8"))
    ids = [str(c["id"]) for c in data.get("categories") or []]
    bad = [cid for cid in ids if not re.fullmatch(r"[a-z][a-z_]*", cid)]
    if bad:
        raise ValueError(f"category ids must be lowercase [a-z_]: {bad}")
    return ids


def complaint_intents(root: Path = REPO_ROOT) -> list[str]:
    return [INTENT_PREFIX + cid for cid in category_ids(root)]


def render_domain(domain_text: str, intents: list[str]) -> str:
    """domain.yml with the block between the BEGIN/END markers replaced by the intents."""
    lines = domain_text.splitlines()
    try:
        start, end = lines.index(BEGIN), lines.index(END)
    except ValueError as exc:
        raise ValueError(f"domain.yml needs the lines {BEGIN!r} and {END!r} under `intents:`") from exc
    block = [f"  - {intent}" for intent in intents]
    return "\n".join(lines[: start + 1] + block + lines[end:]) + "\n"


def render_rules(intents: list[str]) -> str:
    steps = "\n".join(f"    - intent: {intent}" for intent in [*intents, *ALSO_START_FORM])
    return (
        "# Generated from data/categories.yml by `python -m nlu.tools.categories`; do not edit.\n"
        'version: "3.1"\n'
        "rules:\n"
        "- rule: a complaint starts the form\n"
        "  steps:\n"
        "  - or:\n"
        f"{steps}\n"
        "  - action: action_start_complaint\n"
        "  - action: complaint_form\n"
        "  - active_loop: complaint_form\n"
    )


def expected_files(root: Path = REPO_ROOT) -> dict[Path, str]:
    intents = complaint_intents(root)
    domain = root / "domain.yml"
    return {
        domain: render_domain(domain.read_text(encoding="utf-8"), intents),
        root / RULES_FILE: render_rules(intents),
    }


def stale_files(root: Path = REPO_ROOT) -> list[Path]:
    """Files whose generated part differs from data/categories.yml."""
    return [
        path
        for path, text in expected_files(root).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def generate(root: Path = REPO_ROOT) -> list[Path]:
    """Rewrite the stale files; returns what changed."""
    changed = []
    for path, text in expected_files(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report drift (exit 1)")
    parser.add_argument("--root", type=Path, default=REPO_ROOT)
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.root)
        for path in stale:
            print(f"out of date with data/categories.yml: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path in generate(args.root):
        print(f"generated {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
