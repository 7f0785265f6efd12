"""Directory sources: .txt, .html/.htm files and .jsonl/.csv record files read into the raw layer and the ledger."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from tasks.fetch.canonical import canonical_url
from tasks.fetch.decode import UndecodableError, decode_bytes
from tasks.fetch.parse import (
    CSV_RECORD,
    HTML,
    JSONL_RECORD,
    TEXT,
    Rejected,
    parse_document,
    parse_record,
    record_bytes,
)
from tasks.fetch.sources import DirectorySource, RecordFields
from tasks.fetch.state import Ledger
from tasks.ids import article_id
from tasks.rawstore import RawStore

FILE_TYPES = {".txt": TEXT, ".html": HTML, ".htm": HTML}
RECORD_FILES = {".jsonl": JSONL_RECORD, ".csv": CSV_RECORD}
_READERS = 4
_ROUND_FILES = 512
_ROUND_BYTES = 64 << 20
_RECORD_KEYS = ("url", "title", "published_at", "author", "publisher", "language", "text", "html")


def directory_files(source: DirectorySource, base: Path) -> list[Path]:
    """Files a directory source covers, in name order (folders recursively; globs as written)."""
    pattern = Path(source.path)
    root = (pattern if pattern.is_absolute() else base / pattern).resolve()
    wanted = FILE_TYPES.keys() | RECORD_FILES.keys()
    if root.is_dir():
        # os.walk lists names without a stat per file: much faster than rglob + is_file on 10k-file folders.
        found = [
            Path(folder, name)
            for folder, dirs, names in os.walk(root)
            for name in names
            if not name.startswith(".") and _suffix(name) in wanted
        ]
        return sorted(found)
    if any(ch in root.name for ch in "*?["):
        files = [f for f in root.parent.glob(root.name) if f.is_file()]
    else:
        files = [root] if root.is_file() else []
    return sorted(f for f in files if f.suffix.lower() in wanted and not f.name.startswith("."))


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _relative(path: Path, base: Path) -> str:
    # `path` is already resolved (its folder was); only the base needs resolving, once per source.
    return (path.relative_to(base) if path.is_relative_to(base) else path).as_posix()


def _base_row(source: DirectorySource, now: datetime) -> dict[str, Any]:
    return {
        "source_name": source.name,
        "meta_publisher": source.publisher,
        "meta_language": source.language,
        "meta_utc_offset": source.utc_offset,
        "fetched_at": now,
    }


def read_directory(
    source: DirectorySource, *, base: Path, raw_store: RawStore, ledger: Ledger, max_bytes: int, now: datetime
) -> None:
    """Read every file of a directory source: store bytes, then parse what is new or changed into the ledger."""
    files = directory_files(source, base)
    base = base.resolve()
    base_row = _base_row(source, now)

    def load(chunk: list[Path]) -> list[tuple[Path, bytes | None, str | None]]:
        out: list[tuple[Path, bytes | None, str | None]] = []
        for path in chunk:
            if path.suffix.lower() in FILE_TYPES and stats[path].st_size > max_bytes:
                out.append((path, None, None))
                continue
            data = path.read_bytes()
            out.append((path, data, raw_store.put(data)))
        return out

    # A file at the size and modification time the previous run read it at holds the same documents: not read
    # again, so a nightly run with nothing new costs a directory listing (a full refresh reads everything).
    stats: dict[Path, os.stat_result] = {}
    for path in files:
        try:
            stats[path] = path.stat()
        except OSError:  # gone since the listing: as if it had not been listed
            continue
    changed = [
        path
        for path, st in stats.items()
        if not ledger.file_unchanged(source.name, _relative(path, base), st.st_size, st.st_mtime_ns)
    ]

    def record(loaded: list[tuple[Path, bytes | None, str | None]]) -> None:
        for path, _, digest in loaded:
            st = stats[path]
            ledger.file_read(source.name, _relative(path, base), st.st_size, st.st_mtime_ns, digest)

    # Reading, hashing and writing blobs release the GIL: a few threads over large chunks overlap the I/O. Files
    # are read a round at a time, so a large directory is never in memory at once.
    with ThreadPoolExecutor(max_workers=_READERS) as pool:
        for files_round in _rounds(changed, stats):
            step = max(1, -(-len(files_round) // _READERS))
            chunks = [files_round[i : i + step] for i in range(0, len(files_round), step)]
            loaded = [item for part in pool.map(load, chunks) for item in part]
            record(loaded)
            _read_loaded(
                loaded, source, base=base, base_row=base_row, raw_store=raw_store, ledger=ledger, max_bytes=max_bytes
            )


def _rounds(files: list[Path], stats: dict[Path, os.stat_result]) -> Iterator[list[Path]]:
    """Consecutive groups of at most _ROUND_FILES files and (about) _ROUND_BYTES bytes."""
    current: list[Path] = []
    size = 0
    for path in files:
        length = stats[path].st_size
        if current and (len(current) >= _ROUND_FILES or size + length > _ROUND_BYTES):
            yield current
            current, size = [], 0
        current.append(path)
        size += length
    if current:
        yield current


def _read_loaded(
    loaded: list[tuple[Path, bytes | None, str | None]],
    source: DirectorySource,
    *,
    base: Path,
    base_row: dict[str, Any],
    raw_store: RawStore,
    ledger: Ledger,
    max_bytes: int,
) -> None:
    for path, data, digest in loaded:
        rel = _relative(path, base)
        suffix = path.suffix.lower()
        if suffix in RECORD_FILES:
            if data is not None:
                _read_records(
                    source,
                    rel=rel,
                    data=data,
                    media_type=RECORD_FILES[suffix],
                    base_row=base_row,
                    raw_store=raw_store,
                    ledger=ledger,
                )
            continue
        aid = article_id(f"{source.name}:{rel}")
        if data is None or digest is None:
            ledger.reject(rel, "too_large", f"file is larger than {max_bytes} bytes", article_id=aid)
            continue
        if not ledger.claim(aid) or ledger.unchanged(aid, digest):
            continue
        row = {
            **base_row,
            "article_id": aid,
            "source_uri": rel,
            "canonical_uri": rel,
            "raw_sha256": digest,
            "media_type": FILE_TYPES[suffix],
        }
        try:
            outcome = parse_document(data, row["media_type"], declared=source.encoding)
        except Rejected as exc:
            ledger.add(row, exc)
            continue
        ledger.add(row, outcome)


def _records(data: bytes, media_type: str, encoding: str | None) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line or row number, record or None, problem) for each record of a JSONL or CSV file."""
    try:
        text = decode_bytes(data, encoding).text
    except UndecodableError as exc:
        yield 0, None, str(exc)
        return
    if media_type == JSONL_RECORD:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                yield number, None, f"not JSON: {exc}"
                continue
            yield (number, value, "") if isinstance(value, dict) else (number, None, "not a JSON object")
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for number, value in enumerate(reader, start=1):
        yield number, {k: v for k, v in value.items() if k is not None}, ""


def _normalise(value: dict[str, Any], fields: RecordFields) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key in _RECORD_KEYS:
        raw = value.get(getattr(fields, key))
        out[key] = None if raw is None or (isinstance(raw, str) and not raw.strip() and key != "text") else str(raw)
    return out


def _read_records(
    source: DirectorySource,
    *,
    rel: str,
    data: bytes,
    media_type: str,
    base_row: dict[str, Any],
    raw_store: RawStore,
    ledger: Ledger,
) -> None:
    found: list[tuple[dict[str, str | None], str, str, str]] = []
    for number, value, problem in _records(data, media_type, source.encoding):
        if value is None:
            where = f"{rel}#{number}" if number else rel
            ledger.reject(where, "bad_record" if number else "undecodable", problem)
            continue
        record = _normalise(value, source.fields)
        ident = value.get(source.fields.id)
        url = record["url"]
        if url and url.startswith(("http://", "https://")):
            canonical = canonical_url(url)
            found.append((record, url, canonical, article_id(canonical)))
        else:
            local = f"{rel}#{ident if ident not in (None, '') else number}"
            found.append((record, local, local, article_id(f"{source.name}:{local}")))
    # Each record is stored on its own, so one changed row is one changed document and reprocessing needs no file.
    digests = raw_store.put_many([record_bytes(record) for record, *_ in found])
    for (record, uri, canonical, aid), digest in zip(found, digests, strict=True):
        if not ledger.claim(aid) or ledger.unchanged(aid, digest):
            continue
        row = {
            **base_row,
            "article_id": aid,
            "source_uri": uri,
            "canonical_uri": canonical,
            "raw_sha256": digest,
            "media_type": media_type,
        }
        try:
            outcome = parse_record(record, url=record["url"])
        except Rejected as exc:
            ledger.add(row, exc)
            continue
        ledger.add(row, outcome)
