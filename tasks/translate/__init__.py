"""Translate: English title and body per article, through a pluggable translator."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import polars as pl

from tasks.schemas import TRANSLATIONS

__all__ = ["translate_articles"]


def translate_articles(
    articles: pl.DataFrame,
    *,
    engine: str = "placeholder",
    options: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> pl.DataFrame:
    """TRANSLATIONS rows for ARTICLES rows: English is copied, other languages stay pending (no invented text)."""
    del options  # the placeholder takes none
    moment = now or datetime.now(UTC)
    is_en = pl.col("language") == "en"
    frame = articles.select(
        "article_id",
        pl.col("language").alias("source_language"),
        pl.lit("en").alias("target_language"),
        pl.lit(engine).alias("engine"),
        pl.lit(None, pl.String).alias("engine_version"),
        pl.when(is_en).then(pl.lit("source_is_target")).otherwise(pl.lit("pending")).alias("status"),
        pl.when(is_en).then(pl.col("title")).alias("title_en"),
        pl.when(is_en).then(pl.col("body")).alias("body_en"),
        pl.lit(None, pl.String).alias("error"),
        pl.lit(moment).alias("translated_at"),
    )
    return TRANSLATIONS.conform(frame)
