"""Ticket lifecycle as one explicit state machine (aligned with SP4N-LAPOR!).

Plain Python: the ticket service asks it whether a change is legal before writing anything,
so an illegal transition never touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    BARU = "baru"
    DIDISPOSISIKAN = "didisposisikan"
    DIPROSES = "diproses"
    SELESAI = "selesai"
    DITUTUP = "ditutup"
    DITOLAK = "ditolak"


STATUS_LABELS: dict[Status, str] = {
    Status.BARU: "Baru diterima",
    Status.DIDISPOSISIKAN: "Diteruskan ke OPD",
    Status.DIPROSES: "Sedang diproses",
    Status.SELESAI: "Selesai ditangani",
    Status.DITUTUP: "Ditutup",
    Status.DITOLAK: "Ditolak",
}


@dataclass(frozen=True)
class Transition:
    source: Status
    target: Status
    needs_note: bool = False
    """A reason is mandatory (rejection, re-routing)."""
    reopen: bool = False
    """Only allowed while the reopen window after `selesai` is still open."""


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Status.BARU, Status.DIDISPOSISIKAN),
    Transition(Status.BARU, Status.DITOLAK, needs_note=True),
    Transition(Status.DIDISPOSISIKAN, Status.DIDISPOSISIKAN, needs_note=True),  # "bukan wewenang"
    Transition(Status.DIDISPOSISIKAN, Status.DIPROSES),
    Transition(Status.DIDISPOSISIKAN, Status.DITOLAK, needs_note=True),
    Transition(Status.DIPROSES, Status.SELESAI),
    Transition(Status.SELESAI, Status.DIPROSES, reopen=True),
    Transition(Status.SELESAI, Status.DITUTUP),
)

_BY_PAIR = {(t.source, t.target): t for t in TRANSITIONS}

REOPEN_WINDOW_WORKDAYS = 10
"""Citizens may reopen within this many working days after `selesai`; after it the ticket closes."""


class TransitionError(ValueError):
    """An illegal status change; the message is safe to show to an admin."""


def allowed_targets(source: Status) -> list[Status]:
    return [t.target for t in TRANSITIONS if t.source == source]


def check_transition(
    source: Status | str,
    target: Status | str,
    note: str | None = None,
    *,
    reopen_window_open: bool = True,
) -> Transition:
    """Return the transition if it is legal, else raise TransitionError without side effects."""
    try:
        src, dst = Status(source), Status(target)
    except ValueError:
        unknown = target if str(target) not in {s.value for s in Status} else source
        choices = ", ".join(s.value for s in Status)
        raise TransitionError(f"Status '{unknown}' tidak dikenal. Pilihan: {choices}.") from None
    transition = _BY_PAIR.get((src, dst))
    if transition is None:
        options = ", ".join(s.value for s in allowed_targets(src)) or "tidak ada (status akhir)"
        raise TransitionError(
            f"Perubahan status dari '{src.value}' ke '{dst.value}' tidak diizinkan. Pilihan yang sah: {options}."
        )
    if transition.needs_note and not (note and note.strip()):
        raise TransitionError(f"Perubahan ke '{dst.value}' wajib disertai alasan.")
    if transition.reopen and not reopen_window_open:
        raise TransitionError(
            f"Laporan hanya dapat dibuka kembali dalam {REOPEN_WINDOW_WORKDAYS} hari kerja setelah selesai."
        )
    return transition
