"""reports/reliability.md: the figures of the long runs (`make reliability`), one JSON file per run.

Each long test saves its run under reports/reliability/ as it finishes, and the Markdown is
rebuilt from all of them, so a partial `make reliability` still reports what did run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bot.config import REPO_ROOT

JSON = dict[str, Any]
RUNS_DIR = REPO_ROOT / "reports" / "reliability"
REPORT = REPO_ROOT / "reports" / "reliability.md"


def save(figures: JSON, machine: JSON, runs_dir: Path = RUNS_DIR, report: Path = REPORT) -> Path:
    runs_dir.mkdir(parents=True, exist_ok=True)
    record = {**figures, "machine": machine, "finished_at": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    path = runs_dir / f"{figures['name']}.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    write_markdown(runs_dir, report)
    return path


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def write_markdown(runs_dir: Path = RUNS_DIR, report: Path = REPORT) -> str:
    runs = [json.loads(p.read_text()) for p in sorted(runs_dir.glob("*.json"))]
    runs.sort(key=lambda r: r.get("finished_at", ""))
    lines = [
        "# Reliability suite",
        "",
        "Written by `make reliability` (tests/reliability/, marker `reliability_long`); the fast part runs in",
        "`make test`. Real processes (Rasa server, action server, gateway as subprocesses), the Telegram and LINE",
        "fakes, simulated citizens from bench/citizens.py: half on Telegram, half on LINE, all at once, each filing",
        "its complaints one after another. Faults fire while conversations are under way; the killed process is",
        "started again and the load goes on.",
        "",
        "Invariants checked after every run: the ticket store holds exactly citizens × complaints tickets and",
        "each citizen exactly the codes it was given; every admin chat got each ticket it should get once and no",
        "other; every outbox row is `sent` and the fakes received each exactly once (per chat, same texts, same",
        "counts); every acknowledged message is stored once, finished and answered; no 5xx outside a fault's",
        "window; after the load every citizen's new message is answered; no unmasked NIK or phone number in any",
        "log line (all processes, tracebacks included) or admin-facing message.",
        "",
        "Delivery is at-least-once by design: a send Telegram (no idempotency key) or LINE (a reply token, then a",
        "push) accepted in the few milliseconds before a SIGKILL, and not yet marked `sent`, goes out again after",
        "the restart. The suite therefore kills a gateway while the platforms are slow to answer its sends (held,",
        "as tests/gateway/test_fault_sigkill.py does), not inside one; every other duplicate counts.",
        "",
    ]
    if not runs:
        lines.append("No run recorded yet.")
    else:
        machine = runs[-1].get("machine", {})
        lines += [
            f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, {machine.get('ram_gb', '?')} GB "
            f"RAM, {machine.get('os', '?')}; shared with other test runs (load average at the end "
            f"{machine.get('load_avg_at_end')}).",
            "",
            "| run | profile | citizens × complaints | messages sent | acknowledged | re-sent (not acked) | answers "
            "| tickets | admin posts | faults | duplicates | lost | 5xx (outside faults) | privacy findings | time |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in runs:
            lines.append(
                f"| {r['name']} | {r['profile']} | {r['citizens']} × {r['complaints_each']} | {r['messages_sent']} "
                f"| {r['acknowledged']} | {r['not_acknowledged_resent']} | {r['answers']} "
                f"| {r['tickets']} / {r['tickets_expected']} | {r['admin_posts']} | {r['faults_injected']} "
                f"| {r['duplicates']} | {r['lost']} | {r['http_5xx']} ({r['http_5xx_outside_faults']}) "
                f"| {r['privacy_findings']} | {_duration(r['durations_s']['total'])} |"
            )
        lines += ["", "## Runs", ""]
        for r in runs:
            status = "passed" if r["ok"] else "FAILED"
            lines += [
                f"### {r['name']} ({status})",
                "",
                f"- {r['profile']}; {r['citizens']} citizens × {r['complaints_each']} complaints; finished "
                f"{r['finished_at']}.",
                f"- Messages sent {r['messages_sent']} (webhook deliveries {r['webhook_deliveries']}), answered "
                f"{r['answers']}; turn p50 {r['turn_s']['p50']} s, p95 {r['turn_s']['p95']} s, max "
                f"{r['turn_s']['max']} s.",
                f"- Tickets {r['tickets']} of {r['tickets_expected']}; admin posts {r['admin_posts']}; outbox rows "
                f"{r['outbox_rows']}; duplicates {r['duplicates']}, lost {r['lost']}.",
                f"- HTTP statuses the fakes got from the webhooks: {r['statuses']}; 5xx {r['http_5xx']} "
                f"({r['http_5xx_outside_faults']} outside a fault window).",
                f'- "Saved, will be processed" notices {r["service_down_notices"]}; "type kirim again" prompts '
                f"{r['retry_save_prompts']}; complaints started again {r['complaints_restarted']}; turn timeouts "
                f"{r['turn_timeouts']}; final message answered for {r['final_check_answered']} of {r['citizens']}.",
                f"- Privacy: {r['log_lines_scanned']} log lines and {r['admin_messages_scanned']} admin messages "
                f"scanned, {r['privacy_findings']} unmasked NIK/phone numbers.",
                "- Durations: "
                + ", ".join(f"{k.replace('_', ' ')} {_duration(v)}" for k, v in r["durations_s"].items())
                + ".",
            ]
            if r["faults"]:
                lines += ["", "| fault | complaints done before | back healthy after |", "|---|---:|---:|"]
                for f in r["faults"]:
                    lines.append(f"| {f['fault']} | {f['complaints_done_before']} | {f['back_healthy_after_s']} s |")
            if r["problems"]:
                lines += ["", "Problems:", ""] + [f"- {p}" for p in r["problems"]]
            lines.append("")
    text = "\n".join(lines).rstrip() + "\n"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text)
    return text
