"""Promotion and rollback when the Rasa server refuses or is unreachable: nothing changes, nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.trainer.retrain import ModelPlace, RetrainError, promote, rollback
from tests.integration.stack import free_port


def _place(tmp_path: Path) -> ModelPlace:
    place = ModelPlace(live=tmp_path / "live.tar.gz", home=tmp_path / "trainer", reports=tmp_path / "reports")
    place.live.write_bytes(b"live model")
    return place


def test_promotion_to_an_unreachable_server_changes_nothing(tmp_path: Path) -> None:
    place = _place(tmp_path)
    candidate = tmp_path / "candidate.tar.gz"
    candidate.write_bytes(b"candidate model")
    down = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RetrainError, match="tidak dapat dihubungi"):
        promote(candidate, place, down)
    assert place.live.read_bytes() == b"live model"
    assert candidate.read_bytes() == b"candidate model"  # kept for another try
    assert place.load()["previous"] == [] and not list(place.archive.glob("*.tar.gz"))


def test_promote_then_rollback_without_a_server_restores_the_file(tmp_path: Path) -> None:
    place = _place(tmp_path)
    candidate = tmp_path / "candidate.tar.gz"
    candidate.write_bytes(b"candidate model")
    promote(candidate, place, None)
    assert place.live.read_bytes() == b"candidate model" and not candidate.exists()
    down = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RetrainError):
        rollback(place, down)
    assert place.live.read_bytes() == b"candidate model"  # still what the server runs
    previous, _ = rollback(place, None)
    assert place.live.read_bytes() == b"live model" and previous.parent == place.archive
    with pytest.raises(RetrainError, match="Belum ada model sebelumnya"):
        rollback(place, None)
