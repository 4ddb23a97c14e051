"""Ticket codes a citizen can read aloud and type on a phone keypad.

`ADU-` + 7 random characters from an alphabet without look-alikes (no 0/O, 1/I/L, U).
30^7 ≈ 2.2e10 codes, random rather than sequential, so a code reveals nothing about volume and
cannot be guessed from a neighbour's. The database's unique index is the final guard; the
creator retries on collision.
"""

from __future__ import annotations

import secrets

from nlu.patterns import CODE_ALPHABET, CODE_BODY_LENGTH, CODE_PREFIX, CODE_RE, canonical_code

MAX_LENGTH = len(CODE_PREFIX) + 1 + CODE_BODY_LENGTH


def new_code() -> str:
    return canonical_code("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_BODY_LENGTH)))


def normalize_code(raw: str) -> str | None:
    """Canonical `ADU-XXXXXXX` for whatever a citizen typed ('adu 7hq2wz4'), or None."""
    match = CODE_RE.search(raw)
    return canonical_code(match.group(1)) if match else None


def find_codes(text: str) -> list[str]:
    return list(dict.fromkeys(canonical_code(m.group(1)) for m in CODE_RE.finditer(text)))
