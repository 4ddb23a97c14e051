"""Exact patterns shared by the NLU (Rasa env) and the gateway/actions (app env).

Pure Python with no imports from bot/ or rasa, so both environments can use the same definitions.
"""

from __future__ import annotations

import re

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_PREFIX = "ADU"
CODE_BODY_LENGTH = 7
CODE_RE = re.compile(rf"\b{CODE_PREFIX}[\s\-_.]?([{CODE_ALPHABET}]{{{CODE_BODY_LENGTH}}})\b", re.IGNORECASE)

# NIK: 16 digits, optionally written in groups ("3372 0512 3456 0001").
NIK_RE = re.compile(r"(?<![\d])(\d{4})[ .\-]?(\d{4})[ .\-]?(\d{4})[ .\-]?(\d{4})(?![\d])")
# Indonesian mobile numbers: 08xx / +628xx / 628xx, 10–13 digits, optional separators.
PHONE_RE = re.compile(r"(?<![\d+])((?:\+62[ .\-]?|62|0)8\d{1,2})[ .\-]?(\d{3,4})[ .\-]?(\d{3,5})(?![\d])")
RT_RW_RE = re.compile(
    r"\brt\.?\s*(?:0*(\d{1,3}))\s*(?:[/,\-]|\s+rw\.?)\s*(?:rw\.?\s*)?0*(\d{1,3})\b|\brt\.?\s*0*(\d{1,3})\b",
    re.IGNORECASE,
)


def canonical_code(body: str) -> str:
    return f"{CODE_PREFIX}-{body.upper()}"


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def mask_nik(nik: str) -> str:
    d = digits(nik)
    return d[:4] + "*" * 8 + d[-4:] if len(d) == 16 else "*" * len(d)


def mask_phone(phone: str) -> str:
    d = digits(phone)
    return d[:4] + "*" * max(len(d) - 7, 3) + d[-3:] if len(d) >= 9 else "*" * len(d)


def mask_text(text: str | None) -> str:
    """Every NIK and phone number in free text replaced by a masked form (for logs, admin views, echoes)."""
    if not text:
        return text or ""
    text = NIK_RE.sub(lambda m: mask_nik(m.group(0)), text)
    return PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)


# A citizen asking to be called back ("hubungi saya di 0812…", "tolong telp/WA"): only then a phone is kept.
CALLBACK_RE = re.compile(
    r"\b(?:hubungi|hub|telepon|telpon|telp|tlp|tilpun|call|kontak|wa|whatsapp|japri)\b",
    re.IGNORECASE,
)


def mask_nik_at_rest(nik: str) -> str:
    """Stored form of a NIK: only the last 4 digits survive (enough for a desk to match a KTP it is shown)."""
    d = digits(nik)
    return "*" * 12 + d[-4:] if len(d) == 16 else "*" * len(d)


def wants_callback(text: str | None) -> bool:
    return bool(text and CALLBACK_RE.search(text) and PHONE_RE.search(text))


def find_phone(text: str | None) -> str | None:
    """The first phone number in the text, digits only (for a call-back field), or None."""
    match = PHONE_RE.search(text or "")
    return digits(match.group(0)) if match else None


def mask_at_rest(text: str | None, *, keep_phone: bool = False) -> str | None:
    """What may be stored of free text: NIKs reduced to their last 4 digits, phone numbers masked.

    `keep_phone` leaves phone numbers readable (the citizen asked to be called back) so the
    conversation can still hand the number to the ticket's call-back field.
    """
    if not text:
        return text
    text = NIK_RE.sub(lambda m: mask_nik_at_rest(m.group(0)), text)
    return text if keep_phone else PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)
