"""Figures and the Markdown/JSON report of a conversation run (transcripts masked)."""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.evaluation.conversations import Outcome
from bot.masking import mask_text

GROUP_NAMES = {"cooperative": "cooperative", "free": "free-typing"}


def _rate(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    ok = sum(o.success for o in outcomes)
    return {"n": len(outcomes), "success": ok, "rate": round(ok / len(outcomes), 4) if outcomes else None}


def percentile(values: Sequence[int], q: float) -> float | None:
    """Nearest-rank percentile (no interpolation: turns are whole numbers)."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)])


def summarize(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    turns = [o.turns for o in outcomes]
    groups = sorted({o.group for o in outcomes})
    channels = sorted({o.channel for o in outcomes})
    expected = sum(o.expected for o in outcomes)
    right = sum(o.right_category for o in outcomes)
    return {
        "citizens": len(outcomes),
        "overall": _rate(outcomes),
        "by_group": {g: _rate([o for o in outcomes if o.group == g]) for g in groups},
        "by_channel": {c: _rate([o for o in outcomes if o.channel == c]) for c in channels},
        "right_category": {
            "expected_tickets": expected,
            "right": right,
            "rate": round(right / expected, 4) if expected else None,
        },
        "by_topic": {t: _rate([o for o in outcomes if o.topic == t]) for t in sorted({o.topic for o in outcomes})},
        "turns": {"median": float(statistics.median(turns)) if turns else None, "p95": percentile(turns, 95)},
        "loops": sum(o.loops for o in outcomes),
        "endings": dict(Counter(o.ended for o in outcomes)),
    }


def _pct(rate: dict[str, Any]) -> str:
    if not rate or rate.get("rate") is None:
        return "–"
    return f"{rate['rate'] * 100:.1f}% ({rate['success']}/{rate['n']})"


def _cause(reason: str) -> str:
    """A failure reason without the ticket code and the citizen's own words, for counting."""
    reason = re.sub(r"^ADU-\w+: ", "", reason)
    if reason.startswith("location "):
        return "ticket location lacks the words the citizen gave"
    return reason


def _masked(outcome: Outcome) -> list[tuple[str, str]]:
    return [(who, mask_text(text)) for who, text in outcome.transcript]


def write_report(outcomes: Sequence[Outcome], path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Write `path` (Markdown) and the same figures plus every outcome as JSON beside it."""
    summary = summarize(outcomes)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Simulated citizens (`aduan eval conversations`)",
        "",
        f"Generated {when}; {summary['citizens']} citizens; channels: {', '.join(meta.get('channels', []))}; "
        f"scripts: `{meta.get('citizens_file', '')}` (written separately from the training data).",
        "Success = the right tickets are in the store with everything the citizen gave (category, location words, "
        "shared point, photo, privacy, urgency, kind), or a question was answered without the complaint form; "
        "and no loop. Turns = messages the citizen sent.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| success, overall | {_pct(summary['overall'])} |",
    ]
    for group, rate in summary["by_group"].items():
        lines.append(f"| success, {GROUP_NAMES.get(group, group)} | {_pct(rate)} |")
    for channel, rate in summary["by_channel"].items():
        lines.append(f"| success, {channel} channel | {_pct(rate)} |")
    rc = summary["right_category"]
    rc_text = f"{rc['rate'] * 100:.1f}% ({rc['right']}/{rc['expected_tickets']})" if rc["rate"] is not None else "–"
    lines += [
        f"| right category (per expected ticket) | {rc_text} |",
        f"| citizen turns: median / p95 | {summary['turns']['median']} / {summary['turns']['p95']} |",
        f"| loops (same question 3 times in a row) | {summary['loops']} |",
        f"| how conversations ended | {', '.join(f'{k}: {v}' for k, v in sorted(summary['endings'].items()))} |",
        "",
    ]
    lines += ["## By topic (first expected category)", "", "| topic | success |", "|---|---|"]
    lines += [f"| {topic or '–'} | {_pct(rate)} |" for topic, rate in summary["by_topic"].items()]
    lines.append("")
    failures = [o for o in outcomes if not o.success]
    reasons = Counter(_cause(r) for o in failures for r in o.reasons)
    if reasons:
        lines += ["## Most frequent failure causes", "", "| cause | citizens |", "|---|---|"]
        lines += [f"| {reason} | {count} |" for reason, count in reasons.most_common(15)]
        lines.append("")
    lines += [f"## Failures ({len(failures)})", ""]
    for outcome in failures:
        lines += [
            f"### {outcome.citizen} ({GROUP_NAMES.get(outcome.group, outcome.group)}, {outcome.channel}, "
            f"{outcome.turns} turns, ended: {outcome.ended})",
            "",
            *[f"- {mask_text(r)}" for r in outcome.reasons],
            "",
            "```text",
            *[f"{who:>7}: {text}".replace("\n", "\n         ") for who, text in _masked(outcome)],
            "```",
            "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    records = []
    for outcome in outcomes:
        record = asdict(outcome)
        record["transcript"] = _masked(outcome)
        record["reasons"] = [mask_text(r) for r in outcome.reasons]
        for ticket in record["tickets"]:
            ticket["location"] = mask_text(ticket["location"])
        records.append(record)
    payload = {"generated": when, **meta, "summary": summary, "outcomes": records}
    path.with_suffix(".json").write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return summary
