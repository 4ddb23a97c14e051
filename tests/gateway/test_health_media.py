"""/healthz covers every store the gateway needs, the media folder included."""

from __future__ import annotations

import os

from bot.gateway.health import _media_ok


def test_health_checks_the_media_folder(tmp_path) -> None:
    assert _media_ok(tmp_path)
    assert not _media_ok(tmp_path / "missing")
    (tmp_path / "ro").mkdir(mode=0o500)
    assert _media_ok(tmp_path / "ro") == (os.geteuid() == 0)  # root may write anywhere
