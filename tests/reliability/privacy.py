"""Privacy scan: no unmasked NIK or phone number in any log line or admin-facing message of the suite.

Detection reuses the masking rules themselves (nlu/patterns.py, the ones bot/masking.py applies in
all three processes), so "unmasked" means exactly "something the mask would still have changed".
Whole log files are read, tracebacks included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlu.patterns import NIK_RE, PHONE_RE, digits

DECIMAL = re.compile(r"\d\.$")  # "0.0812345678" and "7.3660981234568145" are fractions, not phones or NIKs


@dataclass(frozen=True)
class Finding:
    where: str
    line: int
    kind: str
    value: str
    ours: bool  # one of the numbers the simulated citizens typed

    def __str__(self) -> str:
        digits_only = digits(self.value)
        shown = digits_only[:4] + "…" + digits_only[-2:]  # the report itself must not leak it either
        return f"{self.where}:{self.line}: unmasked {self.kind} {shown}{' (typed by a citizen)' if self.ours else ''}"


def scan_text(text: str, where: str, invented: set[str]) -> list[Finding]:
    findings: list[Finding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, pattern in (("NIK", NIK_RE), ("phone", PHONE_RE)):
            for match in pattern.finditer(line):
                if DECIMAL.search(line[: match.start()]):
                    continue  # digits after a decimal point: a fraction (7.3660981234568145), not a number
                value = match.group(0)
                found = digits(value)
                ours = found in invented or ("0" + found[2:] if found.startswith("62") else found) in invented
                findings.append(Finding(where, number, kind, value, ours))
    return findings


def scan_logs(paths: Iterable[Path], invented: set[str]) -> list[Finding]:
    findings: list[Finding] = []
    for path in paths:
        findings += scan_text(path.read_text(errors="replace"), path.name, invented)
    return findings


def scan_messages(messages: Iterable[tuple[str, Any]], invented: set[str]) -> list[Finding]:
    """Admin-facing messages as the fakes received them: texts, captions, buttons, Flex cards."""
    findings: list[Finding] = []
    for where, message in messages:
        findings += scan_text(json.dumps(message, ensure_ascii=False), where, invented)
    return findings
