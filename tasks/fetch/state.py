"""The run ledger: decides new / changed / unchanged / duplicate per document and builds the fetch state."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import polars as pl

from tasks.fetch.parse import MAX_TEXT_CHARS, Parsed, Rejected
from tasks.ids import sha256_hex
from tasks.schemas import FETCH_STATE, RAW_DOCUMENTS, REJECTS, SOURCE_FILES


def reject_rows(rows: list[dict[str, object]], *, run_id: str, now: datetime) -> pl.DataFrame:
    """A REJECTS frame from dicts with source_uri, stage, reason and optional detail/article_id/raw_sha256."""
    if not rows:
        return REJECTS.empty()
    frame = pl.DataFrame(rows, schema_overrides={"detail": pl.String}, infer_schema_length=None)
    frame = frame.with_columns(
        pl.lit(run_id).alias("run_id"),
        pl.lit(now).cast(REJECTS.schema["rejected_at"]).alias("rejected_at"),
        pl.concat_str(["source_uri", "stage", "reason"], separator="\x1f")
        .map_elements(lambda s: sha256_hex(s)[:24], return_dtype=pl.String)
        .alias("reject_id"),
    )
    return REJECTS.conform(frame).unique("reject_id", keep="last", maintain_order=True)


class Ledger:
    """Collects this run's outcomes against the previous fetch state (thread-safe)."""

    def __init__(
        self,
        known: pl.DataFrame | None,
        *,
        run_id: str,
        now: datetime,
        spill: Callable[[pl.DataFrame], None] | None = None,
        spill_rows: int = 0,
        known_files: pl.DataFrame | None = None,
    ) -> None:
        """Start a ledger against the previous fetch state `known`.

        `spill`, when given, receives the new documents `spill_rows` at a time (RAW_DOCUMENTS frames in the order
        they were added, each sorted by article id) instead of keeping them all until `documents()`. `known_files`
        (SOURCE_FILES of the previous run) lets directory sources skip files that did not change.
        """
        self.run_id = run_id
        self.now = now
        self._spill = spill
        self._spill_rows = spill_rows
        self._lock = threading.Lock()
        known = FETCH_STATE.conform(known) if known is not None and known.height else FETCH_STATE.empty()
        self.known = known
        rows = known.to_dicts()
        self.known_by_id: dict[str, dict[str, Any]] = {r["article_id"]: r for r in rows}
        self.known_by_uri: dict[str, dict[str, Any]] = {r["source_uri"]: r for r in rows}
        self.known_canonical: dict[str, dict[str, Any]] = {
            r["canonical_uri"]: r for r in rows if r["canonical_uri"] and not r["duplicate_of"]
        }
        # Content hash -> article id of documents that are articles (not rejected, not duplicates).
        self._content: dict[str, tuple[str, str]] = {
            r["content_sha256"]: (r["article_id"], r["source_uri"])
            for r in rows
            if r["content_sha256"] and not r["duplicate_of"] and not r["reject_reason"]
        }
        self._state: dict[str, dict[str, Any]] = {}
        self._docs: list[dict[str, Any]] = []
        self._rejects: list[dict[str, object]] = []
        self._seen: set[str] = set()
        files = SOURCE_FILES.conform(known_files).to_dicts() if known_files is not None else []
        self._known_files: dict[tuple[str, str], dict[str, Any]] = {(r["source_name"], r["path"]): r for r in files}
        self._files: dict[tuple[str, str], dict[str, Any]] = {}

    def file_unchanged(self, source_name: str, path: str, size: int, mtime_ns: int) -> bool:
        """Whether the previous run read this file at this size and modification time; if so, it is kept as seen."""
        row = self._known_files.get((source_name, path))
        if row is None or row["size"] != size or row["mtime_ns"] != mtime_ns:
            return False
        with self._lock:
            self._files[(source_name, path)] = row
        return True

    def file_read(self, source_name: str, path: str, size: int, mtime_ns: int, raw_sha256: str | None) -> None:
        """Record a file read in this run."""
        row = {"source_name": source_name, "path": path, "size": size, "mtime_ns": mtime_ns, "raw_sha256": raw_sha256}
        with self._lock:
            self._files[(source_name, path)] = row

    def files(self) -> pl.DataFrame:
        """SOURCE_FILES after the run: every directory-source file present now, read or skipped."""
        if not self._files:
            return SOURCE_FILES.empty()
        return pl.DataFrame(list(self._files.values()), schema=SOURCE_FILES.schema).sort("source_name", "path")

    def claim(self, article_id: str) -> bool:
        """True the first time an article id is offered in this run (later offers are the same article again)."""
        with self._lock:
            if article_id in self._seen:
                return False
            self._seen.add(article_id)
            return True

    def unchanged(self, article_id: str, raw_sha256: str) -> bool:
        """Whether the previous state already holds these exact bytes for this article."""
        row = self.known_by_id.get(article_id)
        return row is not None and row["raw_sha256"] == raw_sha256

    def reject(
        self,
        source_uri: str,
        reason: str,
        detail: str,
        *,
        article_id: str | None = None,
        raw_sha256: str | None = None,
    ) -> None:
        """Record a failure that left no document (HTTP errors, refusals, unreadable sources)."""
        with self._lock:
            self._rejects.append(
                {
                    "source_uri": source_uri,
                    "article_id": article_id,
                    "raw_sha256": raw_sha256,
                    "stage": "fetch",
                    "reason": reason,
                    "detail": detail[:2000],
                }
            )

    def add(self, row: dict[str, Any], outcome: Parsed | Rejected) -> None:
        """Record a document whose bytes are stored: an article, a duplicate of one, or a reject."""
        if isinstance(outcome, Parsed) and len(outcome.text) > MAX_TEXT_CHARS:
            outcome = Rejected("too_long", f"{len(outcome.text):,} characters of text; the limit is {MAX_TEXT_CHARS:,}")
        with self._lock:
            if isinstance(outcome, Rejected):
                self._state[row["article_id"]] = {**row, "reject_reason": outcome.reason}
                self._rejects.append(
                    {
                        "source_uri": row["source_uri"],
                        "article_id": row["article_id"],
                        "raw_sha256": row["raw_sha256"],
                        "stage": "fetch",
                        "reason": outcome.reason,
                        "detail": outcome.detail[:2000],
                    }
                )
                return
            meta = {k: v for k, v in row.items() if k.startswith("meta_") and v}
            meta.update({k: v for k, v in outcome.meta.items() if v and k not in meta})
            full = {**row, **meta, "encoding": outcome.encoding, "content_sha256": outcome.content_sha256}
            owner = self._content.get(outcome.content_sha256) if outcome.text.strip() else None
            if owner is not None and owner[0] != row["article_id"]:
                self._state[row["article_id"]] = {**full, "duplicate_of": owner[0]}
                self._rejects.append(
                    {
                        "source_uri": row["source_uri"],
                        "article_id": row["article_id"],
                        "raw_sha256": row["raw_sha256"],
                        "stage": "fetch",
                        "reason": "duplicate_content",
                        "detail": f"same text as {owner[1]} (article {owner[0]})",
                    }
                )
                return
            if outcome.text.strip():
                self._content[outcome.content_sha256] = (row["article_id"], row["source_uri"])
            self._state[row["article_id"]] = full
            self._docs.append({**full, "text": outcome.text})
            if self._spill is not None and len(self._docs) >= self._spill_rows:
                # Under the lock, so parts are handed over in the order documents were added.
                self._spill(self.documents())
                self._docs = []

    def documents(self) -> pl.DataFrame:
        """New or changed documents of this run not yet handed to `spill` (RAW_DOCUMENTS, sorted by article id)."""
        if not self._docs:
            return RAW_DOCUMENTS.empty()
        return RAW_DOCUMENTS.conform(pl.DataFrame(self._docs, infer_schema_length=None)).sort("article_id")

    def rejects(self) -> pl.DataFrame:
        """Rejects of this run (stage fetch)."""
        return reject_rows(self._rejects, run_id=self.run_id, now=self.now)

    def state(self, *, carry_known: bool = True) -> pl.DataFrame:
        """Fetch state after the run: this run's rows plus the previous rows it did not replace."""
        new = (
            FETCH_STATE.conform(pl.DataFrame(list(self._state.values()), infer_schema_length=None))
            if self._state
            else FETCH_STATE.empty()
        )
        if carry_known and self.known.height:
            new = pl.concat([self.known.join(new.select("article_id"), on="article_id", how="anti"), new])
        return new.sort("article_id")
