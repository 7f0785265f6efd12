"""Content-addressed store of fetched bytes: written before any parsing, never overwritten."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tasks.ids import sha256_hex

_HEX_DIGEST_LEN = 64
_PARALLEL_FROM = 64  # below this many blobs, threads cost more than they save


class RawStore:
    """Bytes by SHA-256 under `root/<first two hex>/<sha256>`; file names come from hashes only."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._folders: set[Path] = set()

    def path(self, digest: str) -> Path:
        """Where the bytes with this digest live."""
        if not _is_digest(digest):
            raise ValueError(f"not a sha256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store `data` (idempotent) and return its digest."""
        digest = sha256_hex(data)
        target = self.path(digest)
        if target.exists():
            return digest
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        # Write then rename so a crash never leaves a truncated blob under a valid digest; the temporary name is
        # unique per process and thread, so parallel writers of the same bytes never collide.
        tmp = target.parent / f".tmp-{digest[:16]}-{os.getpid()}-{threading.get_ident()}"
        try:
            with tmp.open("wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return digest

    def put_many(self, blobs: list[bytes], *, workers: int = 4) -> list[str]:
        """Store many blobs (in parallel: writing releases the GIL) and return their digests in order."""
        if len(blobs) < _PARALLEL_FROM:
            return [self.put(b) for b in blobs]
        from concurrent.futures import ThreadPoolExecutor

        step = -(-len(blobs) // workers)
        chunks = [blobs[i : i + step] for i in range(0, len(blobs), step)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return [d for part in pool.map(lambda chunk: [self.put(b) for b in chunk], chunks) for d in part]

    def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`."""
        return self.path(digest).read_bytes()

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and _is_digest(digest) and self.path(digest).exists()

    @property
    def index_dir(self) -> Path:
        """Folder of the raw layer's own indexes (the HTTP cache); fixed names, never taken from fetched data."""
        return self.root / "_index"


def _is_digest(value: str) -> bool:
    return len(value) == _HEX_DIGEST_LEN and all(c in "0123456789abcdef" for c in value)
