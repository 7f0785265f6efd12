"""Translations of titles and bodies into English, with provenance."""

from __future__ import annotations

import polars as pl

from tasks.schemas.core import Column, Table, cols
from tasks.schemas.documents import UTC

TRANSLATIONS = Table(
    name="translations",
    description="English title and body per article, or the status saying why there is none yet.",
    key=("article_id", "target_language"),
    columns=cols(
        Column("article_id", pl.String, "Article translated.", nullable=False),
        Column("source_language", pl.String, "Language of the article (from language identification).", nullable=False),
        Column("target_language", pl.String, "Language translated into (ISO 639-1).", nullable=False),
        Column(
            "engine", pl.String, "Translator that produced the row (placeholder, libretranslate, ...).", nullable=False
        ),
        Column("engine_version", pl.String, "Translator version or model (libretranslate: the server's API version)."),
        Column(
            "status",
            pl.String,
            "source_is_target (already English, copied) | pending (not translated yet: placeholder, over the run's "
            "character budget, language unsupported) | translated | failed (the engine was asked and failed).",
            nullable=False,
        ),
        Column("title_en", pl.String, "English title; null unless status is source_is_target or translated."),
        Column("body_en", pl.String, "English body; null unless status is source_is_target or translated."),
        Column("error", pl.String, "Why the translation failed (status failed); null otherwise. Never holds secrets."),
        Column("translated_at", UTC, "When the row was produced (UTC).", nullable=False),
    ),
)
