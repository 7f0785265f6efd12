"""The outcome of validating a candidate snapshot, independent of the validation engine."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["critical", "warning", "info"]


@dataclass(frozen=True, slots=True)
class ExpectationOutcome:
    """One expectation's verdict on one table."""

    table: str
    expectation: str
    column: str | None
    severity: Severity
    success: bool
    unexpected_count: int | None = None
    sample: list[Any] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """All outcomes; the snapshot may be published when no critical expectation failed."""

    outcomes: list[ExpectationOutcome]
    data_docs: str | None = None

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
        """One line per failure, critical first, with a few offending values."""
        lines = [
            f"[{o.severity}] {o.table}.{o.column or '*'}: {o.expectation}"
            + (f" ({o.unexpected_count} rows, e.g. {o.sample[:3]})" if o.unexpected_count else "")
            for o in [*self.critical_failures, *self.warnings][:limit]
        ]
        return "\n".join(lines) or "all expectations met"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for manifests and artifacts."""
        return {
            "success": self.success,
            "critical_failures": len(self.critical_failures),
            "warnings": len(self.warnings),
            "evaluated": len(self.outcomes),
            "data_docs": self.data_docs,
            "outcomes": [asdict(o) for o in self.outcomes],
        }
