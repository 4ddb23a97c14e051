"""Exact entity extraction: ticket code, NIK, phone, RT/RW, kelurahan, kecamatan, places, danger.

`place` covers what citizens write to say where: streets (jl./jln/jalan Name), gang/gg,
perumahan/blok and landmarks (depan/dekat/samping/belakang + a place). `danger` is a lexicon of
danger to people or property (fire, people trapped, electrocution...): an entity, not an intent,
so it stacks with the complaint's category.

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
PRIORITY = {"ticket_code": 6, "nik": 5, "phone": 4, "rt_rw": 3, "kelurahan": 2, "kecamatan": 1, "place": 0}
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
    found.extend((PRIORITY["place"], e) for e in extract_places(text))
    # Danger overlaps anything (it is about what happens, not where): resolved on its own.
    return sorted(_resolve(found) + extract_danger(text), key=lambda e: e.start)


# Words that end a place name: what is wrong, when, and small talk ("dpn toko emas | mati udah seminggu").
STOP = [
    "mati",
    "rusak",
    "berlubang",
    "bolong",
    "lubang",
    "retak",
    "ambles",
    "amblas",
    "banjir",
    "tergenang",
    "macet",
    "kotor",
    "bau",
    "numpuk",
    "menumpuk",
    "padam",
    "kedip",
    "berkedip",
    "gelap",
    "bocor",
    "keruh",
    "putus",
    "roboh",
    "tumbang",
    "jatuh",
    "sudah",
    "udah",
    "udh",
    "sdh",
    "sejak",
    "dari",
    "selama",
    "sampai",
    "belum",
    "blm",
    "tidak",
    "tdk",
    "gak",
    "ga",
    "nggak",
    "ngga",
    "enggak",
    "yang",
    "yg",
    "dan",
    "dan/atau",
    "atau",
    "tapi",
    "trus",
    "terus",
    "jg",
    "juga",
    "sangat",
    "banget",
    "bgt",
    "sekali",
    "ini",
    "itu",
    "tsb",
    "nya",
    "min",
    "pak",
    "bu",
    "mohon",
    "tolong",
    "kok",
    "sih",
    "dong",
    "ya",
    "karena",
    "krn",
    "soalnya",
    "hari",
    "minggu",
    "bulan",
    "tahun",
    "seminggu",
    "sebulan",
    "setahun",
    "kemarin",
    "kemaren",
    "tadi",
    "di",
    "ke",
    "pada",
    "dengan",
    "dgn",
    "utk",
    "untuk",
    "ada",
    "apinya",
    "parah",
    "lebar",
    "dalam",
    "banyak",
    "motor",
    "mobil",
    "orang",
    "warga",
    "rt",
    "rw",
    "kel",
    "kelurahan",
    "kec",
    "kecamatan",
    "desa",
    "depan",
    "dpn",
    "dekat",
    "dkt",
    "deket",
    "samping",
    "sebelah",
    "belakang",
    "blkg",
    "seberang",
    "sebrang",
]
_WORD = r"[A-Za-z0-9][\w.'/-]*"
_NAME = rf"(?:(?!(?:{'|'.join(STOP)})\b){_WORD})"
_NAMES = rf"{_NAME}(?:\s+{_NAME}){{0,3}}"
PLACE_RES = (
    re.compile(rf"\b(?:jl|jln)\b\.?\s*{_NAMES}", re.IGNORECASE),
    re.compile(rf"\b[Jj]alan\s+(?:[Rr]aya\s+)?[A-Z]\w*(?:\s+{_NAMES})?"),  # "Jalan Ahmad Yani", not "jalan rusak"
    re.compile(rf"\b(?:gang|gg)\b\.?\s*{_NAMES}", re.IGNORECASE),
    re.compile(rf"\b(?:perumahan|perum|komplek|kompleks|griya)\b\.?\s*{_NAMES}", re.IGNORECASE),
    re.compile(r"\bblok\s+[a-z]?\d*[a-z]?(?:\s*(?:no\.?|nomor)\s*\d+)?\b", re.IGNORECASE),
    re.compile(
        rf"\b(?:depan|dpn|dekat|dkt|deket|samping|sebelah|belakang|blkg|seberang|sebrang)\s+(?:{_NAMES})",
        re.IGNORECASE,
    ),
)
NUMBER_RE = re.compile(r"\b(?:no|nomor|nmr)\.?\s*\d+[a-z]?\b", re.IGNORECASE)

DANGER = {
    "kebakaran": r"kebakaran|terbakar|kebakar|kobong|kobongan|dilalap\s+api"
    r"|api(?:nya)?\s+(?:gede|besar|membesar|menjalar|berkobar)",
    "terjebak": r"(?:ter|ke)(?:jebak|perangkap|timbun|timpa|tindih|jepit|seret)|tertimpa|hanyut|tenggelam"
    r"|(?:blm|belum|tdk|tidak|gak|ga|nggak|belom)\s+(?:bisa\s+)?(?:di)?evakuasi"
    r"|butuh\s+(?:evakuasi|perahu)|minta\s+evakuasi|tolong\s+evakuasi"
    r"|masih\s+ada\s+(?:warga|orang|anak|lansia|bayi)[^.!?]{0,40}\bdi\s*dalam",
    "korban": r"luka\s+(?:parah|berat)|(?:yg|yang|orang|warga)\s+luka|korban\s+luka|(?<!demam )berdarah|pingsan"
    r"|tidak\s+sadarkan\s+diri|kesetrum|tersengat\s+listrik",
    "bangunan": r"rumah\s+(?:roboh|ambruk)|gas\s+bocor|bocor\s+gas|kabel\s+listrik\s+putus|tiang\s+listrik\s+roboh"
    r"|longsor\s+(?:menimpa|menutup)\s+rumah|atap\s+(?:rumah\s+)?(?:terbang|ambruk|roboh)",
    "banjir": r"banjir\b.{0,40}\b(?:selutut|sepinggang|sedada|seleher|sampai\s+atap|masuk\s+rumah"
    r"|setinggi\s+(?:lutut|pinggang|dada|leher|atap))",
}
DANGER_RES = tuple((kind, re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)) for kind, pattern in DANGER.items())
PAST_RE = re.compile(
    r"(?<!dari )(?<!sejak )(?<!dr )\b(?:kemarin|kemaren|kmrn|minggu\s+lalu|bulan\s+lalu|tahun\s+lalu|waktu\s+itu)\b",
    re.IGNORECASE,
)
"""A danger told as past ("pingsan kemarin") is a complaint about what followed, not an emergency now;
"dari/sejak kemarin" is still going on. People trapped are always now."""


def extract_places(text: str) -> list[Entity]:
    """Streets, gang, perumahan/blok and landmarks, plus house numbers ('No. 12'), as written."""
    out = []
    for pattern in (*PLACE_RES, NUMBER_RE):
        for m in pattern.finditer(text):
            value = m.group(0).strip(" ,.")
            if len(value.split()) >= 2 or pattern is NUMBER_RE:
                out.append(Entity("place", value, m.start(), m.start() + len(value)))
    return out


def extract_danger(text: str) -> list[Entity]:
    """Danger to people or property, one entity per kind (value: the kind, e.g. 'kebakaran')."""
    out = []
    past = PAST_RE.search(text) is not None
    for kind, pattern in DANGER_RES:
        m = pattern.search(text)
        if m and not (past and kind != "terjebak"):
            out.append(Entity("danger", kind, *m.span()))
    return out


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
