"""Step functions over a run's staging folder: read the batch's input parts, call the pure transform, write parts.

They hold the I/O so the transforms stay DataFrame in, DataFrame out; Prefect wraps them in `tasks.prefect_tasks`.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import polars as pl

from tasks.config import Settings
from tasks.schemas import ARTICLES, FETCH_STATE, PUBLISHED_TABLES, RAW_DOCUMENTS, REJECTS, SOURCE_FILES
from tasks.validate.params import GateParameters

RAW = RAW_DOCUMENTS.name
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch of a run: parts named part-<number> in the staging folder's table folders."""

    staging: str
    number: int
    size: int

    @property
    def part(self) -> str:
        """File stem of this batch's parts; the run id keeps them apart from parts carried forward from earlier runs."""
        return f"part-{Path(self.staging).name}-{self.number:05d}"

    def path(self, table: str) -> Path:
        """This batch's part of `table`."""
        return Path(self.staging) / table / f"{self.part}.parquet"

    def read(self, table: str) -> pl.DataFrame:
        """This batch's part of `table`."""
        return pl.read_parquet(self.path(table))

    def write(self, table: str, frame: pl.DataFrame, *, suffix: str = "") -> None:
        """Write this batch's part of `table` (suffix distinguishes parts of the same table from several steps)."""
        from tasks.publish import write_part

        write_part(frame, Path(self.staging) / table, self.part + suffix)


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """What fetch handed over: the batches to process, how many documents and rejects, and how long it took."""

    batches: list[Batch]
    documents: int
    rejects: int
    seconds: float


FAULT_ENV = "NEWSGRAPH_TEST_FAULT"


def fault_point(name: str) -> None:
    """Test harness only: crash (SIGKILL) or fill the disk here when NEWSGRAPH_TEST_FAULT names this point.

    The value is `<point>:kill` or `<point>:fill=<file>`; unset (always, outside tests/test_reliability_faults.py)
    this is one dictionary lookup. See docs/reliability.md.
    """
    import os

    point, _, action = os.environ.get(FAULT_ENV, "").partition(":")
    if point != name:
        return
    if action.startswith("fill="):
        # Disk full for real: write zeros until the filesystem refuses, then carry on as if nothing happened.
        with Path(action.removeprefix("fill=")).open("ab") as fh:
            try:
                while True:
                    fh.write(bytes(1 << 20))
                    fh.flush()
            except OSError:
                pass
        return
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


TIMINGS_ENV = "NEWSGRAPH_STEP_TIMINGS"


def timed(step: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Record each call's start, end and CPU time as a JSON line in the file NEWSGRAPH_STEP_TIMINGS names.

    Unset (the default), a call costs one environment look-up. Set, every process appends to the same file: batch
    steps that run in process-pool workers are timed too (bench/pipeline_benchmark.py reads it).
    """

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            import os

            path = os.environ.get(TIMINGS_ENV)
            if not path:
                return fn(*args, **kwargs)
            t0, c0 = time.time(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                record = {"step": step, "start": t0, "end": time.time(), "cpu": time.thread_time() - c0}
                line = json.dumps({**record, "pid": os.getpid()}) + "\n"
                with Path(path).open("a", encoding="utf-8") as fh:
                    fh.write(line)  # one short O_APPEND write: lines from several processes never interleave

        return inner

    return wrap


@timed("fetch")
def stage_fetch(
    *,
    sources_file: str,
    settings: Settings,
    staging: Path,
    previous: Path | None,
    run_id: str,
    full_refresh: bool,
    reprocess: bool,
    on_batch: Callable[[int], None] | None = None,
) -> FetchOutcome:
    """Fetch new and changed documents (or reload all from the raw layer) and split them into staged batches.

    `on_batch` is told the size of each batch as soon as it is staged (the flow starts workers on it).
    """
    from tasks.fetch import documents_from_raw, fetch_sources, load_sources
    from tasks.publish.assemble import STATE_DIR, STATE_FILE, read_table
    from tasks.rawstore import open_raw_store

    started = time.perf_counter()
    raw_store = open_raw_store(settings)
    known = read_table(previous / STATE_DIR, FETCH_STATE) if previous else None
    known_files = read_table(previous / STATE_DIR / SOURCE_FILES.name, SOURCE_FILES) if previous else None
    batches: list[Batch] = []

    def stage(docs: pl.DataFrame) -> None:
        # Batches are staged as documents are read, in read order, so no more than one batch of bodies is held.
        batch = Batch(str(staging), len(batches), docs.height)
        batch.write(RAW, docs)
        batches.append(batch)
        if on_batch is not None:
            on_batch(docs.height)

    if reprocess:
        if known is None:
            raise ValueError("reprocess needs a published snapshot to take the document list from")
        result = documents_from_raw(
            known, raw_store=raw_store, run_id=run_id, spill=stage, spill_rows=settings.batch_size
        )
    else:
        result = fetch_sources(
            load_sources(sources_file),
            raw_store=raw_store,
            known=None if full_refresh else known,
            run_id=run_id,
            refetch=full_refresh,
            spill=stage,
            spill_rows=settings.batch_size,
            known_files=None if full_refresh else known_files,
        )
    if result.documents.height:
        stage(result.documents)
    from tasks.publish import write_part

    write_part(result.state, staging / STATE_DIR, STATE_FILE.removesuffix(".parquet"))
    # Reprocessing reads no file: the files stay as the previous run read them.
    files = known_files if reprocess and known_files is not None else result.files
    write_part(files, staging / STATE_DIR / SOURCE_FILES.name, SOURCE_FILES.name)
    write_part(REJECTS.conform(result.rejects), staging / REJECTS.name, "part-fetch")
    fault_point("fetch")
    return FetchOutcome(
        batches,
        sum(b.size for b in batches),
        result.rejects.height,
        time.perf_counter() - started,
    )


def rejects_already_published(staging: Path, previous: Path) -> bool:
    """Whether every reject this run's fetch staged is already in the previous snapshot (same source and reason)."""
    from tasks.publish.assemble import read_table

    staged = read_table(staging / REJECTS.name, REJECTS)["reject_id"]
    published = read_table(previous / REJECTS.name, REJECTS)["reject_id"]
    return bool(staged.is_in(published.implode()).all())


@timed("clean")
def stage_clean(batch: Batch, run_id: str) -> Batch:
    """Clean one batch: articles, captions and paragraphs parts, plus clean rejects."""
    from tasks.clean import clean_documents

    result = clean_documents(batch.read(RAW), run_id=run_id)
    batch.write(ARTICLES.name, result.articles)
    fault_point("clean")
    batch.write("captions", result.captions)
    batch.write("paragraphs", result.paragraphs)
    batch.write(REJECTS.name, result.rejects, suffix="-clean")
    return batch


@timed("translate")
def stage_translate(batch: Batch, settings: Settings) -> Batch:
    """Translate one batch of articles with the configured translator; all batches of a run share one budget."""
    from tasks.translate import budget_for, split_options, translate_articles

    limits, _ = split_options(settings.translator, settings.translator_options)
    translations = translate_articles(
        batch.read(ARTICLES.name),
        engine=settings.translator,
        options=settings.translator_options,
        budget=budget_for(limits, Path(batch.staging) / "_translate" / "budget.json"),
    )
    fault_point("translate")
    batch.write("translations", translations)
    return batch


@timed("extract")
def stage_extract(batch: Batch) -> Batch:
    """Extract facts from one batch of articles."""
    from tasks.extract import extract_facts

    facts = extract_facts(batch.read(ARTICLES.name))
    for name in ("mentions", "figures", "dates", "agreements", "quotes"):
        batch.write(name, getattr(facts, name))
        fault_point("extract")
    return batch


_WARM_UP_TEXTS = {
    "en": "Gwangju signed an agreement with KAIST on 3 March 2025 to invest 5 billion won, the mayor said.",
    "ko": "광주시는 2025년 3월 3일 카이스트와 50억 원 규모의 업무협약을 체결했다고 밝혔다.",
    "ja": "光州市は2025年3月3日、KAIST と50億ウォン規模の協定を結んだと発表した。",
}


@timed("warm_up")
def warm_up() -> None:
    """Load what clean and extract load on first use (language models, entity registry, patterns).

    A worker process calls this when it starts, so the first batch it gets does not pay for it, and its loading
    overlaps with the fetch step in the flow's own process.
    """
    from tasks.clean import clean_documents
    from tasks.clean.language import warm_up as load_language_models
    from tasks.extract import extract_facts

    load_language_models()  # the sample texts below are settled by rules and would not load them

    n = len(_WARM_UP_TEXTS)
    docs = pl.DataFrame(
        {
            "article_id": list(_WARM_UP_TEXTS),
            "text": list(_WARM_UP_TEXTS.values()),
            "source_name": ["warm-up"] * n,
            "source_uri": [f"warm-up:{lang}" for lang in _WARM_UP_TEXTS],
            "raw_sha256": ["0" * 64] * n,
            "media_type": ["text/plain"] * n,
            "fetched_at": [utc_now()] * n,
        }
    )
    extract_facts(clean_documents(RAW_DOCUMENTS.conform(docs), run_id="warm-up").articles)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def utc_now() -> datetime:
    """Current time in UTC (one place, so tests and manifests agree on the clock)."""
    return datetime.now(UTC)


@timed("assemble")
def stage_assemble(*, output_dir: str, run_id: str, previous: Path | None, carry_forward: bool) -> dict[str, int]:
    """Assemble the run's candidate snapshot from staged parts (and the previous snapshot when carrying forward)."""
    from tasks.clean import assign_duplicates
    from tasks.extract import entity_table
    from tasks.publish import SnapshotStore, assemble_candidate, read_table, scan_table
    from tasks.publish.assemble import STATE_DIR, STATE_FILE, move_parts

    store = SnapshotStore(output_dir)
    staged = store.staging(run_id)
    # Only the URIs: reading the staged articles whole would load every body of the run.
    processed = scan_table(staged / ARTICLES.name, ARTICLES).select("source_uri").collect()["source_uri"]

    def entities(mentions: pl.LazyFrame) -> pl.DataFrame:
        fault_point("assemble")  # halfway: parts moved into the candidate, articles written, entities not yet
        return entity_table(mentions)

    counts = assemble_candidate(
        previous=previous if carry_forward else None,
        staged=staged,
        candidate=store.candidate(run_id),
        state=pl.read_parquet(staged / STATE_DIR / STATE_FILE),
        run_rejects=read_table(staged / REJECTS.name, REJECTS),
        processed_uris=processed,
        build_entities=entities,
        assign_duplicates=assign_duplicates,
        run_id=run_id,
    )
    # The files as this run read them go with the snapshot's fetch state (their own folder under _state/).
    move_parts(staged / STATE_DIR, store.candidate(run_id) / STATE_DIR, [SOURCE_FILES])
    return counts


class SnapshotTables(Mapping[str, pl.DataFrame]):
    """A snapshot's tables, each read when asked for; only those every table's checks use stay in memory.

    Validation goes table by table, so at 100k articles it holds the bodies and one table at a time instead of
    the whole snapshot.
    """

    KEPT = ("articles", "entities")

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._kept: dict[str, pl.DataFrame] = {}

    def __getitem__(self, name: str) -> pl.DataFrame:
        from tasks.publish import read_table

        if name in self._kept:
            return self._kept[name]
        frame = read_table(self.folder / name, PUBLISHED_TABLES[name])
        if name in self.KEPT:
            self._kept[name] = frame
        return frame

    def __iter__(self) -> Iterator[str]:
        return iter(PUBLISHED_TABLES)

    def __len__(self) -> int:
        return len(PUBLISHED_TABLES)

    def schema_of(self, name: str) -> pl.Schema:
        """The table's schema without reading its rows."""
        from tasks.publish.assemble import table_schema

        return table_schema(self.folder / name, PUBLISHED_TABLES[name])


DATA_DOCS = "validation/data_docs/index.html"
VALIDATION_RESULT = "validation/result.json"


def snapshot_row_counts(folder: Path) -> dict[str, int]:
    """Row counts per table of a snapshot: from its manifest, else counted from its parts."""
    manifest = folder / "manifest.json"
    if manifest.exists():
        counts = json.loads(manifest.read_text(encoding="utf-8")).get("row_counts")
        if isinstance(counts, dict):
            return {str(k): int(v) for k, v in counts.items()}
    from tasks.publish.assemble import part_files

    return {
        table.name: sum(pl.scan_parquet(p).select(pl.len()).collect().item() for p in part_files(folder / table.name))
        for table in PUBLISHED_TABLES.values()
    }


def snapshot_schemas(folder: Path) -> dict[str, pl.Schema]:
    """The Parquet schema of each table of a snapshot, as written (read from the first part's footer)."""
    from tasks.publish.assemble import part_files

    out = {}
    for table in PUBLISHED_TABLES.values():
        parts = part_files(folder / table.name)
        if parts:
            out[table.name] = pl.Schema(pl.read_parquet_schema(parts[0]))
    return out


def gate_parameters(
    settings: Settings | None,
    previous: Path | None,
    *,
    allow_row_count_change: bool = False,
    allow_contract_change: bool = False,
) -> GateParameters:
    """GateParameters from the settings and the previous snapshot (row-count band, schema it published)."""
    settings = settings or Settings()
    return GateParameters(
        expected_languages=settings.expected_languages,
        now=utc_now(),
        previous_run_id=previous.name if previous else None,
        previous_counts=snapshot_row_counts(previous) if previous else {},
        previous_schemas=snapshot_schemas(previous) if previous else {},
        max_row_drop=settings.max_row_drop,
        max_row_growth=settings.max_row_growth,
        allow_row_count_change=allow_row_count_change,
        allow_contract_change=allow_contract_change,
    )


@timed("validate")
def stage_validate(
    folder: Path,
    *,
    settings: Settings | None = None,
    previous: Path | None = None,
    run_id: str | None = None,
    allow_row_count_change: bool = False,
    allow_contract_change: bool = False,
) -> dict[str, Any]:
    """Validate a candidate (or quarantined) folder against the previous snapshot.

    Writes validation/result.json and Great Expectations Data Docs under validation/data_docs/, and returns the
    report (data_docs is relative to the folder, so it stays right when the folder is quarantined or published).
    """
    import shutil

    from tasks.validate import validate_tables

    docs = folder / DATA_DOCS
    # A re-validation (newsgraph publish) replaces the docs of the earlier attempt rather than adding to them.
    shutil.rmtree(docs.parent, ignore_errors=True)
    params = gate_parameters(
        settings,
        previous,
        allow_row_count_change=allow_row_count_change,
        allow_contract_change=allow_contract_change,
    )
    result = validate_tables(
        SnapshotTables(folder), params=params, data_docs=docs.parent, run_name=run_id or folder.name
    )
    fault_point("validate")
    report = result.to_dict()
    report["data_docs"] = DATA_DOCS if result.data_docs else None
    write_json(folder / VALIDATION_RESULT, report)
    return report


def code_version() -> str:
    """Git commit of the code when run from a checkout ('-dirty' with uncommitted changes), else the package version."""
    import subprocess
    from importlib.metadata import version

    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12", "--exclude=*"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
            timeout=5,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version("newsgraph")


@timed("publish")
def write_manifest(
    folder: Path, *, run_id: str, counts: dict[str, int], report: dict[str, Any], extra: dict[str, Any]
) -> dict[str, Any]:
    """The snapshot's manifest.json: run, code version, row counts, verdict and a digest of the inputs."""
    from tasks.ids import sha256_hex
    from tasks.publish.assemble import STATE_DIR, STATE_FILE

    state = pl.read_parquet(folder / STATE_DIR / STATE_FILE, columns=["source_uri", "raw_sha256"])

    lines = state.sort("source_uri").select(pl.concat_str(["source_uri", "raw_sha256"], separator="\t"))
    inputs_digest = sha256_hex("\n".join(lines.to_series().to_list()))
    manifest = {
        "run_id": run_id,
        "created_at": utc_now().isoformat(),
        "code_version": code_version(),
        "row_counts": counts,
        "validation": validation_summary(report),
        "data_docs": report.get("data_docs"),
        "inputs": {"documents": state.height, "state_file": "_state/fetch_state.parquet", "sha256": inputs_digest},
        **extra,
    }
    write_json(folder / "manifest.json", manifest)
    return manifest


def validation_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The manifest's view of a validation report: verdict, counts, failed expectations, where the details are."""
    return {
        **{k: report[k] for k in ("success", "critical_failures", "warnings", "evaluated")},
        "failed": report.get("failed", []),
        "result": VALIDATION_RESULT,
        "validated_at": utc_now().isoformat(),
    }
