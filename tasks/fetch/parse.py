"""Stored bytes to document text and metadata, by media type; the one place fetched bytes are interpreted."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tasks.fetch.decode import BinaryContentError, UndecodableError, decode_bytes
from tasks.ids import sha256_hex

HTML = "text/html"
TEXT = "text/plain"
JSONL_RECORD = "application/jsonl+record"
CSV_RECORD = "text/csv+record"
RECORD_TYPES = frozenset({JSONL_RECORD, CSV_RECORD})
# Below this many letters, what the extractor found in an HTML page is navigation residue ("Home", "Menu Login"),
# not an article; even the shortest Korean/Japanese news brief is several times longer.
MIN_HTML_TEXT_CHARS = 20
# Above this many characters a "document" is a dump, not an article (the longest news features run to ~50k): its
# extraction time grows faster than its length (measured on a busy 2-core machine: 1M characters 20 s, 5M 9 min),
# so one would stall the nightly run. It becomes a `too_long` reject instead (docs/reliability.md).
MAX_TEXT_CHARS = 500_000


class Rejected(Exception):  # noqa: N818 - an outcome, turned into a rejects row
    """Bytes that cannot become a document: `reason` is the rejects reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Parsed:
    """Document text plus the metadata it states (meta_* column names) and its declared canonical URL."""

    text: str
    encoding: str | None
    meta: dict[str, str | None] = field(default_factory=dict)
    canonical_url: str | None = None
    content_sha256: str = field(init=False)

    def __post_init__(self) -> None:
        # Whitespace folded: the same article hashes the same however its lines were laid out.
        object.__setattr__(self, "content_sha256", sha256_hex(" ".join(self.text.split())))


def _from_html(html: str, encoding: str | None, url: str | None, stated: dict[str, str | None]) -> Parsed:
    from tasks.fetch.htmltext import extract_html

    try:
        page = extract_html(html, url=url)
    except (ValueError, TypeError, RecursionError, MemoryError, AttributeError) as exc:
        # Third-party HTML parsing failing on one hostile page is that page's reject, not the run's failure.
        raise Rejected("extraction_error", f"{type(exc).__name__}: {exc}") from exc
    letters = sum(ch.isalnum() for ch in page.text)
    if letters < MIN_HTML_TEXT_CHARS:
        raise Rejected("no_main_text", f"the page holds no article text ({letters} letters outside the page template)")
    meta = {
        "meta_title": page.title,
        "meta_published_at": page.published_at,
        "meta_author": page.author,
        "meta_publisher": page.publisher,
        "meta_language": page.language,
    }
    # Values stated by a record (or configured) win over what the page's markup says.
    meta.update({k: v for k, v in stated.items() if v})
    return Parsed(page.text, encoding, meta, page.canonical_url)


def record_bytes(record: dict[str, str | None]) -> bytes:
    """The stored form of a JSONL/CSV record: canonical JSON, so the same record always hashes the same."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _from_record(data: bytes, url: str | None) -> Parsed:
    try:
        record = json.loads(data)
    except ValueError as exc:
        raise Rejected("bad_record", f"stored record is not JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise Rejected("bad_record", "stored record is not a JSON object")
    return parse_record(record, url=url)


def parse_record(record: dict[str, str | None], *, url: str | None = None) -> Parsed:
    """Text and metadata of a JSONL/CSV record (its `html` field extracted like a page); raises Rejected."""
    stated = {
        "meta_title": record.get("title"),
        "meta_published_at": record.get("published_at"),
        "meta_author": record.get("author"),
        "meta_publisher": record.get("publisher"),
        "meta_language": record.get("language"),
    }
    if record.get("html"):
        return _from_html(str(record["html"]), "utf-8", record.get("url") or url, stated)
    if record.get("text") is None:
        raise Rejected("missing_text", "record has neither a text nor an html field")
    return Parsed(str(record["text"]), "utf-8", {k: v for k, v in stated.items() if v})


def parse_document(data: bytes, media_type: str, *, declared: str | None = None, url: str | None = None) -> Parsed:
    """Text and metadata of stored bytes; raises Rejected (empty_document, binary_content, undecodable, ...)."""
    if not data:
        raise Rejected("empty_document", "0 bytes")
    if media_type in RECORD_TYPES:
        return _from_record(data, url)
    try:
        decoded = decode_bytes(data, declared)
    except BinaryContentError as exc:
        raise Rejected("binary_content", str(exc)) from exc
    except UndecodableError as exc:
        raise Rejected("undecodable", str(exc)) from exc
    if media_type == HTML:
        return _from_html(decoded.text, decoded.encoding, url, {})
    return Parsed(decoded.text, decoded.encoding)
