"""The data contract's declarations: one schema per table, enforced on write."""

from __future__ import annotations

import polars as pl
import pytest

from tasks.schemas import ARTICLES, MENTIONS, PUBLISHED_TABLES


def test_every_published_table_has_a_key_made_of_its_columns():
    for table in PUBLISHED_TABLES.values():
        assert table.key, table.name
        assert set(table.key) <= set(table.names), table.name
        assert len(set(table.names)) == len(table.names), table.name


def test_conform_orders_casts_and_fills_missing_nullable_columns():
    frame = pl.DataFrame(
        {
            "surface": ["광주"],
            "end": [2],
            "start": [0],
            "article_id": ["a1"],
            "type": ["LOC"],
            "mention_id": ["a1:0:2:LOC"],
            "method": ["registry"],
        }
    )
    out = MENTIONS.conform(frame)
    assert out.columns == MENTIONS.names
    assert out.schema == MENTIONS.schema
    assert out["entity_id"].to_list() == [None]


def test_conform_refuses_to_drop_a_required_column():
    with pytest.raises(ValueError, match="body"):
        ARTICLES.conform(pl.DataFrame({"article_id": ["a1"]}))


def test_check_reports_missing_retyped_and_unexpected_columns():
    frame = MENTIONS.empty().drop("method").with_columns(pl.col("start").cast(pl.Int32), pl.lit(1).alias("extra"))
    problems = MENTIONS.check(frame)
    assert "missing column method" in problems
    assert any(p.startswith("column start is Int32") for p in problems)
    assert "unexpected column extra" in problems
    assert MENTIONS.check(MENTIONS.empty()) == []
