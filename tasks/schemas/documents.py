"""Documents as fetched (raw layer index) and documents that could not be processed (rejects)."""

from __future__ import annotations

import polars as pl

from tasks.schemas.core import Column, Table, cols

UTC = pl.Datetime("us", "UTC")

RAW_DOCUMENTS = Table(
    name="raw_documents",
    description=(
        "One row per fetched document in a run: where it came from, the hash of its bytes in the raw layer and "
        "its decoded text. Internal hand-over from fetch to clean; not published."
    ),
    key=("article_id",),
    published=False,
    columns=cols(
        Column("article_id", pl.String, "Stable id: hash of the canonical source identity.", nullable=False),
        Column(
            "source_uri",
            pl.String,
            "Where the document was read from (URL or path relative to the sources file).",
            nullable=False,
        ),
        Column("canonical_uri", pl.String, "Canonical URL or path used for identity (tracking parameters removed)."),
        Column("source_name", pl.String, "Name of the source entry in the sources file."),
        Column(
            "raw_sha256", pl.String, "SHA-256 of the fetched bytes; the file name in the raw layer.", nullable=False
        ),
        Column(
            "media_type",
            pl.String,
            "text/plain, text/html, application/jsonl+record or text/csv+record.",
            nullable=False,
        ),
        Column("encoding", pl.String, "Character encoding the bytes were decoded with."),
        Column(
            "text",
            pl.String,
            "Decoded text; for HTML the extracted main text with line breaks between blocks.",
            nullable=False,
        ),
        Column("meta_title", pl.String, "Title stated by the source (HTML metadata, feed item, JSONL/CSV field)."),
        Column("meta_published_at", pl.String, "Publication time as stated by the source, unparsed."),
        Column("meta_author", pl.String, "Author stated by the source."),
        Column("meta_publisher", pl.String, "Publisher stated by the source or its configuration."),
        Column("meta_language", pl.String, "Language declared by the source (html lang, feed, config)."),
        Column(
            "meta_utc_offset",
            pl.String,
            "UTC offset configured for the source (e.g. '+09:00'), for dates stated without one.",
        ),
        Column("fetched_at", UTC, "When the bytes were fetched (UTC).", nullable=False),
    ),
)

REJECTS = Table(
    name="rejects",
    description="Documents that could not be processed, with the stage and reason; nothing is dropped silently.",
    key=("reject_id",),
    per_article=False,
    columns=cols(
        Column("reject_id", pl.String, "Hash of source_uri, stage and reason.", nullable=False),
        Column("source_uri", pl.String, "Where the document came from.", nullable=False),
        Column("article_id", pl.String, "The article id when one was assigned before the failure."),
        Column("raw_sha256", pl.String, "Hash of the raw bytes when they were fetched (kept in the raw layer)."),
        Column("stage", pl.String, "fetch | clean | translate | extract | publish.", nullable=False),
        Column(
            "reason",
            pl.String,
            "Short machine-readable reason, e.g. http_404, empty_body, binary_content.",
            nullable=False,
        ),
        Column("detail", pl.String, "Human-readable detail (error message, HTTP status line)."),
        Column("run_id", pl.String, "Run that produced the reject.", nullable=False),
        Column("rejected_at", UTC, "When the reject was recorded (UTC).", nullable=False),
    ),
)

FETCH_STATE = Table(
    name="fetch_state",
    description=(
        "What has been fetched and published so far, one row per stored document (articles, plus documents rejected "
        "or found to repeat another): the basis of incremental runs and of reprocessing from the raw layer. Stored "
        "with each snapshot under _state/, so a rollback rolls it back too."
    ),
    key=("article_id",),
    published=False,
    columns=cols(
        *(c for c in RAW_DOCUMENTS.columns if c.name != "text"),
        Column("etag", pl.String, "HTTP ETag of the last response, for conditional requests."),
        Column("last_modified", pl.String, "HTTP Last-Modified of the last response."),
        Column(
            "content_sha256",
            pl.String,
            "SHA-256 of the document text with whitespace folded: finds the same article at another URL or name.",
        ),
        Column(
            "duplicate_of",
            pl.String,
            "article_id of the earlier document with the same text; set rows are not articles of their own.",
        ),
        Column(
            "reject_reason",
            pl.String,
            "Why the stored bytes did not become a document (binary_content, undecodable, ...); null when they did.",
        ),
    ),
)

SOURCE_FILES = Table(
    name="source_files",
    description=(
        "Every file of a directory source as last read: size, modification time and digest. A file whose size and "
        "modification time are unchanged is not read again (its documents are unchanged), so a nightly run with "
        "nothing new costs a directory listing, not a read of the corpus. Stored with each snapshot under _state/."
    ),
    key=("source_name", "path"),
    published=False,
    columns=cols(
        Column("source_name", pl.String, "Directory source the file belongs to.", nullable=False),
        Column("path", pl.String, "Path relative to the sources file's folder.", nullable=False),
        Column("size", pl.Int64, "Size in bytes when last read.", nullable=False),
        Column("mtime_ns", pl.Int64, "Modification time (ns since the epoch) when last read.", nullable=False),
        Column("raw_sha256", pl.String, "SHA-256 of the file's bytes (null: too large to read)."),
    ),
)
