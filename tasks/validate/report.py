"""The outcome of validating a candidate snapshot, independent of the validation engine."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["critical", "warning", "info"]
_CELL = 60


@dataclass(frozen=True, slots=True)
class ExpectationOutcome:
    """One expectation's verdict on one table, with a few offending rows (key and checked values)."""

    table: str
    expectation: str
    column: str | None
    severity: Severity
    success: bool
    unexpected_count: int | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)
    notes: str | None = None
    observed: Any = None
    error: str | None = None
    condition: str | None = None

    @property
    def label(self) -> str:
        """`table.column expectation` (the name a failure is reported under)."""
        where = f" if {self.condition}" if self.condition else ""
        return f"{self.table}.{self.column or '*'} {self.expectation}{where}"

    def describe(self, rows: int = 3) -> str:
        """One line: what failed, why it matters, how often, and a few offending rows."""
        parts = [f"[{self.severity}] {self.label}"]
        if self.notes:
            parts.append(f"({self.notes})")
        if self.error:
            parts.append(f"error: {self.error}")
        if self.unexpected_count:
            parts.append(f"{self.unexpected_count} rows")
        elif self.observed is not None:
            parts.append(f"observed {self.observed}")
        if self.sample:
            parts.append("e.g. " + " | ".join(_row(r) for r in self.sample[:rows]))
        return " ".join(parts)


def _row(row: dict[str, Any]) -> str:
    cells = []
    for k, v in row.items():
        text = repr(v) if isinstance(v, str) else str(v)
        cells.append(f"{k}={text[:_CELL] + '…' if len(text) > _CELL else text}")
    return ", ".join(cells)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """All outcomes; the snapshot may be published when no critical expectation failed."""

    outcomes: list[ExpectationOutcome]
    data_docs: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: float | None = None

    @property
    def success(self) -> bool:
        """True when no critical expectation failed."""
        return not self.critical_failures

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        """Failed expectations that block publishing."""
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        """Failed expectations that are reported but do not block."""
        return [o for o in self.outcomes if not o.success and o.severity != "critical"]

    def summary(self, limit: int = 10) -> str:
        """One line per failure, critical first, with a few offending rows."""
        failed = [*self.critical_failures, *self.warnings]
        lines = [o.describe() for o in failed[:limit]]
        if len(failed) > limit:
            lines.append(f"... and {len(failed) - limit} more (see validation/result.json)")
        return "\n".join(lines) or "all expectations met"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for manifests, artifacts and validation/result.json."""
        return {
            "success": self.success,
            "critical_failures": len(self.critical_failures),
            "warnings": len(self.warnings),
            "evaluated": len(self.outcomes),
            "failed": [o.label for o in [*self.critical_failures, *self.warnings]],
            "data_docs": self.data_docs,
            "parameters": self.parameters,
            "seconds": self.seconds,
            "outcomes": [asdict(o) for o in self.outcomes],
        }


def failure_lines(report: dict[str, Any], *, severity: Severity = "critical", rows: int = 3) -> list[str]:
    """Describe failed outcomes of a report dict (as written to result.json) of one severity."""
    names = set(ExpectationOutcome.__dataclass_fields__)
    return [
        ExpectationOutcome(**{k: v for k, v in o.items() if k in names}).describe(rows)
        for o in report.get("outcomes", [])
        if not o["success"] and (o["severity"] == "critical") == (severity == "critical")
    ]


def rejection_message(run_id: str, where: object, report: dict[str, Any], *, limit: int = 8) -> str:
    """Why a candidate was not published: each failed critical expectation with a few offending rows."""
    failed = failure_lines(report, severity="critical")
    docs = f"{where}/{report['data_docs']}" if report.get("data_docs") else f"{where}/validation/result.json"
    lines = [
        (
            f"snapshot {run_id} failed {len(failed)} critical expectation(s); current is unchanged and the candidate "
            f"is quarantined at {where} (details: {docs}):"
        ),
        *(f"  - {line}" for line in failed[:limit]),
    ]
    if len(failed) > limit:
        lines.append(f"  - ... and {len(failed) - limit} more")
    lines.append(f"After a fix, re-validate and publish it without refetching: newsgraph publish {run_id}")
    return "\n".join(lines)
