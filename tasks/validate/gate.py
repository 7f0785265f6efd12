"""Run the expectation suites in `expectations/` against a candidate's tables with Great Expectations."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, cast

import polars as pl

from tasks.schemas import PUBLISHED_TABLES
from tasks.validate.checks import with_checks
from tasks.validate.report import ExpectationOutcome, Severity, ValidationReport

DEFAULT_SUITES = Path(__file__).resolve().parents[2] / "expectations"
_SAMPLE = 5


def load_suite_specs(suites_dir: Path = DEFAULT_SUITES) -> dict[str, dict[str, Any]]:
    """Suite JSON documents by table name (file name without .json)."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(suites_dir.glob("*.json"))}


def _schema_outcomes(tables: dict[str, pl.DataFrame]) -> list[ExpectationOutcome]:
    outcomes = []
    for name, table in PUBLISHED_TABLES.items():
        frame = tables.get(name)
        problems = ["table missing"] if frame is None else table.check(frame)
        outcomes.append(
            ExpectationOutcome(
                table=name,
                expectation="schema_matches_contract",
                column=None,
                severity="critical",
                success=not problems,
                unexpected_count=len(problems) or None,
                sample=problems[:_SAMPLE],
            )
        )
    return outcomes


def validate_tables(
    tables: dict[str, pl.DataFrame],
    *,
    suites_dir: Path = DEFAULT_SUITES,
    parameters: dict[str, Any] | None = None,
) -> ValidationReport:
    """Validate every table that has a suite; the contract schema is checked for every published table."""
    # GE draws a progress bar per batch; a nightly log wants none.
    os.environ.setdefault("TQDM_DISABLE", "1")
    import great_expectations as gx  # lazy: ~7 s import, paid only when a snapshot is validated
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    outcomes = _schema_outcomes(tables)
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_pandas("snapshot")
    for name, spec in load_suite_specs(suites_dir).items():
        if name not in tables:
            continue
        frame = with_checks(name, tables[name], tables)
        batch_def = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        expectations = [
            ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta") or {}).to_domain_obj()
            for e in spec["expectations"]
        ]
        suite = ExpectationSuite(name=spec.get("name", name), expectations=expectations)
        # Lists become Python lists in pandas via Arrow; expectations on scalar columns are unaffected.
        batch = batch_def.get_batch(batch_parameters={"dataframe": frame.to_pandas(use_pyarrow_extension_array=False)})
        result = batch.validate(suite, expectation_parameters=parameters or {}, result_format="SUMMARY")
        for r in result.results:
            config = r.expectation_config
            res = cast("dict[str, Any]", r.result or {})
            meta = (config.meta if config else None) or {}
            outcomes.append(
                ExpectationOutcome(
                    table=name,
                    expectation=config.type if config else "unknown",
                    column=(config.kwargs.get("column") if config else None),
                    severity=cast("Severity", meta.get("severity", "critical")),
                    success=bool(r.success),
                    unexpected_count=res.get("unexpected_count"),
                    sample=[str(v) for v in (res.get("partial_unexpected_list") or [])[:_SAMPLE]],
                )
            )
    return ValidationReport(outcomes)
