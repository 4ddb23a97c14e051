"""Indonesian chat-text normalizer: informal, abbreviated and regional words to standard forms.

Pure Python (runs inside the Rasa server through nlu.components, and in tests). The dictionary
is the reviewed file data/normalization.yml. Numbers, ticket codes, NIKs and phone numbers are
kept intact so the entity extractor still sees them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from nlu.patterns import CODE_RE

DEFAULT_DICTIONARY = Path(__file__).resolve().parent.parent / "data" / "normalization.yml"

_TOKEN_RE = re.compile(r"\S+")
_WORD_RE = re.compile(r"^([^\w]*)([\w\-']+?)([^\w]*)$", re.UNICODE)
_REPEAT_RE = re.compile(r"([a-z])\1{2,}")
_REDUP_RE = re.compile(r"^([a-z]{2,})2$")  # "anak2" -> "anak-anak"


@lru_cache(maxsize=4)
def load_dictionary(path: str | Path = DEFAULT_DICTIONARY) -> dict[str, str]:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    words = raw.get("words", raw)
    return {str(k).lower(): str(v).lower() for k, v in words.items()}


def _normalize_word(word: str, dictionary: dict[str, str]) -> str:
    if any(ch.isdigit() for ch in word):
        redup = _REDUP_RE.match(word)
        if redup:
            base = dictionary.get(redup.group(1), redup.group(1))
            return f"{base}-{base}"
        return word
    if word in dictionary:
        return dictionary[word]
    squeezed = _REPEAT_RE.sub(r"\1", word)
    if squeezed != word:
        for candidate in (_REPEAT_RE.sub(r"\1\1", word), squeezed):
            if candidate in dictionary:
                return dictionary[candidate]
        return squeezed
    return word


def normalize(text: str, dictionary: dict[str, str] | None = None) -> str:
    """Lower-case, squeeze letter runs ('parahhh'), expand the dictionary; keep codes and numbers."""
    if dictionary is None:
        dictionary = load_dictionary()
    protected: dict[str, str] = {}

    def protect(match: re.Match[str]) -> str:
        key = f"kodetiket{len(protected)}x"
        protected[key] = match.group(0).upper()
        return key

    text = CODE_RE.sub(protect, text)
    out: list[str] = []
    for token in _TOKEN_RE.findall(text.lower()):
        match = _WORD_RE.match(token)
        if not match:
            out.append(token)
            continue
        lead, word, trail = match.groups()
        if word in protected:
            out.append(lead + protected[word] + trail)
            continue
        out.append(lead + _normalize_word(word, dictionary) + trail)
    return " ".join(out)
