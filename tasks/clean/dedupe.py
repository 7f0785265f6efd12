"""Duplicate clusters over the whole article set."""

from __future__ import annotations

import polars as pl


def assign_duplicates(articles: pl.DataFrame) -> pl.DataFrame:
    """ARTICLES with duplicate_cluster_id and is_canonical set: exact duplicates share the earliest article's id."""
    order = articles.sort("fetched_at", "article_id")
    canonical = order.group_by("content_sha256", maintain_order=True).agg(pl.col("article_id").first().alias("_canon"))
    return (
        articles.drop("duplicate_cluster_id", "is_canonical")
        .join(canonical, on="content_sha256", how="left")
        .with_columns(
            pl.col("_canon").alias("duplicate_cluster_id"),
            (pl.col("_canon") == pl.col("article_id")).alias("is_canonical"),
        )
        .drop("_canon")
        .select(articles.columns)
    )
