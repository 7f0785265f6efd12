"""Fetch: read documents from the configured sources into the raw layer and a raw-documents frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from tasks.fetch.parse import Parsed, Rejected, parse_document
from tasks.fetch.sources import DirectorySource, SourcesFile, load_sources
from tasks.fetch.state import Ledger, reject_rows
from tasks.rawstore import RawStore
from tasks.schemas import FETCH_STATE

__all__ = ["FetchResult", "documents_from_raw", "fetch_sources", "load_sources", "reject_rows"]


Spill = Callable[[pl.DataFrame], None]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """New or changed documents (RAW_DOCUMENTS), documents that failed (REJECTS), and the fetch state after the run.

    With a `spill`, `documents` holds only those not yet spilled (fewer than `spill_rows`).
    """

    documents: pl.DataFrame
    rejects: pl.DataFrame
    state: pl.DataFrame
    files: pl.DataFrame  # SOURCE_FILES: the directory sources' files as read (or found unchanged) this run


def fetch_sources(
    sources: SourcesFile,
    *,
    raw_store: RawStore,
    known: pl.DataFrame | None,
    run_id: str,
    now: datetime | None = None,
    refetch: bool = False,
    spill: Spill | None = None,
    spill_rows: int = 0,
    known_files: pl.DataFrame | None = None,
) -> FetchResult:
    """Read every source; store bytes in the raw layer; return what is new or changed since `known`.

    `refetch` (a full refresh) asks servers again without validators and ignores recently fetched bytes;
    `known_files` (the previous SOURCE_FILES) lets directory sources skip files that did not change. With
    `spill`, new documents are handed to it `spill_rows` at a time as they are read, so a large first run never
    holds every body at once.
    """
    from tasks.fetch.local import read_directory

    moment = now or datetime.now(UTC)
    ledger = Ledger(known, run_id=run_id, now=moment, spill=spill, spill_rows=spill_rows, known_files=known_files)
    web = []
    for source in sources.sources:
        if isinstance(source, DirectorySource):
            read_directory(
                source,
                base=sources.base_dir,
                raw_store=raw_store,
                ledger=ledger,
                max_bytes=sources.http.max_bytes,
                now=moment,
            )
        else:
            web.append(source)
    if web:
        from tasks.fetch.web import WebRun  # lazy: httpx only loads when there is something to download

        WebRun(sources, raw_store=raw_store, ledger=ledger, now=moment, refetch=refetch).run(web)
    return FetchResult(ledger.documents(), ledger.rejects(), ledger.state(), ledger.files())


def documents_from_raw(
    state: pl.DataFrame,
    *,
    raw_store: RawStore,
    run_id: str,
    now: datetime | None = None,
    spill: Spill | None = None,
    spill_rows: int = 0,
) -> FetchResult:
    """Rebuild RAW_DOCUMENTS for every document of a fetch state from the raw layer, without fetching."""
    moment = now or datetime.now(UTC)
    ledger = Ledger(None, run_id=run_id, now=moment, spill=spill, spill_rows=spill_rows)
    rows = FETCH_STATE.conform(state).sort("article_id").to_dicts()
    # Articles first, so a former duplicate is compared against the article it repeated, as when it was fetched.
    rows.sort(key=lambda r: r["duplicate_of"] is not None)
    for row in rows:
        digest = row["raw_sha256"]
        if digest not in raw_store:
            ledger.reject(
                row["source_uri"],
                "raw_missing",
                "raw bytes not in the raw layer",
                article_id=row["article_id"],
                raw_sha256=digest,
            )
            continue
        base = {k: v for k, v in row.items() if k not in {"content_sha256", "duplicate_of", "reject_reason"}}
        base.update({"meta_title": None, "meta_published_at": None, "meta_author": None})
        url = row["source_uri"] if str(row["source_uri"]).startswith(("http://", "https://")) else None
        outcome: Parsed | Rejected
        try:
            outcome = parse_document(raw_store.get(digest), row["media_type"], declared=row["encoding"], url=url)
        except Rejected as exc:
            outcome = exc
        if isinstance(outcome, Parsed):
            # Metadata the listing stated (feed titles, dates) is only in the state; keep it where parsing has none.
            stated = {k: row[k] for k in ("meta_title", "meta_published_at", "meta_author") if row[k]}
            outcome = Parsed(outcome.text, outcome.encoding, {**stated, **{k: v for k, v in outcome.meta.items() if v}})
        # Ids and canonical URIs stay the recorded ones: reprocessing never moves an article to a new id.
        ledger.claim(row["article_id"])
        ledger.add(base, outcome)
    return FetchResult(ledger.documents(), ledger.rejects(), ledger.state(), ledger.files())
