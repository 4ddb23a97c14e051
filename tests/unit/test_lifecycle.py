"""The lifecycle state machine: every legal transition passes, every other one is refused."""

from __future__ import annotations

import itertools

import pytest

from bot.domain.lifecycle import TRANSITIONS, Status, TransitionError, allowed_targets, check_transition

LEGAL = {
    (Status.BARU, Status.DIDISPOSISIKAN),
    (Status.BARU, Status.DITOLAK),
    (Status.DIDISPOSISIKAN, Status.DIDISPOSISIKAN),
    (Status.DIDISPOSISIKAN, Status.DIPROSES),
    (Status.DIDISPOSISIKAN, Status.DITOLAK),
    (Status.DIPROSES, Status.SELESAI),
    (Status.SELESAI, Status.DIPROSES),
    (Status.SELESAI, Status.DITUTUP),
}
NEEDS_NOTE = {
    (Status.BARU, Status.DITOLAK),
    (Status.DIDISPOSISIKAN, Status.DITOLAK),
    (Status.DIDISPOSISIKAN, Status.DIDISPOSISIKAN),
}
ALL_PAIRS = list(itertools.product(Status, Status))


def test_table_matches_design() -> None:
    assert {(t.source, t.target) for t in TRANSITIONS} == LEGAL


@pytest.mark.parametrize(("source", "target"), sorted(LEGAL))
def test_legal_transition_passes_with_note(source: Status, target: Status) -> None:
    assert check_transition(source, target, "alasan yang jelas").target is target


@pytest.mark.parametrize(("source", "target"), sorted(NEEDS_NOTE))
@pytest.mark.parametrize("note", [None, "", "   "])
def test_reason_required(source: Status, target: Status, note: str | None) -> None:
    with pytest.raises(TransitionError, match="wajib disertai alasan"):
        check_transition(source, target, note)


@pytest.mark.parametrize(("source", "target"), sorted(LEGAL - NEEDS_NOTE))
def test_note_optional_elsewhere(source: Status, target: Status) -> None:
    check_transition(source, target, None)


@pytest.mark.parametrize(("source", "target"), [p for p in ALL_PAIRS if p not in LEGAL])
def test_illegal_transition_refused(source: Status, target: Status) -> None:
    with pytest.raises(TransitionError, match="tidak diizinkan") as info:
        check_transition(source, target, "catatan")
    # The message tells the admin what would have been allowed.
    for allowed in allowed_targets(source):
        assert allowed.value in str(info.value)


def test_terminal_states_have_no_exit() -> None:
    assert allowed_targets(Status.DITUTUP) == []
    assert allowed_targets(Status.DITOLAK) == []


def test_reopen_only_inside_window() -> None:
    check_transition(Status.SELESAI, Status.DIPROSES, reopen_window_open=True)
    with pytest.raises(TransitionError, match="10 hari kerja"):
        check_transition(Status.SELESAI, Status.DIPROSES, reopen_window_open=False)
    # Closing is not a reopen: allowed after the window too.
    check_transition(Status.SELESAI, Status.DITUTUP, reopen_window_open=False)


def test_unknown_status_is_a_domain_error() -> None:
    with pytest.raises(TransitionError, match="tidak dikenal"):
        check_transition("baru", "hilang")
