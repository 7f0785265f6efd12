"""Table and column declarations: the one place a published table's shape is defined."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the data contract."""

    name: str
    dtype: pl.DataType | type[pl.DataType]
    description: str
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class Table:
    """A published (or staged) table: its columns in order, its key and what it holds."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # Tables with an article_id column are partitioned by article in snapshots and joined to articles.
    per_article: bool = True
    published: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Column names in contract order."""
        return [c.name for c in self.columns]

    @property
    def schema(self) -> pl.Schema:
        """The polars schema of the table."""
        return pl.Schema({c.name: c.dtype for c in self.columns})

    def column(self, name: str) -> Column:
        """The column called `name`."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def empty(self) -> pl.DataFrame:
        """A frame with no rows and exactly this schema."""
        return pl.DataFrame(schema=self.schema)

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` with exactly this table's columns, order and types; missing nullable columns become null.

        Raises ValueError when a non-nullable column is missing, so a step cannot silently drop a field.
        """
        missing = [c for c in self.columns if c.name not in frame.columns]
        required = [c.name for c in missing if not c.nullable]
        if required:
            raise ValueError(f"{self.name}: missing required columns {required}")
        exprs = [
            (pl.col(c.name) if c.name in frame.columns else pl.lit(None)).cast(c.dtype).alias(c.name)
            for c in self.columns
        ]
        return frame.select(exprs)

    def check(self, frame: pl.DataFrame) -> list[str]:
        """Differences between `frame`'s schema and the contract (empty when they agree)."""
        problems: list[str] = []
        got = frame.schema
        for c in self.columns:
            if c.name not in got:
                problems.append(f"missing column {c.name}")
            elif got[c.name] != c.dtype:
                problems.append(f"column {c.name} is {got[c.name]}, contract says {c.dtype}")
        problems.extend(f"unexpected column {name}" for name in got if name not in self.names)
        return problems


def cols(*columns: Column) -> tuple[Column, ...]:
    """Readable tuple constructor for table declarations."""
    return tuple(columns)


def registry(tables: Sequence[Table]) -> dict[str, Table]:
    """Tables by name, refusing duplicates."""
    out: dict[str, Table] = {}
    for t in tables:
        if t.name in out:
            raise ValueError(f"table {t.name} declared twice")
        out[t.name] = t
    return out
