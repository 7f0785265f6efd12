"""docs/data-contract.md is generated from the schemas and suites; this fails when someone forgot to regenerate it."""

from __future__ import annotations

import polars as pl

from tasks.schemas import PUBLISHED_TABLES
from tasks.schemas.docs import DOC, render_data_contract, sql_type


def test_data_contract_doc_is_up_to_date():
    assert DOC.exists(), "run: .venv/bin/python -m tasks.schemas.docs --write"
    assert DOC.read_text(encoding="utf-8") == render_data_contract(), (
        "docs/data-contract.md is stale; run: .venv/bin/python -m tasks.schemas.docs --write"
    )


def test_every_published_column_is_documented():
    text = render_data_contract()
    for name, table in PUBLISHED_TABLES.items():
        assert f"## {name}\n" in text
        for col in table.columns:
            assert f"| `{col.name}` |" in text, (name, col.name)


def test_sql_types_name_what_duckdb_reports():
    assert sql_type(pl.Datetime("us", "UTC")) == "TIMESTAMP WITH TIME ZONE"
    assert sql_type(pl.List(pl.String)) == "VARCHAR[]"
    assert sql_type(pl.Int32) == "INTEGER"
