"""What a validation compares a candidate against: settings, the clock and the previous snapshot."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl


@dataclass(frozen=True, slots=True)
class GateParameters:
    """Inputs of the suites' `$PARAMETER`s and of the contract comparison with the previous snapshot."""

    expected_languages: tuple[str, ...] = ("en", "ko", "ja")
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Timestamps stated without an offset may be read a few hours ahead; a day of slack avoids false alarms.
    future_tolerance: timedelta = timedelta(days=1)
    previous_run_id: str | None = None
    previous_counts: Mapping[str, int] = field(default_factory=dict)
    previous_schemas: Mapping[str, pl.Schema] = field(default_factory=dict)
    max_row_drop: float = 0.5
    max_row_growth: float = 100.0
    # Escape hatches for a deliberate change, used by `newsgraph publish --allow-...`, never by the nightly run.
    allow_row_count_change: bool = False
    allow_contract_change: bool = False

    def row_band(self, table: str) -> tuple[int, int | None]:
        """Allowed row count of `table` against the previous snapshot: (min, max or None for unbounded)."""
        previous = self.previous_counts.get(table)
        if self.allow_row_count_change or not previous:
            return 0, None
        return math.floor(previous * (1.0 - self.max_row_drop)), math.ceil(previous * self.max_row_growth)

    def for_table(self, table: str) -> dict[str, Any]:
        """Values for the `$PARAMETER` references of `table`'s suite."""
        low, high = self.row_band(table)
        return {
            "expected_languages": list(self.expected_languages),
            "max_published_at": (self.now + self.future_tolerance).astimezone(UTC).isoformat(),
            "min_rows": low,
            "max_rows": high,
        }

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary for result.json and the manifest."""
        return {
            "expected_languages": list(self.expected_languages),
            "now": self.now.astimezone(UTC).isoformat(),
            "future_tolerance_hours": self.future_tolerance.total_seconds() / 3600,
            "previous_run_id": self.previous_run_id,
            "max_row_drop": self.max_row_drop,
            "max_row_growth": self.max_row_growth,
            "row_bands": {t: self.row_band(t) for t in sorted(self.previous_counts)},
            "allow_row_count_change": self.allow_row_count_change,
            "allow_contract_change": self.allow_contract_change,
        }
