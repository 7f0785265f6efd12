"""What the README promises analysts: polars, pandas and DuckDB read the published snapshot, and the join works."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pytest

from tasks.schemas import AGREEMENTS, PUBLISHED_TABLES
from tasks.schemas.docs import sql_type

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The README's question: agreements with their parties' English names and dates (kept in sync with README.md).
AGREEMENTS_WITH_PARTIES = (
    "SELECT g.agreement_id, g.kind, g.year, g.month, g.day, "
    "list(e.canonical_name ORDER BY e.canonical_name) AS parties_en "
    "FROM '{snap}/agreements/*.parquet' g, unnest(g.party_entity_ids) AS p(entity_id) "
    "JOIN '{snap}/entities/*.parquet' e USING (entity_id) GROUP BY ALL ORDER BY g.year, g.month, g.day"
)


def test_agreements_join_returns_english_party_names_from_entities(seed_snapshot: Path):
    con = duckdb.connect()
    rel = con.sql(AGREEMENTS_WITH_PARTIES.format(snap=seed_snapshot))
    assert rel.columns == ["agreement_id", "kind", "year", "month", "day", "parties_en"]
    for name, dtype in zip(rel.columns[:5], rel.types[:5], strict=True):
        assert str(dtype) == sql_type(AGREEMENTS.column(name).dtype), name
    rows = rel.fetchall()
    entities = pl.read_parquet(seed_snapshot / "entities" / "*.parquet")
    english = set(entities["canonical_name"])
    for row in rows:
        assert row[5], row
        assert set(row[5]) <= english, row
    agreements = pl.read_parquet(seed_snapshot / "agreements" / "*.parquet")
    linked = agreements.explode("party_entity_ids").filter(
        pl.col("party_entity_ids").is_in(entities["entity_id"].implode())
    )
    # Every agreement with at least one linked party appears, once.
    assert len(rows) == linked["agreement_id"].n_unique()
    assert len({r[0] for r in rows}) == len(rows)


def test_polars_pandas_and_duckdb_read_the_same_tables(seed_snapshot: Path):
    for name, table in PUBLISHED_TABLES.items():
        lazy = pl.scan_parquet(seed_snapshot / name / "*.parquet")
        assert lazy.collect_schema() == table.schema, name
        frame = lazy.collect()
        pandas = pd.read_parquet(seed_snapshot / name)
        assert list(pandas.columns) == table.names, name
        assert len(pandas) == frame.height, name
        query = f"DESCRIBE SELECT * FROM '{seed_snapshot}/{name}/*.parquet'"  # noqa: S608 # a test's own path
        described = duckdb.sql(query).fetchall()
        assert [(c[0], c[1]) for c in described] == [(c.name, sql_type(c.dtype)) for c in table.columns], name


def test_offsets_reproduce_surfaces_in_sql(seed_snapshot: Path):
    # The contract's promise for SQL users: substr(body, start + 1, end - start) = surface.
    query = (
        f"SELECT count(*) FROM '{seed_snapshot}/mentions/*.parquet' m "  # noqa: S608 # a test's own path
        f"JOIN '{seed_snapshot}/articles/*.parquet' a USING (article_id) "
        'WHERE substr(a.body, m.start + 1, m."end" - m.start) <> m.surface'
    )
    bad = duckdb.sql(query).fetchall()
    assert bad == [(0,)]
