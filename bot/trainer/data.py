"""The NLU training files as the trainer sees them: known texts, counts, and the curated files.

Labels go to Rasa NLU YAML, one file per intent, so they are reviewable in git:
`data/nlu/curated/<intent>.yml` (training) and every fifth to `tests/nlu/curated/<intent>.yml`
(held out, so evaluation stays honest as the data grows).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import REPO_ROOT
from bot.masking import mask_text
from bot.trainer.recorder import normalize

ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")
HELDOUT_EVERY = 5
PAYLOAD_INTENTS = {"skip", "share_location", "share_photo", "choose_category", "choose_privacy", "change_field"}


@dataclass(frozen=True)
class NluFiles:
    """Where training, held-out and curated files live (tests point these at temporary folders)."""

    root: Path = REPO_ROOT
    curated_root: Path | None = None
    """Where curated labels go (`<curated_root>/data/nlu/curated`, ...); the repo itself by default."""

    @property
    def train_dir(self) -> Path:
        return self.root / "data" / "nlu"

    @property
    def curated_train(self) -> Path:
        return (self.curated_root or self.root) / "data" / "nlu" / "curated"

    @property
    def heldout_dir(self) -> Path:
        return self.root / "tests" / "nlu"

    @property
    def curated_heldout(self) -> Path:
        return (self.curated_root or self.root) / "tests" / "nlu" / "curated"

    def train_files(self) -> list[Path]:
        files = sorted(self.train_dir.rglob("*.yml"))
        if self.curated_root is not None:
            files += sorted(self.curated_train.glob("*.yml"))
        return files

    def heldout_files(self) -> list[Path]:
        files = sorted((self.heldout_dir / "heldout").glob("*.yml"))
        files += [p for p in [self.heldout_dir / "heldout_conversation.yml"] if p.exists()]
        return files + sorted(self.curated_heldout.glob("*.yml"))


def strip_markup(text: str) -> str:
    return ENTITY_MARKUP.sub(lambda m: m.group(1) or m.group(2), text)


def read_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, text) pairs of one Rasa NLU YAML file (cached until the file changes)."""
    stat = path.stat()
    return list(_read_examples(path, stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=256)
def _read_examples(path: Path, mtime_ns: int, size: int) -> tuple[tuple[str, str], ...]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for block in doc.get("nlu") or []:
        intent = block.get("intent")
        if not intent:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append((intent, strip_markup(line[2:].strip())))
    return tuple(out)


def all_examples(files: NluFiles) -> list[tuple[str, str]]:
    paths = files.train_files() + files.heldout_files()
    examples: list[tuple[str, str]] = []
    for path in paths:
        examples.extend(read_examples(path))
    return examples


def known_texts(files: NluFiles) -> set[str]:
    """Normalized texts already in the training or held-out data (hidden from the inbox)."""
    return {normalize(mask_text(text)) for _, text in all_examples(files)}


def example_counts(files: NluFiles) -> Counter[str]:
    """Training examples per intent."""
    counts: Counter[str] = Counter()
    for path in files.train_files():
        counts.update(intent for intent, _ in read_examples(path))
    return counts


def labelable_intents(domain_file: Path | None = None) -> list[str]:
    """Intents a trainer may assign: every domain intent except the button/channel payloads."""
    doc = yaml.safe_load((domain_file or REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
    names = [i if isinstance(i, str) else next(iter(i)) for i in doc.get("intents") or []]
    return [n for n in names if n not in PAYLOAD_INTENTS]


def append_example(folder: Path, intent: str, text: str) -> Path:
    """Add one example to `<folder>/<intent>.yml` (created when missing); duplicates are skipped."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{intent}.yml"
    text = " ".join(text.split())
    existing = [t for _, t in read_examples(path)] if path.exists() else []
    if text not in existing:
        existing.append(text)
    body = "".join(f"    - {t}\n" for t in existing)
    path.write_text(
        f'version: "3.1"\n# Curated by trainers from real messages (aduan trainer / the /trainer page).\n'
        f"nlu:\n- intent: {intent}\n  examples: |\n{body}",
        encoding="utf-8",
    )
    return path
