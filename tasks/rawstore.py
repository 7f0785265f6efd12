"""Content-addressed store of fetched bytes: written before any parsing, never overwritten.

`RawStore` keeps the blobs on local disk; `ObjectRawStore` keeps the same keys on an fsspec file system (s3://,
gs://, memory://, ...). `open_raw_store` picks one by the location's scheme.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.ids import sha256_hex

if TYPE_CHECKING:
    from tasks.config import Settings

_HEX_DIGEST_LEN = 64
_PARALLEL_FROM = 64  # below this many blobs, threads cost more than they save
_LIST_FROM = 1000  # from this many blobs at once, list an object store's raw layer instead of asking per blob


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


class ObjectRawStore(RawStore):
    """Bytes by SHA-256 under `<url>/<first two hex>/<sha256>` on an fsspec file system, written once.

    The digest is the key, so a blob that exists is never written again, and two writers of the same bytes at once
    write the same object (a single PUT is atomic on S3 and GCS). The HTTP cache index stays on local disk
    (`index_dir`): it is an optimisation, and a fresh worker falls back to the validators in the snapshot's state.
    """

    def __init__(self, url: str, *, storage_options: dict[str, Any] | None = None, index_dir: Path) -> None:
        from fsspec.core import url_to_fs

        self.url = url.rstrip("/")
        self.fs, self._base = url_to_fs(self.url, **(storage_options or {}))
        self._index = Path(index_dir)
        # Blobs are never deleted: once seen, a digest need not be asked about again (one request per blob saved).
        self._present: set[str] = set()
        self._listed = False

    def path(self, digest: str) -> Path:
        """Blobs of an object store have no local path; see `key`."""
        raise TypeError(f"{self.url} is an object store: blob {digest} has a key, not a path")

    def key(self, digest: str) -> str:
        """The object key (within the file system) of the bytes with this digest."""
        if not _is_digest(digest):
            raise ValueError(f"not a sha256 hex digest: {digest!r}")
        return f"{self._base}/{digest[:2]}/{digest}"

    def put(self, data: bytes) -> str:
        """Store `data` unless an object with its digest exists, and return the digest."""
        digest = sha256_hex(data)
        if digest not in self:
            self.fs.pipe_file(self.key(digest), data)
            self._present.add(digest)
        return digest

    def put_many(self, blobs: list[bytes], *, workers: int = 16) -> list[str]:
        """Store many blobs; requests wait on the network, so more threads than cores pay off."""
        if len(blobs) >= _LIST_FROM and not self._listed:
            # One listing instead of one existence check per blob (a backfill puts every document it finds).
            self._present.update(
                name for name in (str(k).rsplit("/", 1)[-1] for k in self.fs.find(self._base)) if _is_digest(name)
            )
            self._listed = True
        return super().put_many(blobs, workers=workers)

    def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`."""
        data: bytes = self.fs.cat_file(self.key(digest))
        return data

    def __contains__(self, digest: object) -> bool:
        if not isinstance(digest, str) or not _is_digest(digest):
            return False
        if digest in self._present:
            return True
        if self.fs.exists(self.key(digest)):
            self._present.add(digest)
            return True
        return False

    @property
    def index_dir(self) -> Path:
        """Local folder of the raw layer's indexes (the HTTP cache)."""
        return self._index


RAW_INDEX_DIR = "_raw_index"


def open_raw_store(settings: Settings) -> RawStore:
    """The raw layer of these settings: local files for a path or file:// URL, fsspec objects for other URLs."""
    from tasks.config import local_path

    location = settings.raw_location
    path = local_path(location)
    if path is not None:
        return RawStore(path)
    # The object store holds the blobs; the HTTP cache index stays beside the run's local files.
    index = Path(settings.local_dir) / RAW_INDEX_DIR
    return ObjectRawStore(location, storage_options=settings.storage_options, index_dir=index)


def _is_digest(value: str) -> bool:
    return len(value) == _HEX_DIGEST_LEN and all(c in "0123456789abcdef" for c in value)
