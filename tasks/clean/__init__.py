"""Clean: raw documents to articles with boilerplate-free bodies, metadata and language."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from tasks.clean.dedupe import assign_duplicates, content_hash, content_key, signature
from tasks.clean.document import CleanedDocument, Meta, Rejected, clean_document
from tasks.clean.furniture import repeated_lines
from tasks.clean.text import fix_text
from tasks.schemas import ARTICLES, CAPTIONS, PARAGRAPHS, REJECTS
from tasks.schemas.core import Table

__all__ = ["CleanResult", "assign_duplicates", "clean_documents"]

PARAGRAPH_SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class CleanResult:
    """Articles, captions and paragraphs of the cleaned documents, and the documents rejected while cleaning."""

    articles: pl.DataFrame
    captions: pl.DataFrame
    paragraphs: pl.DataFrame
    rejects: pl.DataFrame


def _reject_id(source_uri: str, reason: str) -> str:
    # Same identity as fetch's rejects: source, stage and reason.
    return hashlib.sha256(f"{source_uri}\x1fclean\x1f{reason}".encode()).hexdigest()[:24]


def _clean_one(doc: dict[str, Any], text: str, repeated: frozenset[str]) -> CleanedDocument | Rejected:
    meta = Meta(
        title=doc.get("meta_title"),
        published_at=doc.get("meta_published_at"),
        author=doc.get("meta_author"),
        publisher=doc.get("meta_publisher"),
        language=doc.get("meta_language"),
        utc_offset=doc.get("meta_utc_offset"),
    )
    try:
        return clean_document(text, meta, repeated)
    except Exception as exc:  # noqa: BLE001 - one odd document becomes a reject, never a failed batch
        return Rejected("clean_error", f"{type(exc).__name__}: {exc}"[:500])


def clean_documents(documents: pl.DataFrame, *, run_id: str, now: datetime | None = None) -> CleanResult:
    """Clean RAW_DOCUMENTS rows into ARTICLES, CAPTIONS and PARAGRAPHS; documents with no text become REJECTS."""
    moment = now or datetime.now(UTC)
    docs = documents.to_dicts()
    texts = [fix_text(d.get("text") or "") for d in docs]
    groups = [str(d.get("source_name") or d.get("meta_publisher") or "") for d in docs]
    repeated = repeated_lines(texts, groups)

    articles: list[dict[str, Any]] = []
    captions: list[dict[str, Any]] = []
    paragraphs: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    for doc, text, rep in zip(docs, texts, repeated, strict=True):
        result = _clean_one(doc, text, rep)
        aid = doc["article_id"]
        if isinstance(result, Rejected):
            rejects.append(
                {
                    "reject_id": _reject_id(doc["source_uri"], result.reason),
                    "source_uri": doc["source_uri"],
                    "article_id": aid,
                    "raw_sha256": doc.get("raw_sha256"),
                    "stage": "clean",
                    "reason": result.reason,
                    "detail": result.detail,
                    "run_id": run_id,
                    "rejected_at": moment,
                }
            )
            continue
        body = PARAGRAPH_SEPARATOR.join(result.paragraphs)
        key = content_key(body)
        articles.append(
            {
                "article_id": aid,
                "source_uri": doc["source_uri"],
                "canonical_uri": doc.get("canonical_uri"),
                "source_name": doc.get("source_name"),
                "title": result.title,
                "published_at": result.published_at,
                "published_at_local": result.published_at_local,
                "author": "; ".join(result.authors) or None,
                "publisher": result.publisher,
                "language": result.language,
                "body": body,
                "body_chars": len(body),
                "content_sha256": content_hash(body, key),
                "raw_sha256": doc["raw_sha256"],
                "fetched_at": doc["fetched_at"],
                "run_id": run_id,
                "minhash": signature(body, key),
            }
        )
        pos = 0
        for ordinal, (para, lang) in enumerate(zip(result.paragraphs, result.paragraph_languages, strict=True)):
            paragraphs.append(
                {"article_id": aid, "ordinal": ordinal, "start": pos, "end": pos + len(para), "language": lang}
            )
            pos += len(para) + len(PARAGRAPH_SEPARATOR)
        for ordinal, (cap, lang) in enumerate(zip(result.captions, result.caption_languages, strict=True)):
            captions.append(
                {
                    "caption_id": f"{aid}:{ordinal}",
                    "article_id": aid,
                    "ordinal": ordinal,
                    "text": cap.text,
                    "credit": cap.credit,
                    "language": lang,
                }
            )
    return CleanResult(
        articles=_frame(ARTICLES, articles),
        captions=_frame(CAPTIONS, captions),
        paragraphs=_frame(PARAGRAPHS, paragraphs),
        rejects=_frame(REJECTS, rejects),
    )


def _frame(table: Table, rows: list[dict[str, Any]]) -> pl.DataFrame:
    return table.conform(pl.DataFrame(rows, infer_schema_length=None)) if rows else table.empty()
