"""Photos kept by the gateway: one folder, content-addressed files, signed expiring URLs.

Channels hand over bytes (Telegram getFile, LINE content API, web upload); admins on another
channel receive the file itself or, for LINE, an image URL that only works with its signature.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

MAX_BYTES = 10 * 1024 * 1024
_SIGNATURES = {
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
}
REF_PREFIX = "media:"


class MediaRejected(ValueError):
    """Not an image we accept (type or size); the message says which, in Indonesian."""


def sniff(data: bytes) -> tuple[str, str]:
    """(content type, suffix) from the file's first bytes; the name or header a client sends is not trusted."""
    for magic, kind in _SIGNATURES.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", ".webp"
    raise MediaRejected("Jenis berkas belum didukung; kirim foto JPG, PNG atau WEBP.")


class MediaStore:
    def __init__(self, root: Path, secret: bytes | None = None) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.secret = secret or self._local_secret()

    def _local_secret(self) -> bytes:
        """A per-installation key kept beside the files (owner-only) when none is configured."""
        key_file = self.root / ".signing-key"
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
        return key_file.read_bytes()

    def save(self, data: bytes) -> str:
        """Store the image and return its reference ('media:<sha256>.<ext>'); the same bytes give the same ref."""
        if len(data) > MAX_BYTES:
            raise MediaRejected(f"Ukuran foto maksimal {MAX_BYTES // (1024 * 1024)} MB.")
        if not data:
            raise MediaRejected("Berkas foto kosong.")
        _, suffix = sniff(data)
        name = hashlib.sha256(data).hexdigest() + suffix
        path = self.root / name
        if not path.exists():
            tmp = path.with_suffix(path.suffix + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return REF_PREFIX + name

    def path(self, ref: str) -> Path:
        name = ref.removeprefix(REF_PREFIX)
        if "/" in name or name.startswith(".") or not name:
            raise FileNotFoundError(ref)
        path = self.root / name
        if not path.is_file():
            raise FileNotFoundError(ref)
        return path

    def _signature(self, name: str, expires: int) -> str:
        return hmac.new(self.secret, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def signed_path(self, ref: str, ttl_seconds: int = 7 * 24 * 3600, now: float | None = None) -> str:
        """'/media/<name>?exp=…&sig=…' for the gateway's GET /media route."""
        name = ref.removeprefix(REF_PREFIX)
        expires = int((now if now is not None else time.time()) + ttl_seconds)
        return f"/media/{name}?exp={expires}&sig={self._signature(name, expires)}"

    def verify(self, name: str, expires: str, signature: str, now: float | None = None) -> bool:
        try:
            exp = int(expires)
        except ValueError:
            return False
        if exp < (now if now is not None else time.time()):
            return False
        return hmac.compare_digest(self._signature(name, exp), signature)
