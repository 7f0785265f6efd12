"""Clean: raw documents to articles with boilerplate-free bodies, metadata and language."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from tasks.clean.dedupe import assign_duplicates
from tasks.ids import sha256_hex
from tasks.schemas import ARTICLES, CAPTIONS, PARAGRAPHS, REJECTS

__all__ = ["CleanResult", "assign_duplicates", "clean_documents"]

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True, slots=True)
class CleanResult:
    """Articles, captions and paragraphs of the cleaned documents, and the documents rejected while cleaning."""

    articles: pl.DataFrame
    captions: pl.DataFrame
    paragraphs: pl.DataFrame
    rejects: pl.DataFrame


def _script_language(text: str) -> str:
    counts = {
        "ko": len(_HANGUL.findall(text)),
        "ja": len(_KANA.findall(text)) * 3,
        "en": len(_LATIN.findall(text)) // 4,
    }
    lang, n = max(counts.items(), key=lambda kv: kv[1])
    return lang if n else "und"


def _clean_body(text: str) -> str:
    lines = [" ".join(unicodedata.normalize("NFC", line).split()) for line in text.splitlines()]
    seen: set[str] = set()
    kept: list[str] = []
    for line in lines:
        if not line or line in seen:
            continue
        seen.add(line)
        kept.append(line)
    return "\n\n".join(kept)


def _paragraph_rows(article_id: str, body: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    pos = 0
    for ordinal, para in enumerate(body.split("\n\n")):
        rows.append(
            {
                "article_id": article_id,
                "ordinal": ordinal,
                "start": pos,
                "end": pos + len(para),
                "language": _script_language(para),
            }
        )
        pos += len(para) + 2
    return rows


def clean_documents(documents: pl.DataFrame, *, run_id: str, now: datetime | None = None) -> CleanResult:
    """Clean RAW_DOCUMENTS rows into ARTICLES, CAPTIONS and PARAGRAPHS; empty results become REJECTS."""
    moment = now or datetime.now(UTC)
    bodies = documents.with_columns(pl.col("text").map_elements(_clean_body, return_dtype=pl.String).alias("body"))
    empty = bodies.filter(pl.col("body").str.len_chars() == 0)
    kept = bodies.filter(pl.col("body").str.len_chars() > 0)
    articles = kept.with_columns(
        pl.col("meta_title").alias("title"),
        pl.col("meta_author").alias("author"),
        pl.col("meta_publisher").alias("publisher"),
        pl.col("body").map_elements(_script_language, return_dtype=pl.String).alias("language"),
        pl.col("body").str.len_chars().cast(pl.Int64).alias("body_chars"),
        pl.col("body").map_elements(sha256_hex, return_dtype=pl.String).alias("content_sha256"),
        pl.lit(run_id).alias("run_id"),
    )
    paragraphs = [
        r
        for aid, body in zip(articles["article_id"], articles["body"], strict=True)
        for r in _paragraph_rows(aid, body)
    ]
    rejects = empty.select(
        "source_uri",
        "article_id",
        "raw_sha256",
        pl.lit("clean").alias("stage"),
        pl.lit("empty_body").alias("reason"),
        pl.lit("no text left after cleaning").alias("detail"),
        pl.lit(run_id).alias("run_id"),
        pl.lit(moment).alias("rejected_at"),
        pl.concat_str(["source_uri", pl.lit("clean:empty_body")])
        .map_elements(lambda s: sha256_hex(s)[:24], return_dtype=pl.String)
        .alias("reject_id"),
    )
    return CleanResult(
        articles=ARTICLES.conform(articles),
        captions=CAPTIONS.empty(),
        paragraphs=PARAGRAPHS.conform(pl.DataFrame(paragraphs, schema=PARAGRAPHS.schema))
        if paragraphs
        else PARAGRAPHS.empty(),
        rejects=REJECTS.conform(rejects),
    )
