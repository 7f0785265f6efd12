"""The raw layer's HTTP cache index: URL -> validators and the hash of the stored body, appended as bytes land.

It lives beside the raw bytes (not in a snapshot) so a run killed after fetching still knows what it already has:
the next run sends conditional requests or reuses recent bytes instead of downloading them again.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Self, TextIO

from tasks.rawstore import RawStore

_INDEX = "http-cache.jsonl"


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """What the last successful response for a URL was."""

    url: str
    final_url: str
    raw_sha256: str
    content_type: str | None
    etag: str | None
    last_modified: str | None
    fetched_at: str  # ISO 8601 UTC


class HttpCache:
    """Append-only JSONL index under <raw>/_index/; the last line for a URL wins; torn lines are skipped."""

    def __init__(self, raw_store: RawStore) -> None:
        self.path = raw_store.index_dir / _INDEX
        self._lock = threading.Lock()
        self._entries: dict[str, CacheEntry] = {}
        self._appended = 0
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = CacheEntry(**json.loads(line))
                except (ValueError, TypeError):
                    continue  # a line torn by a crash mid-write
                self._entries[entry.url] = entry
        self._fh: TextIO | None = None

    def get(self, url: str) -> CacheEntry | None:
        """The latest entry for `url`."""
        return self._entries.get(url)

    def record(self, entry: CacheEntry) -> None:
        """Remember `entry` now (flushed to the OS immediately, so it survives the process being killed)."""
        line = json.dumps(asdict(entry), ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self._entries[entry.url] = entry
            if self._fh is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = self.path.open("a", encoding="utf-8")
            self._fh.write(line)
            self._fh.flush()
            self._appended += 1

    def close(self) -> None:
        """Close the index, compacting it to one line per URL when it has grown with superseded lines."""
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
            if self._appended and self.path.exists():
                lines = sum(1 for _ in self.path.open("rb"))
                if lines > 2 * len(self._entries):
                    tmp = self.path.with_suffix(".tmp")
                    with tmp.open("w", encoding="utf-8") as fh:
                        for entry in self._entries.values():
                            fh.write(json.dumps(asdict(entry), ensure_ascii=False, separators=(",", ":")) + "\n")
                    os.replace(tmp, self.path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def age_hours(entry: CacheEntry, now: datetime) -> float:
    """Hours since the entry's bytes were fetched."""
    return (now - datetime.fromisoformat(entry.fetched_at)).total_seconds() / 3600.0
