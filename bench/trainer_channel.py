"""What recording the NLU decision costs: Rasa's stock REST webhook vs the `aduan` channel (nlu/channel.py).

Same Rasa server, same model, interleaved requests with fresh senders, each sender's conversation
a few turns long. Writes reports/trainer_channel.md.
Run: `PYTHONPATH=. .venv/bin/python -m bench.trainer_channel [N]`.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bot.config import REPO_ROOT
from tests.integration.stack import Stack, ensure_model

REPORT = REPO_ROOT / "reports" / "trainer_channel.md"
TURNS = ["lampu jalan di gang mawar mati sudah seminggu", "gang mawar 3 kel. kerten", "/skip"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(n: int = 20) -> None:
    ensure_model()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp), f"sqlite:///{tmp}/tickets.db")
        stack.start()
        try:
            timings: dict[str, list[float]] = {"rest": [], "aduan": []}
            with httpx.Client(timeout=60) as client:
                for i in range(n):
                    for channel in ("rest", "aduan") if i % 2 == 0 else ("aduan", "rest"):
                        sender = f"bench-{channel}-{uuid.uuid4().hex[:8]}"
                        for text in TURNS:
                            started = time.perf_counter()
                            r = client.post(
                                f"{stack.rasa_url}/webhooks/{channel}/webhook", json={"sender": sender, "message": text}
                            )
                            timings[channel].append((time.perf_counter() - started) * 1000)
                            r.raise_for_status()
        finally:
            stack.stop()
    rows = [
        f"| {name} | {len(v)} | {statistics.median(v):.1f} | {pct(v, 0.95):.1f} | {statistics.mean(v):.1f} |"
        for name, v in timings.items()
    ]
    extra = statistics.median(timings["aduan"]) - statistics.median(timings["rest"])
    load = os.getloadavg()[0]
    REPORT.write_text(
        "# Cost of recording NLU decisions (rest vs aduan channel)\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU, load average {load:.1f} at the end "
        "(shared with other work: absolute numbers are noisy, the interleaved comparison is what counts).\n\n"
        f"{n} conversations per channel × {len(TURNS)} turns, interleaved, same Rasa server and model.\n\n"
        "| channel | requests | p50 ms | p95 ms | mean ms |\n|---|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nMedian difference: {extra:+.1f} ms per message (the tracker the processor just saved is reused).\n"
        "The alternative, a second `POST /model/parse` from the gateway, would run the NLU pipeline twice and\n"
        "could disagree with the decision the dialogue actually acted on.\n",
        encoding="utf-8",
    )
    print(REPORT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
