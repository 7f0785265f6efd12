"""Run the expectation suites in `expectations/` against a candidate's tables with Great Expectations.

Besides the JSON suites, a `contract` suite built here from `tasks.schemas` checks that every table has exactly
the contract's columns and types, and that no column was removed or retyped since the previous snapshot.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import polars as pl

from tasks.schemas import PUBLISHED_TABLES
from tasks.validate.checks import BODY_SLICE, DERIVED_PREFIX, SPAN_TEXT, with_checks
from tasks.validate.params import GateParameters
from tasks.validate.report import ExpectationOutcome, Severity, ValidationReport

DEFAULT_SUITES = Path(__file__).resolve().parents[2] / "expectations"
CONTRACT_SUITE = "contract"
_SAMPLE = 5
_COLUMN_KEYS = ("column", "column_A", "column_B")


_preloading: list[threading.Thread] = []


def preload_in_background() -> None:
    """Start importing Great Expectations in a thread (seconds of work) while the run does other things.

    The flow's process mostly waits while batches run in worker processes or while the API server starts; the
    validate step then finds the module imported. Python's import lock makes a validate that comes early simply
    wait for the import to finish. Only the first call starts a thread.
    """
    if _preloading or "great_expectations" in sys.modules:
        return
    thread = threading.Thread(target=_import_engine, name="preload-great-expectations")
    _preloading.append(thread)
    thread.start()


def _import_engine() -> None:
    os.environ.setdefault("TQDM_DISABLE", "1")
    import great_expectations
    import great_expectations.execution_engine.pandas_execution_engine  # noqa: F401


def load_suite_specs(suites_dir: Path = DEFAULT_SUITES) -> dict[str, dict[str, Any]]:
    """Suite JSON documents by table name (file name without .json)."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(suites_dir.glob("*.json"))}


def referenced_columns(spec: Mapping[str, Any]) -> set[str]:
    """Columns an expectation spec reads: its column arguments and those of its row condition."""
    kwargs = spec.get("kwargs", {})
    found = {kwargs[k] for k in _COLUMN_KEYS if isinstance(kwargs.get(k), str)}
    found.update(c for c in kwargs.get("column_list") or [] if isinstance(c, str))

    def walk(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            col = node.get("column")
            if isinstance(col, dict) and isinstance(col.get("name"), str):
                yield col["name"]
            for v in node.values():
                yield from walk(v)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v)

    found.update(walk(kwargs.get("row_condition")))
    return found


def presence_only_columns(spec: Mapping[str, Any], frame: pl.DataFrame, index: Collection[str]) -> list[str]:
    """Text columns the suite only checks for nulls (and that are not shown with offending rows).

    They go to pandas as a 1-or-null stand-in: the expectation sees the same nulls, and a hundred thousand bodies
    or a million surfaces never become Python strings.
    """
    uses: dict[str, set[str]] = {}
    for expectation in spec["expectations"]:
        for column in referenced_columns(expectation):
            uses.setdefault(column, set()).add(expectation["type"])
    return [
        c
        for c, types in uses.items()
        if types == {"expect_column_values_to_not_be_null"}
        and c not in index
        and c in frame.columns
        and frame.schema[c] == pl.String
    ]


def contract_frame(tables: Mapping[str, pl.DataFrame], params: GateParameters) -> pl.DataFrame:
    """One row per (table, column) of the contract, the candidate and the previous snapshot, with what is wrong."""
    rows: list[dict[str, str | None]] = []
    # A mapping that reads tables on demand (tasks.steps.SnapshotTables) gives schemas without reading rows.
    schema_of = getattr(tables, "schema_of", None)
    for name, table in PUBLISHED_TABLES.items():
        if name not in tables:
            rows.append(_contract_row(name, "*", None, None, None, problem="table missing"))
            continue
        got = schema_of(name) if schema_of is not None else tables[name].schema
        before = params.previous_schemas.get(name)
        names = [*table.names, *(c for c in got if c not in table.names)]
        names += [c for c in (before or {}) if c not in names]
        for col in names:
            want = table.schema.get(col)
            have = got.get(col)
            was = before.get(col) if before is not None else None
            problem = None
            if want is None:
                problem = "column not in the contract" if have is not None else None
            elif have is None:
                problem = "column missing"
            elif have != want:
                problem = f"type {have} but the contract says {want}"
            change = None
            if was is not None and not params.allow_contract_change:
                if want is None:
                    change = "column removed since the previous snapshot"
                elif want != was:
                    change = f"column retyped since the previous snapshot (was {was})"
            rows.append(_contract_row(name, col, want, have, was, problem=problem, change=change))
    return pl.DataFrame(
        rows,
        schema=dict.fromkeys(("table", "column", "contract", "found", "previous", "problem", "change"), pl.String),
    )


def _contract_row(
    table: str,
    column: str,
    want: pl.DataType | None,
    have: pl.DataType | None,
    was: pl.DataType | None,
    *,
    problem: str | None,
    change: str | None = None,
) -> dict[str, str | None]:
    return {
        "table": table,
        "column": column,
        "contract": str(want) if want is not None else None,
        "found": str(have) if have is not None else None,
        "previous": str(was) if was is not None else None,
        "problem": problem,
        "change": change,
    }


CONTRACT_SPEC: dict[str, Any] = {
    "name": CONTRACT_SUITE,
    "meta": {"description": "Every published table has exactly the data contract's columns and types."},
    "expectations": [
        {
            "type": "expect_column_values_to_be_null",
            "kwargs": {"column": "problem"},
            "meta": {"severity": "critical", "notes": "table schema is exactly the data contract (tasks/schemas)"},
        },
        {
            "type": "expect_column_values_to_be_null",
            "kwargs": {"column": "change"},
            "meta": {
                "severity": "critical",
                "notes": "schema evolution is additive: no column removed or retyped since the previous snapshot",
            },
        },
    ],
}


@dataclass(slots=True)
class _Engine:
    """One ephemeral Great Expectations context, optionally with a Data Docs site on disk."""

    context: Any
    source: Any
    run_id: Any
    docs: bool

    @classmethod
    def create(cls, data_docs: Path | None, run_name: str, now: datetime) -> _Engine:
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        # GE fingerprints every batch by hashing all of its values (metadata we never read); on a large table that
        # costs more than the validation itself. Frames above the threshold are not hashed, so set it to zero.
        pandas_execution_engine.HASH_THRESHOLD = 0

        context = gx.get_context(mode="ephemeral")
        # A nightly log wants no progress bars.
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        if data_docs is not None:
            data_docs.mkdir(parents=True, exist_ok=True)
            context.add_data_docs_site(
                "snapshot",
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        return cls(
            context,
            context.data_sources.add_pandas("snapshot"),
            RunIdentifier(run_name=run_name, run_time=now),
            data_docs is not None,
        )

    def validate(
        self, name: str, spec: Mapping[str, Any], frame: pl.DataFrame, *, index: list[str], parameters: dict[str, Any]
    ) -> list[ExpectationOutcome]:
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        expectations = [
            ExpectationConfiguration(
                type=e["type"],
                kwargs=e["kwargs"],
                meta=e.get("meta") or {},
                notes=(e.get("meta") or {}).get("notes"),
                severity=(e.get("meta") or {}).get("severity", "critical"),
            ).to_domain_obj()
            for e in spec["expectations"]
        ]
        suite = ExpectationSuite(name=spec.get("name", name), expectations=expectations, meta=spec.get("meta") or {})
        if self.docs:
            suite = self.context.suites.add(suite)
        batch_def = self.source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        batch = batch_def.get_batch(batch_parameters={"dataframe": frame.to_pandas(use_pyarrow_extension_array=False)})
        result = batch.validate(
            suite,
            expectation_parameters=parameters,
            result_format={
                "result_format": "SUMMARY",
                "unexpected_index_column_names": index,
                "partial_unexpected_count": _SAMPLE,
            },
        )
        if self.docs:
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
                run_id=self.run_id,
                batch_identifier=batch.id,
            )
            self.context.validation_results_store.set(key, result)
        return [_outcome(name, r) for r in result.results]

    def build_docs(self) -> str | None:
        if not self.docs:
            return None
        urls = self.context.build_data_docs(site_names=["snapshot"])
        return str(urls.get("snapshot", "")).removeprefix("file://") or None


def _outcome(table: str, r: Any) -> ExpectationOutcome:  # noqa: ANN401 - a GE validation result
    config = r.expectation_config
    res = cast("dict[str, Any]", r.result or {})
    meta = (config.meta if config else None) or {}
    kwargs = config.kwargs if config else {}
    column = kwargs.get("column") or (",".join(kwargs["column_list"]) if kwargs.get("column_list") else None)
    error = None
    if r.exception_info and r.exception_info.get("raised_exception"):
        error = str(r.exception_info.get("exception_message"))[:300]
    rows = res.get("partial_unexpected_index_list") or [
        {column or "value": v} for v in res.get("partial_unexpected_list") or []
    ]
    return ExpectationOutcome(
        table=table,
        expectation=config.type if config else "unknown",
        column=column,
        severity=cast("Severity", meta.get("severity", "critical")),
        success=bool(r.success),
        unexpected_count=res.get("unexpected_count"),
        # A failing `_check_*` flag is always False: the key and context columns are what identify the row.
        sample=[{k: _plain(v) for k, v in row.items() if not k.startswith("_check_")} for row in rows[:_SAMPLE]],
        notes=meta.get("notes"),
        observed=_plain(res.get("observed_value")),
        error=error,
        condition=_condition(kwargs.get("row_condition")),
    )


def _condition(cond: object) -> str | None:
    """A row condition as `column==value` (GE keeps the suite's dict or turns it into a Condition object)."""
    if cond is None:
        return None
    data = cond.to_json_dict() if hasattr(cond, "to_json_dict") else cond
    if isinstance(data, dict) and isinstance(data.get("column"), dict):
        return f"{data['column'].get('name')}{data.get('operator')}{data.get('parameter')}"
    return str(cond)


def _plain(value: object) -> object:
    """JSON-ready scalar: numpy scalars to Python, NaN/NaT to None, everything else odd to str."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return _plain(item())
        except (ValueError, TypeError):
            pass
    text = str(value)
    return None if text in {"NaT", "nan", "None"} else text


def _index_columns(name: str, frame: pl.DataFrame) -> list[str]:
    """Columns shown with each offending row: the key, the span text and what the offsets point at."""
    table = PUBLISHED_TABLES.get(name)
    cols = list(table.key) if table else []
    if name == CONTRACT_SUITE:
        cols = ["table", "column", "contract", "found", "previous"]
    text = SPAN_TEXT.get(name)
    if BODY_SLICE in frame.columns and text:
        cols += [text, BODY_SLICE]
    return [c for c in dict.fromkeys(cols) if c in frame.columns]


def validate_tables(
    tables: Mapping[str, pl.DataFrame],
    *,
    suites_dir: Path = DEFAULT_SUITES,
    params: GateParameters | None = None,
    data_docs: Path | None = None,
    run_name: str = "validation",
    only: Collection[str] | None = None,
    phrases: Mapping[str, Any] | None = None,
) -> ValidationReport:
    """Validate the contract and every table that has a suite (or just the tables in `only`).

    With `data_docs`, Great Expectations Data Docs (HTML) of this validation are built in that folder.
    """
    started = time.perf_counter()
    os.environ.setdefault("TQDM_DISABLE", "1")
    params = params or GateParameters()
    engine = _Engine.create(data_docs, run_name, params.now)
    contract = contract_frame(tables, params)
    outcomes = engine.validate(
        CONTRACT_SUITE, CONTRACT_SPEC, contract, index=_index_columns(CONTRACT_SUITE, contract), parameters={}
    )
    for name, spec in load_suite_specs(suites_dir).items():
        if name not in tables or (only is not None and name not in only):
            continue
        frame = with_checks(name, tables[name], tables, phrases=phrases)
        index = _index_columns(name, frame)
        wanted = set(index).union(*(referenced_columns(e) for e in spec["expectations"]))
        # Only what the suite reads goes to pandas: bodies stay in polars, which keeps 100k articles fast.
        kept = frame.select(c for c in frame.columns if c in wanted or c.startswith(DERIVED_PREFIX))
        selected = kept.with_columns(
            pl.when(pl.col(c).is_null()).then(None).otherwise(pl.lit(1, pl.Int8)).alias(c)
            for c in presence_only_columns(spec, kept, index)
        )
        outcomes += engine.validate(name, spec, selected, index=index, parameters=params.for_table(name))
    docs = engine.build_docs()
    return ValidationReport(
        outcomes, data_docs=docs, parameters=params.describe(), seconds=round(time.perf_counter() - started, 3)
    )
