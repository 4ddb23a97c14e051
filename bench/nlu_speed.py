"""`aduan bench nlu` (runs in .venv-rasa): model load time and per-message parse latency.

    PYTHONPATH=. .venv-rasa/bin/python -m bench.nlu_speed [--messages 1000] [--model models/aduan.tar.gz]

Loads the whole model the way `rasa run` does (NLU and dialogue) and parses messages one at a
time, as the server does per request. Texts: the held-out test set and the benchmark's citizens,
cycled to the requested count. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import statistics
import time
from pathlib import Path

from bench.citizens import ADDRESSES, COMPLAINTS, STATUS_QUESTIONS
from nlu.tools.common import ensure_model, quiet

REPO_ROOT = Path(__file__).resolve().parents[1]
HELDOUT = REPO_ROOT / "tests" / "nlu" / "heldout"


def texts(count: int) -> list[str]:
    from rasa.shared.utils.io import read_yaml_file

    pool: list[str] = []
    for path in sorted(HELDOUT.glob("*.yml")):
        for block in read_yaml_file(path).get("nlu", []):
            pool += [line[2:].strip() for line in str(block.get("examples", "")).splitlines() if line.startswith("- ")]
    pool += list(COMPLAINTS) + list(ADDRESSES) + [q.format(code="ADU-K7X3M9P") for q in STATUS_QUESTIONS]
    return list(itertools.islice(itertools.cycle(pool), count))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


async def measure(model: Path, count: int) -> dict[str, object]:
    from rasa.core.agent import load_agent

    started = time.perf_counter()
    agent = await load_agent(model_path=str(model))
    load_s = time.perf_counter() - started
    await agent.parse_message("halo")  # first call builds the graph's caches
    timings = []
    for text in texts(count):
        begun = time.perf_counter()
        await agent.parse_message(text)
        timings.append(time.perf_counter() - begun)
    return {
        "model": str(model),
        "model_load_s": round(load_s, 2),
        "messages": len(timings),
        "parse_ms": {
            "p50": round(percentile(timings, 50) * 1000, 2),
            "p95": round(percentile(timings, 95) * 1000, 2),
            "mean": round(statistics.fmean(timings) * 1000, 2),
            "max": round(max(timings) * 1000, 2),
        },
        "parses_per_s": round(len(timings) / sum(timings), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args(argv)
    quiet()
    result = asyncio.run(measure(ensure_model(args.model), args.messages))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
