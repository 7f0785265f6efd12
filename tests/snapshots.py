"""Reading a published snapshot's tables for comparisons between runs."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tasks.schemas import PUBLISHED_TABLES

# Columns that legitimately change between runs over the same input.
RUN_COLUMNS = {"run_id", "fetched_at", "translated_at", "rejected_at"}


def snapshot_contents(snapshot: Path) -> dict[str, pl.DataFrame]:
    """Every published table of `snapshot` without run columns, sorted by its key."""
    out = {}
    for name, table in PUBLISHED_TABLES.items():
        frame = pl.read_parquet(sorted((snapshot / name).glob("*.parquet")))
        keep = [c for c in table.names if c not in RUN_COLUMNS]
        out[name] = frame.select(keep).sort(list(table.key))
    return out
