"""Fetch: read documents from the configured sources into the raw layer and a raw-documents frame."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from tasks.fetch.decode import UndecodableError, decode_bytes
from tasks.fetch.sources import DirectorySource, SourcesFile, load_sources
from tasks.ids import article_id, sha256_hex
from tasks.rawstore import RawStore
from tasks.schemas import FETCH_STATE, RAW_DOCUMENTS, REJECTS

__all__ = ["FetchResult", "documents_from_raw", "fetch_sources", "load_sources", "reject_rows"]

_MEDIA_TYPES = {".txt": "text/plain", ".html": "text/html", ".htm": "text/html"}


@dataclass(frozen=True, slots=True)
class FetchResult:
    """New or changed documents (RAW_DOCUMENTS), documents that failed (REJECTS), and the fetch state after the run."""

    documents: pl.DataFrame
    rejects: pl.DataFrame
    state: pl.DataFrame


def reject_rows(rows: list[dict[str, object]], *, run_id: str, now: datetime) -> pl.DataFrame:
    """A REJECTS frame from dicts with source_uri, stage, reason and optional detail/article_id/raw_sha256."""
    if not rows:
        return REJECTS.empty()
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.lit(run_id).alias("run_id"), pl.lit(now).cast(REJECTS.schema["rejected_at"]).alias("rejected_at")
    )
    frame = frame.with_columns(
        pl.concat_str(["source_uri", "stage", "reason"], separator="\x1f")
        .map_elements(lambda s: sha256_hex(s)[:24], return_dtype=pl.String)
        .alias("reject_id")
    )
    return REJECTS.conform(frame)


def _directory_files(source: DirectorySource, base: Path) -> Iterator[Path]:
    pattern = Path(source.path)
    root = pattern if pattern.is_absolute() else base / pattern
    files = sorted(root.rglob("*")) if root.is_dir() else sorted(root.parent.glob(root.name))
    yield from (f for f in files if f.is_file() and f.suffix.lower() in _MEDIA_TYPES)


def _html_to_text(html: str) -> tuple[str, dict[str, str | None]]:
    import trafilatura  # lazy: heavy import, only HTML input pays for it

    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, as_dict=False)
    if doc is None or not doc.text:
        return "", {}
    return doc.text, {"meta_title": doc.title, "meta_published_at": doc.date, "meta_author": doc.author}


def _document(row: dict[str, object], data: bytes) -> tuple[dict[str, object] | None, dict[str, object] | None]:
    """The RAW_DOCUMENTS row for fetched bytes, or a reject row when they cannot be decoded."""
    try:
        decoded = decode_bytes(data)
    except UndecodableError as exc:
        return None, {
            "source_uri": row["source_uri"],
            "article_id": row["article_id"],
            "raw_sha256": row["raw_sha256"],
            "stage": "fetch",
            "reason": "undecodable",
            "detail": str(exc),
        }
    text, meta = (decoded.text, {}) if row["media_type"] == "text/plain" else _html_to_text(decoded.text)
    return {**row, "encoding": decoded.encoding, **{k: v for k, v in meta.items() if v}, "text": text}, None


def documents_from_raw(
    state: pl.DataFrame, *, raw_store: RawStore, run_id: str, now: datetime | None = None
) -> FetchResult:
    """Rebuild RAW_DOCUMENTS for every article in a fetch state from the raw layer, without fetching."""
    moment = now or datetime.now(UTC)
    docs: list[dict[str, object]] = []
    rejects: list[dict[str, object]] = []
    for row in state.iter_rows(named=True):
        if row["raw_sha256"] not in raw_store:
            rejects.append(
                {
                    "source_uri": row["source_uri"],
                    "article_id": row["article_id"],
                    "raw_sha256": row["raw_sha256"],
                    "stage": "fetch",
                    "reason": "raw_missing",
                    "detail": "raw bytes not in the raw layer",
                }
            )
            continue
        doc, reject = _document(row, raw_store.get(row["raw_sha256"]))
        docs.extend([doc] if doc else [])
        rejects.extend([reject] if reject else [])
    documents = RAW_DOCUMENTS.conform(pl.DataFrame(docs, infer_schema_length=None)) if docs else RAW_DOCUMENTS.empty()
    return FetchResult(documents, reject_rows(rejects, run_id=run_id, now=moment), state)


def fetch_sources(
    sources: SourcesFile,
    *,
    raw_store: RawStore,
    known: pl.DataFrame | None,
    run_id: str,
    now: datetime | None = None,
) -> FetchResult:
    """Read every source; store bytes in the raw layer; return what is new or changed since `known`."""
    moment = now or datetime.now(UTC)
    known_hash: dict[str, str] = {}
    if known is not None and known.height:
        known_hash = dict(zip(known["article_id"].to_list(), known["raw_sha256"].to_list(), strict=True))
    docs: list[dict[str, object]] = []
    rejects: list[dict[str, object]] = []
    seen: list[dict[str, object]] = []
    for source in sources.sources:
        for path in _directory_files(source, sources.base_dir):
            rel = (
                path.resolve().relative_to(sources.base_dir)
                if path.resolve().is_relative_to(sources.base_dir)
                else path
            )
            uri = rel.as_posix()
            aid = article_id(f"{source.name}:{uri}")
            data = path.read_bytes()
            digest = raw_store.put(data)
            row: dict[str, object] = {
                "article_id": aid,
                "source_uri": uri,
                "canonical_uri": uri,
                "source_name": source.name,
                "raw_sha256": digest,
                "media_type": _MEDIA_TYPES[path.suffix.lower()],
                "meta_publisher": source.publisher,
                "meta_language": source.language,
                "meta_utc_offset": source.utc_offset,
                "fetched_at": moment,
            }
            if known_hash.get(aid) == digest:
                continue
            seen.append(row)
            doc, reject = _document(row, data)
            docs.extend([doc] if doc else [])
            rejects.extend([reject] if reject else [])
    documents = RAW_DOCUMENTS.conform(pl.DataFrame(docs, infer_schema_length=None)) if docs else RAW_DOCUMENTS.empty()
    state_new = FETCH_STATE.conform(pl.DataFrame(seen, infer_schema_length=None)) if seen else FETCH_STATE.empty()
    if known is not None and known.height:
        state_new = pl.concat([FETCH_STATE.conform(known).join(state_new, on="article_id", how="anti"), state_new])
    return FetchResult(documents, reject_rows(rejects, run_id=run_id, now=moment), state_new.sort("article_id"))
