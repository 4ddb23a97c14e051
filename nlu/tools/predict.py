"""`aduan nlu predict [FILE]`: one JSON object per input line on stdout.

Input lines are plain text or JSONL with a `text` field; `-` or no FILE reads stdin.
`category` is one of the 13 ids, or `lainnya` when the text is not a complaint or the model
is below its fallback threshold (intent `nlu_fallback`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from nlu.tools.common import Parser, category_of, ensure_model, quiet


def read_texts(stream: TextIO) -> Iterator[str]:
    for raw in stream:
        line = raw.rstrip("\n")
        if line.lstrip().startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                yield line
                continue
            yield str(obj.get("text") or "") if isinstance(obj, dict) else line
        else:
            yield line


BATCH = 200


def write(parser: Parser, texts: list[str]) -> None:
    filled = [t for t in texts if t.strip()]
    results = iter(parser.parse_many(filled))
    for text in texts:
        if not text.strip():
            out = {"text": text, "intent": None, "category": "lainnya", "confidence": 0.0}
        else:
            intent = next(results).get("intent") or {}
            name = intent.get("name")
            out = {
                "text": text,
                "intent": name,
                "category": category_of(name),
                "confidence": round(float(intent.get("confidence") or 0.0), 4),
            }
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("file", nargs="?", default="-")
    args.add_argument("--model", type=Path, default=None)
    opts = args.parse_args(argv)
    quiet()
    model = ensure_model(opts.model)
    parser = Parser(model)
    stream = sys.stdin if opts.file == "-" else open(opts.file, encoding="utf-8")  # noqa: SIM115
    interactive = stream is sys.stdin and sys.stdin.isatty()  # someone typing gets each answer at once
    try:
        batch: list[str] = []
        for text in read_texts(stream):
            batch.append(text)
            if interactive or len(batch) >= BATCH:
                write(parser, batch)
                batch = []
        write(parser, batch)
    finally:
        if stream is not sys.stdin:
            stream.close()
        parser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
