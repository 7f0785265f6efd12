"""Content-addressed store of fetched bytes: written before any parsing, never overwritten."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tasks.ids import sha256_hex


class RawStore:
    """Bytes by SHA-256 under `root/<first two hex>/<sha256>`; file names come from hashes only."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        """Where the bytes with this digest live."""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a sha256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store `data` (idempotent) and return its digest."""
        digest = sha256_hex(data)
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename so a crash never leaves a truncated blob under a valid digest.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`."""
        return self.path(digest).read_bytes()

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and self.path(digest).exists()
