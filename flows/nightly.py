"""The nightly pipeline: fetch -> clean -> translate -> extract per batch, then assemble, validate, publish."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner
from pydantic import AfterValidator, Field

from flows.progress import reporter
from flows.runners import BatchRunner
from tasks import prefect_tasks as t
from tasks.config import Settings, known_translators, load_settings
from tasks.ids import new_run_id
from tasks.publish import open_stores, output_lock
from tasks.steps import Batch, rejects_already_published, write_manifest
from tasks.validate import preload_in_background
from tasks.validate.report import rejection_message

PRELOAD_VALIDATION_UP_TO = 20_000  # documents


class SnapshotRejectedError(RuntimeError):
    """A critical expectation failed; the candidate is quarantined and `current` is unchanged."""


def _known_translator(name: str | None) -> str | None:
    if name is not None and name not in (names := known_translators()):
        raise ValueError(f"unknown translator {name!r}; available: {', '.join(names)}")
    return name


def _runner_spec(spec: str | None) -> str | None:
    # Reuse the settings' check so the flow parameter and NEWSGRAPH_TASK_RUNNER accept the same values.
    return spec if spec is None else Settings.model_validate({"task_runner": spec}).task_runner


def _check_inputs(sources_file: str, settings_file: str | None, *, reprocess: bool) -> None:
    """Fail before any work when a file the run needs is missing."""
    if settings_file is not None and not Path(settings_file).is_file():
        raise FileNotFoundError(f"settings file not found: {settings_file} (working directory {Path.cwd()})")
    if not reprocess and not Path(sources_file).is_file():
        raise FileNotFoundError(f"sources file not found: {sources_file} (working directory {Path.cwd()})")


@flow(name="newsgraph-nightly", log_prints=True, validate_parameters=True)
def nightly(  # keyword-only: runs are started with named parameters
    *,
    sources_file: str = "sources.toml",
    settings_file: str | None = None,
    output_dir: str | None = None,
    full_refresh: bool = False,
    reprocess: bool = False,
    translator: Annotated[str | None, AfterValidator(_known_translator)] = None,
    batch_size: Annotated[int | None, Field(ge=1)] = None,
    task_runner: Annotated[str | None, AfterValidator(_runner_spec)] = None,
) -> dict[str, Any]:
    """Run the pipeline once and publish a validated snapshot when anything changed.

    Prefect builds the deployment's parameter form (UI "Custom run") from this signature and these descriptions.

    Args:
        sources_file: Sources file (TOML or YAML) listing what to fetch, relative to the working directory.
        settings_file: Optional pipeline settings TOML ([pipeline] table); NEWSGRAPH_* environment variables and the
            parameters below override it.
        output_dir: Output root (snapshots, raw layer, quarantine); empty means the settings' output_dir (output/).
        full_refresh: Refetch everything and rebuild all tables instead of processing only new and changed articles.
        reprocess: Rebuild all tables from the raw layer without fetching (after a code or settings change).
        translator: Translator name (placeholder, or one of the installed engines); empty means the settings'.
        batch_size: Articles per batch task run (at least 1); empty means the settings' (500).
        task_runner: Where batch tasks run: auto (threads for small runs, a process pool for large ones), threads,
            processes, dask (a local cluster) or dask://host:port (an existing dask.distributed scheduler); empty
            means the settings' (auto).
    """
    started = time.perf_counter()
    _check_inputs(sources_file, settings_file, reprocess=reprocess)
    settings = load_settings(
        settings_file,
        overrides={
            "output_dir": output_dir,
            "translator": translator,
            "batch_size": batch_size,
            "task_runner": task_runner,
        },
    )
    _known_translator(settings.translator)
    # Task runs in other processes or on Dask workers see the same locations; a URL output keeps its URL.
    settings = settings.with_absolute_locations()
    log = get_run_logger()
    progress = reporter()
    store, remote = open_stores(settings)  # remote: the object-storage side of a URL output; store: local files
    run_id = new_run_id()
    with output_lock(store, remote, timeout=settings.lock_timeout):
        if remote is not None and (synced := remote.sync_down(store)):
            log.info("current snapshot %s of %s is in the work directory %s", synced, remote.url, store.root)
        previous = store.current()
        # Holding the lock, no other run is alive: scratch folders here are from runs that crashed (rebuilt below).
        if abandoned := store.clear_abandoned():
            log.warning("removed what crashed runs left behind: %s", ", ".join(abandoned))
        staging = store.staging(run_id)
        # Entered before fetch, so process-pool workers start and load their models while fetch runs.
        with BatchRunner(settings) as runners:
            fetched = t.fetch(
                sources_file,
                settings,
                staging,
                previous,
                run_id,
                full_refresh=full_refresh,
                reprocess=reprocess,
                on_batch=runners.batch_staged,
            )
            progress.total("fetched", fetched.documents)
            progress.advance("fetched", fetched.documents)
            if (
                not fetched.batches
                and previous is not None
                and not (full_refresh or reprocess)
                # A file that is still too large or a URL that still 404s is not news: no new snapshot every night.
                and (fetched.rejects == 0 or rejects_already_published(staging, previous))
            ):
                store.clear_staging(run_id)
                log.info("nothing new since snapshot %s; nothing published", previous.name)
                return {
                    "run_id": run_id,
                    "published": False,
                    "current": previous.name,
                    "reason": "nothing new",
                    "ui_url": flow_run.ui_url,
                }
            if fetched.documents <= PRELOAD_VALIDATION_UP_TO:
                # Validation comes last; its import (seconds) runs while this process waits for the batches. A large
                # run skips this: the import is then a small share of its time, and its memory would add to the
                # peak of assemble, which re-derives the whole articles table.
                preload_in_background()
            log.info("%d batches on %s", len(fetched.batches), runners.kind)
            _process_batches(runners.runner(), runners.io_runner(), fetched.batches, settings, run_id)
        counts = t.assemble(str(store.root), run_id, previous, carry_forward=not (full_refresh or reprocess))
        candidate = store.candidate(run_id)
        report = t.validate(candidate, settings, previous, run_id)
        manifest = write_manifest(
            candidate,
            run_id=run_id,
            counts=counts,
            report=report,
            extra={
                "previous_run_id": previous.name if previous else None,
                "flow_run_id": str(flow_run.get_id() or ""),
                "parameters": {
                    "sources_file": sources_file,
                    "full_refresh": full_refresh,
                    "reprocess": reprocess,
                    "translator": settings.translator,
                    "batch_size": settings.batch_size,
                    "task_runner": settings.task_runner,
                    "batches_ran_on": runners.kind,
                },
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
        store.clear_staging(run_id)
        where = t.publish(str(store.root), run_id, passed=report["success"])
        if remote is not None and report["success"]:
            remote.publish(store, run_id)
            log.info("uploaded %s to %s; %s names it", run_id, remote.url, remote.pointer_url)
        t.run_report(where, previous, report, published=report["success"], output_dir=settings.output_dir)
        t.prune(str(store.root), settings.keep_snapshots)
        if remote is not None and (pruned := remote.prune(settings.keep_snapshots)):
            log.info("pruned from %s: %s", remote.url, ", ".join(pruned))
        if not report["success"]:
            raise SnapshotRejectedError(rejection_message(run_id, where, report))
        return {
            "run_id": run_id,
            "published": True,
            "current": run_id,
            "path": str(where),
            "row_counts": manifest["row_counts"],
            "validation": manifest["validation"],
            "data_docs": str(where / report["data_docs"]) if report.get("data_docs") else None,
            "pointer": remote.pointer_url if remote is not None else None,
            "ui_url": flow_run.ui_url,
        }


def _process_batches(
    runner: TaskRunner[Any], io_runner: TaskRunner[Any], batches: list[Batch], settings: Settings, run_id: str
) -> None:
    """Clean, then translate and extract, every batch; re-raise the first failure.

    Clean and extract run on the configured task runner, translate (waiting on a service) in `io_runner`.
    """
    progress = reporter()
    for step in ("cleaned", "translated", "extracted"):
        progress.total(step, len(batches))
    step_of: dict[str, str] = {}
    futures: list[PrefectFuture[Batch]] = []
    # Every clean first: a task that waits for another holds one of the runner's few submission threads until it
    # can start (Prefect's process pool resolves dependencies that way), so clean, translate, extract per batch in
    # turn would leave the second worker waiting behind the first batch.
    cleaned = [runner.submit(t.clean, {"batch": batch, "run_id": run_id}) for batch in batches]
    for future in cleaned:
        step_of[str(future.task_run_id)] = "cleaned"
        futures.append(future)
    for clean_done in cleaned:
        translated = io_runner.submit(t.translate, {"batch": clean_done, "settings": settings})
        extracted = runner.submit(t.extract, {"batch": clean_done})
        for future, step in ((translated, "translated"), (extracted, "extracted")):
            step_of[str(future.task_run_id)] = step
            futures.append(future)
    for future in as_completed(futures):
        progress.advance(step_of[str(future.task_run_id)])
    for future in futures:
        future.result()  # raises the task's exception; Prefect has already retried it
