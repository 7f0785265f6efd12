"""Cleaned articles and what cleaning separates from their bodies."""

from __future__ import annotations

import polars as pl

from tasks.schemas.core import Column, Table, cols
from tasks.schemas.documents import UTC

ARTICLES = Table(
    name="articles",
    description="One row per article: cleaned body and metadata. `body` is the text every offset points into.",
    key=("article_id",),
    columns=cols(
        Column(
            "article_id", pl.String, "Stable id: the same source document gets the same id across runs.", nullable=False
        ),
        Column("source_uri", pl.String, "Where the article was read from.", nullable=False),
        Column(
            "canonical_uri", pl.String, "Canonical URL or path (tracking parameters, amp and mobile hosts removed)."
        ),
        Column("source_name", pl.String, "Name of the source entry in the sources file."),
        Column("title", pl.String, "Headline; null when the document states none."),
        Column("published_at", UTC, "Publication instant (UTC); null when the document does not state it."),
        Column("published_at_local", pl.String, "Publication time as stated, ISO 8601 with the source's UTC offset."),
        Column("author", pl.String, "Author or reporter name(s) from the byline, '; '-separated; null when unstated."),
        Column("publisher", pl.String, "Publisher from the source configuration or the copyright line."),
        Column("language", pl.String, "ISO 639-1 language of the body ('und' when undetermined).", nullable=False),
        Column(
            "body",
            pl.String,
            "Cleaned text: NFC, page furniture removed, paragraphs separated by a blank line.",
            nullable=False,
        ),
        Column("body_chars", pl.Int64, "Length of body in characters (code points).", nullable=False),
        Column(
            "content_sha256",
            pl.String,
            "SHA-256 of the normalised body (case-folded, whitespace and punctuation removed): exact-duplicate key.",
            nullable=False,
        ),
        Column(
            "raw_sha256",
            pl.String,
            "SHA-256 of the fetched bytes; the raw-layer file this article came from.",
            nullable=False,
        ),
        Column("duplicate_cluster_id", pl.String, "Cluster of exact and near duplicates (id of the canonical member)."),
        Column("is_canonical", pl.Boolean, "True for the member of its duplicate cluster that is kept as canonical."),
        Column("fetched_at", UTC, "When the raw bytes were fetched (UTC).", nullable=False),
        Column("run_id", pl.String, "Run that processed this article.", nullable=False),
        Column(
            "minhash",
            pl.List(pl.UInt32),
            "Near-duplicate signature: 64-value MinHash (one-permutation hashing) of the body's character 5-grams; "
            "the share of equal values estimates the Jaccard similarity of two bodies.",
        ),
    ),
)

CAPTIONS = Table(
    name="captions",
    description="Photo captions kept out of article bodies, each caption once.",
    key=("caption_id",),
    columns=cols(
        Column("caption_id", pl.String, "article_id and ordinal.", nullable=False),
        Column("article_id", pl.String, "Article the caption belongs to.", nullable=False),
        Column("ordinal", pl.Int32, "Position of the caption in the document (0-based).", nullable=False),
        Column("text", pl.String, "Caption text without the photo credit.", nullable=False),
        Column("credit", pl.String, "Photo credit (e.g. '©AI타임스') when present."),
        Column("language", pl.String, "ISO 639-1 language of the caption."),
    ),
)

PARAGRAPHS = Table(
    name="paragraphs",
    description=(
        "Paragraphs of each body with their own language, so a Korean paragraph in an English article is marked."
    ),
    key=("article_id", "ordinal"),
    columns=cols(
        Column("article_id", pl.String, "Article the paragraph belongs to.", nullable=False),
        Column("ordinal", pl.Int32, "Paragraph number in the body (0-based).", nullable=False),
        Column("start", pl.Int64, "Offset of the paragraph's first character in articles.body.", nullable=False),
        Column("end", pl.Int64, "Offset one past the paragraph's last character.", nullable=False),
        Column("language", pl.String, "ISO 639-1 language of the paragraph ('und' when undetermined).", nullable=False),
    ),
)
