"""Cross-table checks as boolean columns, so expectation suites can gate them like any other column."""

from __future__ import annotations

import polars as pl

# Column holding the text each span table's offsets must reproduce.
SPAN_TEXT = {"mentions": "surface", "figures": "surface", "dates": "surface", "agreements": "surface", "quotes": "text"}
CHECK_PREFIX = "_check_"


def with_checks(name: str, frame: pl.DataFrame, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """`frame` (table `name`) with `_check_*` columns: article exists, span inside the body and equal to its text."""
    articles = tables["articles"].select("article_id", "body")
    out = frame
    if "article_id" in frame.columns and name not in {"articles", "rejects"}:
        out = out.with_columns(
            pl.col("article_id").is_in(articles["article_id"].implode()).alias("_check_article_exists")
        )
    if name in SPAN_TEXT:
        text_col = SPAN_TEXT[name]
        joined = out.join(articles, on="article_id", how="left")
        body_len = pl.col("body").str.len_chars()
        out = out.with_columns(
            joined.select(
                ((pl.col("start") >= 0) & (pl.col("start") < pl.col("end")) & (pl.col("end") <= body_len))
                .fill_null(value=False)
                .alias("_check_span_in_body"),
                (pl.col("body").str.slice(pl.col("start"), pl.col("end") - pl.col("start")) == pl.col(text_col))
                .fill_null(value=False)
                .alias("_check_span_matches"),
            )
        )
    if name == "mentions":
        entity_ids = tables["entities"]["entity_id"].implode()
        out = out.with_columns(
            (pl.col("entity_id").is_null() | pl.col("entity_id").is_in(entity_ids)).alias("_check_entity_exists")
        )
    return out
