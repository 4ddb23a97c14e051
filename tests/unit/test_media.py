from __future__ import annotations

import stat

import pytest

from bot.media import MediaRejected, MediaStore

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100


def test_save_is_content_addressed_owner_only_and_signed(tmp_path) -> None:
    store = MediaStore(tmp_path / "media", secret=b"k" * 32)
    ref = store.save(JPEG)
    assert ref.startswith("media:") and ref.endswith(".jpg")
    assert store.save(JPEG) == ref
    path = store.path(ref)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    url = store.signed_path(ref, ttl_seconds=60, now=1000.0)
    name, query = url.removeprefix("/media/").split("?")
    params = dict(p.split("=") for p in query.split("&"))
    assert store.verify(name, params["exp"], params["sig"], now=1030.0)
    assert not store.verify(name, params["exp"], params["sig"], now=1061.0)
    assert not store.verify(name, params["exp"], "0" * 32, now=1030.0)


def test_rejects_non_images_and_path_tricks(tmp_path) -> None:
    store = MediaStore(tmp_path / "media")
    with pytest.raises(MediaRejected):
        store.save(b"<script>alert(1)</script>")
    with pytest.raises(MediaRejected):
        store.save(b"")
    with pytest.raises(FileNotFoundError):
        store.path("media:../../etc/passwd")
