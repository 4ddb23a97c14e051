"""Exact entity extraction: ticket code, NIK, phone, RT/RW, kelurahan, kecamatan.

Regex and lookup based because these are exact things; overlapping matches are resolved so each
character belongs to at most one entity and every (entity, value) pair appears once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from nlu.patterns import CODE_RE, NIK_RE, PHONE_RE, RT_RW_RE, canonical_code, digits

DEFAULT_CITY = Path(__file__).resolve().parent.parent / "data" / "city.yml"

# Higher wins when two matches overlap. A place written with its prefix ("kec. Jebres") beats a
# bare name, because five kecamatan share their name with a kelurahan.
PRIORITY = {"ticket_code": 6, "nik": 5, "phone": 4, "rt_rw": 3, "kelurahan": 2, "kecamatan": 1}
PREFIXED_BONUS = 2
PREFIXES = {"kecamatan": ("kecamatan", "kec"), "kelurahan": ("kelurahan", "kel", "desa")}


@dataclass(frozen=True)
class Entity:
    entity: str
    value: str
    start: int
    end: int

    def as_rasa(self, extractor: str) -> dict:
        return {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "confidence_entity": 1.0,
            "extractor": extractor,
        }


@dataclass(frozen=True)
class Gazetteer:
    city: str
    patterns: tuple[tuple[str, str, bool, re.Pattern[str]], ...]  # (entity, name, prefixed, regex)


@lru_cache(maxsize=4)
def load_gazetteer(path: str | Path = DEFAULT_CITY) -> Gazetteer:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    patterns: list[tuple[str, str, bool, re.Pattern[str]]] = []
    places = [("kecamatan", k) for k in raw.get("kecamatan") or {}]
    places += [("kelurahan", kel) for kels in (raw.get("kecamatan") or {}).values() for kel in kels or ()]
    for entity, name in places:
        patterns.append((entity, name, True, _name_pattern(name, PREFIXES[entity], prefixed=True)))
        if not (" " not in name and len(name) <= 5):  # short single words ("Bumi") need their prefix
            patterns.append((entity, name, False, _name_pattern(name, PREFIXES[entity], prefixed=False)))
    return Gazetteer(raw.get("city", ""), tuple(patterns))


def _name_pattern(name: str, prefixes: tuple[str, ...], *, prefixed: bool) -> re.Pattern[str]:
    words = r"[\s\-]+".join(re.escape(w) for w in name.lower().split())
    prefix = r"(?:" + "|".join(prefixes) + r")\.?\s*" if prefixed else ""
    return re.compile(rf"\b{prefix}({words})\b", re.IGNORECASE)


def extract(text: str, gazetteer: Gazetteer | None = None) -> list[Entity]:
    found: list[tuple[int, Entity]] = []
    for m in CODE_RE.finditer(text):
        found.append((PRIORITY["ticket_code"], Entity("ticket_code", canonical_code(m.group(1)), *m.span())))
    for m in NIK_RE.finditer(text):
        found.append((PRIORITY["nik"], Entity("nik", digits(m.group(0)), *m.span())))
    for m in PHONE_RE.finditer(text):
        value = digits(m.group(0))
        value = "0" + value[2:] if value.startswith("62") else value
        found.append((PRIORITY["phone"], Entity("phone", value, *m.span())))
    for m in RT_RW_RE.finditer(text):
        rt = m.group(1) or m.group(3)
        value = f"RT {int(rt):02d}/RW {int(m.group(2)):02d}" if m.group(2) else f"RT {int(rt):02d}"
        found.append((PRIORITY["rt_rw"], Entity("rt_rw", value, *m.span())))
    gazetteer = gazetteer or load_gazetteer()
    for entity, name, prefixed, pattern in gazetteer.patterns:
        for m in pattern.finditer(text):
            found.append((PRIORITY[entity] + (PREFIXED_BONUS if prefixed else 0), Entity(entity, name, *m.span())))
    return _resolve(found)


def _resolve(found: list[tuple[int, Entity]]) -> list[Entity]:
    taken: list[Entity] = []
    seen: set[tuple[str, str]] = set()
    for _, ent in sorted(found, key=lambda p: (-p[0], -(p[1].end - p[1].start), p[1].start)):
        if any(ent.start < t.end and t.start < ent.end for t in taken):
            continue
        if (ent.entity, ent.value) in seen:
            continue
        seen.add((ent.entity, ent.value))
        taken.append(ent)
    return sorted(taken, key=lambda e: e.start)
