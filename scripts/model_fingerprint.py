"""Decide whether `make run` must train: a hash of everything `rasa train` reads, next to the model.

Rasa's own fingerprint check needs Rasa loaded (10-20 s of imports, ~40 warnings) before it can
say "nothing changed". This script answers in milliseconds with the standard library only:
`check` exits 0 when models/aduan.tar.gz was trained from exactly the current config, domain,
training data and custom NLU code; `write` records that after a successful `rasa train`.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "aduan.tar.gz"
STAMP = ROOT / "models" / "aduan.fingerprint"
INPUTS = ("config.yml", "domain.yml", "data", "nlu")
SUFFIXES = {".yml", ".yaml", ".md", ".json", ".py", ".txt"}
NOT_MODEL = ("nlu/tools/", "nlu/log_masking.py", "nlu/logging.yml")
"""Files under the inputs that never change what is trained (tooling, logging)."""


def training_files(root: Path = ROOT) -> list[Path]:
    files: list[Path] = []
    for name in INPUTS:
        path = root / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(
                p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts
            )
    return sorted(f for f in files if not str(f.relative_to(root)).startswith(NOT_MODEL))


def fingerprint(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for path in training_files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def is_fresh(root: Path = ROOT) -> bool:
    model, stamp = root / MODEL.relative_to(ROOT), root / STAMP.relative_to(ROOT)
    if not model.is_file() or not stamp.is_file():
        return False
    return stamp.read_text().strip() == fingerprint(root)


def write(root: Path = ROOT) -> None:
    (root / STAMP.relative_to(ROOT)).write_text(fingerprint(root) + "\n")


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "check":
        return 0 if is_fresh() else 1
    if command == "write":
        write()
        return 0
    print(f"usage: {argv[0]} check|write", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
