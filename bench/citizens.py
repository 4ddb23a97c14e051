"""Simulated citizens: their own complaint texts, places and privacy choices, and how they answer the bot.

A citizen reacts to what the bot actually asked (location, photo, privacy, category, summary), as a
person would, instead of replaying a fixed list: a misread complaint then costs an extra turn, not
a broken run. The same citizen logic drives the Telegram run and the bare-Rasa run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

CODE = re.compile(r"ADU-[2-9A-HJKMNP-TV-Z]{7}")
MAX_TURNS = 12

# Varied complaints across the 13 categories, written the way citizens write.
COMPLAINTS: tuple[str, ...] = (
    "min jalan depan SD 3 berlubang bgt, udh 2 org jatuh",
    "jalan di kampung kami rusak parah, aspalnya ngelupas semua sejak musim hujan",
    "saluran air di gang kami mampet, kalau hujan air meluber ke rumah warga",
    "trotoar di depan pasar ambles, bahaya buat pejalan kaki",
    "lampu jalan di gang mawar mati sudah seminggu, gelap sekali malam hari",
    "pju depan masjid kedip2 terus dari kemarin",
    "tiang lampu jalan miring hampir roboh di pinggir jalan raya",
    "sampah numpuk di TPS sudah 5 hari gak diangkut, baunya sampai ke rumah",
    "truk sampah tidak lewat lagi di perumahan kami sejak dua minggu",
    "ada pabrik buang limbah ke sungai, airnya jadi hitam dan bau",
    "air pdam mati 3 hari, kami harus beli air galon untuk mandi",
    "air PDAM keruh kecoklatan sejak kemarin pagi",
    "pipa pdam bocor di depan rumah, air muncrat terus ke jalan",
    "bansos sy blm cair udh 3 bulan, padahal nama ada di DTKS",
    "bantuan PKH ibu saya dipotong oleh pendamping setiap pencairan",
    "ktp el saya sudah 6 bulan belum jadi, katanya blanko habis",
    "mau urus akta kelahiran anak tapi dipersulit di kelurahan",
    "KK saya salah nama, sudah lapor tapi belum dibetulkan",
    "puskesmas tutup padahal jam buka, warga yang sakit disuruh pulang",
    "banyak warga kena DBD di RW kami, mohon fogging segera",
    "ambulans desa lama sekali datangnya waktu ada warga pingsan",
    "sekolah anak saya minta uang seragam dan LKS mahal sekali",
    "PPDB zonasi tidak adil, rumah dekat sekolah malah tidak diterima",
    "guru sering tidak masuk kelas, anak-anak dibiarkan main",
    "banjir setinggi lutut di perumahan kami sejak tadi malam",
    "pohon tumbang menutup jalan di dekat pertigaan, belum ada yang membersihkan",
    "tanah longsor di belakang rumah warga setelah hujan deras",
    "parkir liar di depan minimarket bikin macet tiap sore",
    "PKL jualan di trotoar sampai pejalan kaki harus turun ke jalan",
    "balap liar tiap malam minggu di jalan dekat stadion, berisik dan bahaya",
    "lampu lalu lintas di perempatan mati, kendaraan saling serobot",
    "rambu dilarang parkir roboh dan hilang sejak bulan lalu",
    "angkot ngetem sembarangan di depan sekolah",
    "ada pungli waktu urus surat di kantor kecamatan",
    "petugas kelurahan kasar dan tidak ada di tempat saat jam kerja",
    "izin usaha saya sudah sebulan belum diproses di OSS",
    "reklame besar dipasang tanpa izin dan menutupi rambu",
    "bangunan liar berdiri di atas saluran air dekat pasar",
    "taman kota tidak terawat, rumput tinggi dan banyak sampah",
    "ada ODGJ berkeliaran di dekat sekolah, warga khawatir",
)

ADDRESSES: tuple[str, ...] = (
    "di jl. kenanga RT 02/RW 05 kel. jebres, depan SD N 3",
    "gang mawar 3 RT 04 kel. kerten, depan masjid",
    "jl. slamet riyadi dekat halte sriwedari",
    "perumahan griya asri blok C, kel. mojosongo",
    "jl. adi sucipto depan pasar kleco, kel. karangasem",
    "kampung sewu RT 01/RW 03, pinggir kali bengawan solo",
    "jl. veteran no 12 kel. tipes, sebelah apotek",
    "gang melati RT 06/RW 02 kel. pajang",
)

COORDINATES: tuple[tuple[float, float], ...] = (
    (-7.56123, 110.83456),
    (-7.57011, 110.82187),
    (-7.55402, 110.85219),
    (-7.58333, 110.80571),
)

STATUS_QUESTIONS: tuple[str, ...] = (
    "gimana laporan saya {code}",
    "cek status {code}",
    "min laporan {code} sudah sampai mana?",
    "status laporan {code} bagaimana ya",
)

PRIVACY = ("biasa", "anonim", "rahasia")


@dataclass(frozen=True)
class Move:
    """What the citizen sends next: text, a shared location, or a button press (its payload)."""

    kind: str  # "text" | "location" | "button"
    text: str = ""
    latitude: float = 0.0
    longitude: float = 0.0
    message_id: int | None = None  # the bot message whose button is pressed (Telegram)

    def rasa_text(self) -> str:
        """The same move as the gateway would hand it to Rasa's REST channel."""
        if self.kind == "location":
            return "/share_location" + json.dumps({"latitude": self.latitude, "longitude": self.longitude})
        return self.text


@dataclass
class Answer:
    """The bot's answer to one turn: all its texts joined and its buttons (title, payload, message id)."""

    text: str
    buttons: list[tuple[str, str, int | None]] = field(default_factory=list)

    def button(self, prefix: str) -> tuple[str, str, int | None] | None:
        return next((b for b in self.buttons if b[1].startswith(prefix)), None)


class Outcome(Exception):
    """The conversation cannot go on (the bot answered something the citizen cannot follow)."""


@dataclass
class Citizen:
    number: int
    complaint: str
    address: str
    coordinates: tuple[float, float]
    share_location: bool
    privacy: str
    status_question: str
    code: str | None = None
    status_asked: bool = False
    done: bool = False
    turns: int = 0
    _location_tries: int = 0
    _unexpected: int = 0

    @classmethod
    def make(cls, number: int) -> Citizen:
        return cls(
            number=number,
            complaint=COMPLAINTS[(number * 7) % len(COMPLAINTS)],
            address=ADDRESSES[number % len(ADDRESSES)],
            coordinates=COORDINATES[number % len(COORDINATES)],
            share_location=number % 2 == 0,
            privacy=PRIVACY[number % len(PRIVACY)],
            status_question=STATUS_QUESTIONS[number % len(STATUS_QUESTIONS)],
        )

    def first_move(self) -> Move:
        return Move("text", self.complaint)

    def next_move(self, answer: Answer) -> Move | None:
        """The reply to the bot's answer; None when the conversation is complete. Raises Outcome when stuck."""
        if self.turns >= MAX_TURNS:
            raise Outcome(f"not finished after {MAX_TURNS} turns")
        lower = answer.text.lower()
        if self.status_asked:
            if self.code and self.code in answer.text:
                self.done = True
                return None
            raise Outcome(f"status answer without the code: {answer.text[:120]!r}")
        found = CODE.search(answer.text)
        if found and "kode laporan" in lower:
            self.code = found.group(0)
            self.status_asked = True
            return Move("text", self.status_question.format(code=self.code.lower() if self.number % 3 else self.code))
        for prefix in ("/affirm", f'/choose_privacy{{"privacy":"{self.privacy}"', "/choose_privacy", "/skip"):
            button = answer.button(prefix)
            if button:
                return Move("button", button[1], message_id=button[2])
        category = answer.button("/choose_category")
        if category:
            return Move("button", category[1], message_id=category[2])
        if "lokasi" in lower:
            self._location_tries += 1
            if self._location_tries > 2:
                raise Outcome("location asked three times")
            if self.share_location and self._location_tries == 1:
                return Move("location", latitude=self.coordinates[0], longitude=self.coordinates[1])
            return Move("text", self.address if self._location_tries == 1 else self.address + ", patokan dekat gapura")
        if "lebih lengkap" in lower:
            return Move("text", self.complaint + ", mohon segera ditindaklanjuti karena sudah lama")
        self._unexpected += 1
        if self._unexpected > 2:
            raise Outcome(f"unexpected answers: {answer.text[:120]!r}")
        return Move("text", self.complaint)
