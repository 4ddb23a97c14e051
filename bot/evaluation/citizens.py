"""Scripted citizens: what each one wants to report and how it answers the bot, like a person would.

A citizen reads every bot turn (texts + buttons), recognises the question by meaning (keywords and the
buttons offered, never an exact sentence, so rewording the dialogue does not break it) and answers from
its script: typed text, a button press, a shared location or a photo. It notices loops (the same
question three times in a row) and stops after a turn cap, so one bad dialogue cannot stall a run.
This module is plain Python: no channel, network or Rasa imports, so the policy is unit-tested alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.domain.categories import FALLBACK_ID, load_taxonomy

TURN_CAP = 15
LOOP_REPEATS = 3
CODE_RE = re.compile(r"\bADU-[0-9A-Z]{7}\b")

# Steps of the complaint form and the other things a bot turn can be.
SUMMARY, EDIT, PRIVACY, CATEGORY, PHOTO, LOCATION = "summary", "edit", "privacy", "category", "photo", "location"
COMPLAINT, FORWARD, FALLBACK, OTHER = "complaint", "forward", "fallback", "other"
FORM_STEPS = (SUMMARY, EDIT, PRIVACY, CATEGORY, PHOTO, LOCATION)

AFFIRMATIVE = ("ya", "iya", "lanjut", "pisah", "boleh", "setuju", "teruskan", "kirim", "laporkan", "oke", "buat")
NEGATIVE = ("tidak", "gak", "nggak", "tdk", "jangan", "cukup", "batal", "tidak usah")
EDIT_WORDS = {
    "location": "lokasi",
    "category": "kategori",
    "complaint": "keluhan",
    "photo": "foto",
    "privacy": "identitas",
}
TYPED_PRIVACY = {"biasa": "biasa aja", "anonim": "anonim aja min", "rahasia": "rahasia ya"}
DEFAULT_PROTEST = "lho sy cuma mau nanya aja min, bukan mau lapor"
DEFAULT_RESUME = "yaudah nanti aja, lanjut laporan yg td min"
DEFAULT_NO_PHOTO = "gk ada fotonya min"


# --- the script ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """One complaint the citizen wants filed, with its answers and what the ticket must hold."""

    category: str
    location: str | None = None
    share: tuple[float, float] | None = None  # Telegram share-location instead of typed words
    location_alt: str | None = None  # said when the bot asks for the location again right away
    where: tuple[str, ...] = ()  # words that must appear in the ticket's location text
    complaint: str | None = None  # told when the bot asks what the problem is
    photo: bool = False
    privacy: str = "biasa"
    urgent: bool = False
    kind: str = "pengaduan"


@dataclass(frozen=True)
class Citizen:
    id: str
    group: str  # cooperative | free
    say: tuple[str, ...]  # opening message(s); later ones are sent when the bot invites them
    reports: tuple[Report, ...] = ()
    channel: str | None = None  # pinned channel (share-location and photos need telegram)
    typed: frozenset[str] = frozenset()  # steps answered by typing instead of pressing a button
    texts: dict[str, str] = field(default_factory=dict)  # typed answers per step (privacy, summary, ...)
    at: dict[str, str] = field(default_factory=dict)  # said once, the first time that step is asked
    fix: dict[str, str] = field(default_factory=dict)  # what the `at` remark corrects (field -> new value)
    fix_where: tuple[str, ...] = ()  # location words after the correction
    question: bool = False  # a request for information: no complaint ticket expected
    forward: bool = False  # accepts the offer to forward the question to the OPD
    rephrase: str | None = None  # said once when the bot does not understand

    @property
    def expected(self) -> tuple[Report, ...]:
        if not self.fix or not self.reports:
            return self.reports
        first = self.reports[0]
        changes: dict[str, Any] = {}
        if "location" in self.fix:
            changes |= {"location": self.fix["location"], "share": None, "where": self.fix_where or first.where}
        if "category" in self.fix:
            changes["category"] = self.fix["category"]
        if "privacy" in self.fix:
            changes["privacy"] = self.fix["privacy"]
        return (replace(first, **changes), *self.reports[1:])


def _report(raw: dict[str, Any]) -> Report:
    share = raw.get("share")
    return Report(
        category=str(raw["cat"]),
        location=raw.get("loc"),
        share=(float(share[0]), float(share[1])) if share else None,
        location_alt=raw.get("loc_alt"),
        where=tuple(str(w).lower() for w in raw.get("where") or ()),
        complaint=raw.get("complaint"),
        photo=bool(raw.get("photo", False)),
        privacy=str(raw.get("privacy", "biasa")),
        urgent=bool(raw.get("urgent", False)),
        kind=str(raw.get("kind", "pengaduan")),
    )


def parse_citizen(raw: dict[str, Any], group: str) -> Citizen:
    say = raw["say"]
    question = bool(raw.get("ask", False))
    reports = () if question else (_report(raw), *(_report(r) for r in raw.get("more") or ()))
    typed = raw.get("typed") or ()
    typed_steps = frozenset(FORM_STEPS) if typed is True else frozenset(typed)
    citizen = Citizen(
        id=str(raw["id"]),
        group=group,
        say=(say,) if isinstance(say, str) else tuple(say),
        reports=reports,
        channel=raw.get("channel") or ("telegram" if any(r.share for r in reports) else None),
        typed=typed_steps,
        texts={str(k): str(v) for k, v in (raw.get("texts") or {}).items()},
        at={str(k): str(v) for k, v in (raw.get("at") or {}).items()},
        fix={str(k): str(v) for k, v in (raw.get("fix") or {}).items()},
        fix_where=tuple(str(w).lower() for w in raw.get("fix_where") or ()),
        question=question,
        forward=bool(raw.get("forward", False)),
        rephrase=raw.get("rephrase"),
    )
    _check(citizen)
    return citizen


def _check(citizen: Citizen) -> None:
    taxonomy = load_taxonomy()
    for report in citizen.reports:
        if report.category not in taxonomy.categories and report.category != FALLBACK_ID:
            raise ValueError(f"{citizen.id}: unknown category {report.category!r}")
        if not report.location and not report.share:
            raise ValueError(f"{citizen.id}: a report needs loc or share")
        if report.privacy not in TYPED_PRIVACY:
            raise ValueError(f"{citizen.id}: privacy must be one of {sorted(TYPED_PRIVACY)}")
    if not citizen.question and not citizen.reports:
        raise ValueError(f"{citizen.id}: neither a question nor a report")


def load_citizens(path: Path) -> list[Citizen]:
    """The YAML file has two lists, `cooperative` and `free_typing`; ids must be unique."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    citizens = [parse_citizen(item, "cooperative") for item in raw.get("cooperative") or ()]
    citizens += [parse_citizen(item, "free") for item in raw.get("free_typing") or ()]
    ids = [c.id for c in citizens]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate citizen ids: {duplicates}")
    return citizens


# --- what the bot said --------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    title: str
    value: Any  # web: the payload; telegram: (callback_data, message_id)


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class BotTurn:
    """Everything the bot sent in answer to one citizen message."""

    messages: tuple[BotMessage, ...]

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.messages)

    @property
    def buttons(self) -> tuple[Button, ...]:
        for message in reversed(self.messages):
            if message.buttons:
                return message.buttons
        return ()

    def codes(self) -> list[str]:
        """Ticket codes the bot reports as filed (an example code in a request for one is not)."""
        return [
            code
            for m in self.messages
            if not _has(m.text.lower(), "contoh", "misal")
            for code in CODE_RE.findall(m.text.upper())
        ]


def _has(text: str, *words: str) -> bool:
    return any(w in text for w in words)


def classify_message(message: BotMessage) -> str:
    """The kind of question one bot message asks, read by meaning (keywords and buttons)."""
    text = message.text.lower()
    titles = " | ".join(b.title.lower() for b in message.buttons)
    asks = "?" in text or bool(message.buttons) or _has(text, "silakan", "mohon", "sebutkan", "boleh", "pilih")
    fields = sum(word in text for word in ("keluhan", "kategori", "lokasi", "foto", "identitas"))
    confirms = _has(text, "sudah benar", "sudah sesuai")
    if _has(text, "ringkasan", "siap dikirim") or "kirim laporan" in titles or (confirms and fields >= 2):
        return SUMMARY
    if _has(text, "bagian mana", "ingin diubah", "mau diubah", "yang diubah") or (
        "lokasi" in titles and "kategori" in titles
    ):
        return EDIT
    if not asks:
        return FALLBACK if _has(text, "belum memahami", "belum menangkap", "belum mengerti") else OTHER
    if "anonim" in titles or _has(text, "identitas", "anonim"):
        return PRIVACY
    if "kategori" in text and (len(message.buttons) >= 3 or _has(text, "kategori apa", "sesuai dengan kategori")):
        return CATEGORY
    if "foto" in text and "foto sudah kami terima" not in text:
        return PHOTO
    if _has(text, "lokasi", "di mana", "dimana", "alamat", "patokan", "share location", "titik"):
        return LOCATION
    if _has(text, "teruskan", "diteruskan", "meneruskan") and _has(text, "pertanyaan", "informasi"):
        return FORWARD
    if _has(text, "belum memahami", "belum menangkap", "belum mengerti", "kurang yakin", "diulang"):
        return FALLBACK
    if _has(text, "ceritakan", "keluhan apa", "keluhannya", "apa masalahnya", "ingin dilaporkan", "mau lapor apa"):
        return COMPLAINT
    return OTHER


def classify(turn: BotTurn) -> str:
    """The question the turn ends with: the last message that asks something wins."""
    kinds = [classify_message(m) for m in turn.messages]
    for kind in reversed(kinds):
        if kind not in (OTHER, FALLBACK):
            return kind
    return FALLBACK if FALLBACK in kinds else OTHER


# --- the citizen's side of the conversation ----------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One thing the citizen does: type, press a button, share a location or send a photo."""

    kind: str  # text | click | location | photo
    text: str = ""
    button: Button | None = None
    location: tuple[float, float] | None = None

    def describe(self) -> str:
        if self.kind == "click" and self.button:
            return f"[presses: {self.button.title}]"
        if self.kind == "location" and self.location:
            return f"[shares location {self.location[0]:.5f},{self.location[1]:.5f}]"
        if self.kind == "photo":
            return "[sends a photo]"
        return self.text


def _find(buttons: tuple[Button, ...], *words: str) -> Button | None:
    for word in words:
        for button in buttons:
            title = button.title.lower()
            if re.search(rf"(^|\W){re.escape(word)}(\W|$)", title):
                return button
    return None


class Conversation:
    """The adaptive citizen for one chat: feed it each bot turn, it answers or stops (returns None)."""

    def __init__(self, citizen: Citizen, channel: str, turn_cap: int = TURN_CAP) -> None:
        self.citizen = citizen
        self.channel = channel
        self.turn_cap = turn_cap
        self.transcript: list[tuple[str, str]] = []
        self.kinds: list[str] = []
        self.signatures: list[str] = []
        self.codes: list[str] = []
        self.sent = 0
        self.loops = 0
        self.ended: str | None = None  # done | loop | cap | silent | gave_up | not_understood
        self.answered = False  # a question got a reply that was not the complaint form or "not understood"
        self.form_started = False
        self._openers = list(citizen.say)
        self._said_at: set[str] = set()
        self._pending_edit = next(iter(citizen.fix), None)
        self._fixed = False
        self._rephrased = False
        self._resumed = False
        self._protested = False

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def report(self) -> Report | None:
        reports = self._reports()
        return reports[len(self.codes)] if len(self.codes) < len(reports) else None

    def _reports(self) -> tuple[Report, ...]:
        return self.citizen.expected if self._fixed else self.citizen.reports

    def _act(self, action: Action) -> Action:
        self.sent += 1
        self.transcript.append(("citizen", action.describe()))
        return action

    def _say(self, text: str) -> Action:
        return self._act(Action("text", text=text))

    def _click(self, button: Button | None, fallback_text: str) -> Action:
        return self._act(Action("click", button=button)) if button else self._say(fallback_text)

    def _end(self, reason: str) -> None:
        self.ended = reason

    def start(self) -> Action:
        return self._say(self._openers.pop(0))

    # -- reading a bot turn --------------------------------------------------------------------------
    def silent(self) -> None:
        """The bot did not answer within the wait."""
        self.transcript.append(("bot", "(no answer)"))
        self._end("silent")

    def next(self, turn: BotTurn) -> Action | None:
        for message in turn.messages:
            titles = " | ".join(b.title for b in message.buttons)
            self.transcript.append(("bot", message.text + (f"\n  [buttons: {titles}]" if titles else "")))
        kind = classify(turn)
        self.kinds.append(kind)
        new_codes = [c for c in turn.codes() if c not in self.codes]
        self.codes += new_codes
        signature = kind if kind in FORM_STEPS or kind == COMPLAINT else re.sub(r"\W+", " ", turn.text.lower())
        self.signatures.append(signature)
        if len(self.signatures) >= LOOP_REPEATS and len(set(self.signatures[-LOOP_REPEATS:])) == 1 and not new_codes:
            self.loops += 1
            self._end("loop")
            return None
        if self.sent >= self.turn_cap:
            self._end("cap")
            return None
        if self.citizen.question:
            return self._question(kind, turn)
        return self._complaint(kind, turn, bool(new_codes))

    # -- a request for information ---------------------------------------------------------------
    def _question(self, kind: str, turn: BotTurn) -> Action | None:
        if kind == COMPLAINT and self._openers and not self.form_started:  # "how can we help?" after a hello
            return self._say(self._openers.pop(0))
        if kind in FORM_STEPS or kind == COMPLAINT:
            self.form_started = True
            if self._protested:
                self._end("gave_up")
                return None
            self._protested = True
            return self._say(self.citizen.at.get("form", DEFAULT_PROTEST))
        if kind == FORWARD or (turn.buttons and _has(turn.text.lower(), "teruskan", "diteruskan")):
            self.answered = True
            if self.citizen.forward:
                return self._click(_find(turn.buttons, *AFFIRMATIVE), "iya boleh, tolong diteruskan ya min")
            return self._click(_find(turn.buttons, *NEGATIVE), "gk usah min, makasih infonya")
        if kind == FALLBACK:
            if self.citizen.rephrase and not self._rephrased:
                self._rephrased = True
                return self._say(self.citizen.rephrase)
            self._end("not_understood")
            return None
        if self._openers:  # e.g. a greeting first, the question next
            self.answered = False
            return self._say(self._openers.pop(0))
        self.answered = "di luar layanan" not in turn.text.lower()  # a brush-off is no answer
        self._end("done")
        return None

    # -- a complaint ---------------------------------------------------------------------------------
    def _complaint(self, kind: str, turn: BotTurn, filed: bool) -> Action | None:
        report = self.report
        if report is None:  # everything the citizen wanted is filed
            self._end("done")
            return None
        if kind in self.citizen.at and kind not in self._said_at:
            self._said_at.add(kind)
            if kind == SUMMARY and self.citizen.fix:
                self._fixed = True
            return self._say(self.citizen.at[kind])
        if filed and kind not in FORM_STEPS:  # next report pending: accept an offer, never retype it
            button = _find(turn.buttons, *AFFIRMATIVE)
            if button:
                return self._click(button, "")
            if "?" in turn.text:
                return self._say("iya min, lanjut yg berikutnya")
            self._end("done")
            return None
        handler = {
            SUMMARY: self._summary,
            EDIT: self._edit,
            PRIVACY: self._privacy,
            CATEGORY: self._category,
            PHOTO: self._photo,
            LOCATION: self._location,
        }.get(kind)
        if handler:
            self.form_started = True
            return handler(turn, report)
        if kind == COMPLAINT:
            if self._openers:
                return self._say(self._openers.pop(0))
            if self._fixed and "complaint" in self.citizen.fix:
                return self._say(self.citizen.fix["complaint"])
            later = self.citizen.at.get(SUMMARY) if self.codes else None  # retell the second problem
            return self._say(report.complaint or later or self.citizen.say[0])
        if self._openers and not self.form_started:
            return self._say(self._openers.pop(0))
        if self.form_started and not self._resumed:
            self._resumed = True
            return self._say(self.citizen.texts.get("resume", DEFAULT_RESUME))
        if len(self._reports()) > 1 and "?" in turn.text:  # e.g. "split into separate reports?"
            button = _find(turn.buttons, *AFFIRMATIVE)
            if button:
                return self._click(button, "")
            if _has(turn.text.lower(), "pisah", "terpisah", "masing-masing", "satu per satu", "sekaligus"):
                return self._say("iya min, dipisah aja laporannya")
        if self.citizen.rephrase and not self._rephrased:
            self._rephrased = True
            return self._say(self.citizen.rephrase)
        self._end("gave_up")
        return None

    def _typed(self, step: str) -> bool:
        return step in self.citizen.typed

    def _summary(self, turn: BotTurn, report: Report) -> Action:
        if self._pending_edit:
            if self._correction_visible(turn.text.lower()):  # the bot already applied it
                self._pending_edit = None
            else:
                if self._typed(SUMMARY):
                    return self._say(self.citizen.texts.get("change", "ubah"))
                return self._click(_find(turn.buttons, "ubah", "edit", "koreksi"), "ubah")
        if self._typed(SUMMARY):
            return self._say(self.citizen.texts.get("summary", "udah bener, kirim aja"))
        return self._click(_find(turn.buttons, "kirim", "kirim laporan", "ya", "benar"), "kirim")

    def _correction_visible(self, summary: str) -> bool:
        field_name = self._pending_edit or ""
        wanted = self.citizen.fix.get(field_name, "").lower()
        if field_name == "category":
            wanted = load_taxonomy().get(wanted).label.lower()
        elif field_name == "location" and self.citizen.fix_where:
            return all(word in summary for word in self.citizen.fix_where)
        return bool(wanted) and wanted in summary

    def _edit(self, turn: BotTurn, report: Report) -> Action:
        if self._pending_edit:
            field_name, self._pending_edit = self._pending_edit, None
            word = EDIT_WORDS.get(field_name, field_name)
            if self._typed(EDIT):
                return self._say(f"{word}nya")
            return self._click(_find(turn.buttons, word, *word.split()), word)
        return self._say(self.citizen.texts.get("no_edit", "gk jadi ubah, udh bener kok"))

    def _privacy(self, turn: BotTurn, report: Report) -> Action:
        if self._typed(PRIVACY):
            return self._say(self.citizen.texts.get("privacy", TYPED_PRIVACY[report.privacy]))
        return self._click(_find(turn.buttons, report.privacy), TYPED_PRIVACY[report.privacy])

    def _category(self, turn: BotTurn, report: Report) -> Action:
        taxonomy = load_taxonomy()
        label = taxonomy.get(report.category).label
        if self._typed(CATEGORY):
            return self._say(self.citizen.texts.get("category", label.lower()))
        for button in turn.buttons:
            if button.title.strip().lower() == label.lower():
                return self._click(button, label)
        if report.category == FALLBACK_ID:
            return self._click(_find(turn.buttons, "lainnya"), "lainnya")
        return self._say(label.lower())

    def _photo(self, turn: BotTurn, report: Report) -> Action:
        if report.photo and self.channel == "telegram" and not self._asked_twice(PHOTO):
            return self._act(Action("photo"))
        if self._typed(PHOTO):
            return self._say(self.citizen.texts.get("photo", DEFAULT_NO_PHOTO))
        return self._click(_find(turn.buttons, "lewati", "skip", "tidak ada"), DEFAULT_NO_PHOTO)

    def _location(self, turn: BotTurn, report: Report) -> Action:
        text = turn.text.lower()
        confirming = _has(text, "benar", "betul", "sudah tepat", "sesuai")
        if confirming and report.where and all(w in text for w in report.where):  # the bot read it right
            return self._click(_find(turn.buttons, *AFFIRMATIVE, "benar", "betul", "sesuai"), "iya betul min")
        again = self._asked_twice(LOCATION)
        if report.share and self.channel == "telegram" and not again:
            return self._act(Action("location", location=report.share))
        if again and report.location_alt:
            return self._say(report.location_alt)
        return self._say(report.location or "deket rumah sy min")

    def _asked_twice(self, kind: str) -> bool:
        return len(self.kinds) >= 2 and self.kinds[-2] == kind and self.kinds[-1] == kind
