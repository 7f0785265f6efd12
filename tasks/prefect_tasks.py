"""Prefect task wrappers: retries, names and logging around the step functions in `tasks.steps`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks import steps
from tasks.config import Settings


@task(name="fetch", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def fetch(
    sources_file: str,
    settings: Settings,
    staging: Path,
    previous: Path | None,
    run_id: str,
    *,
    full_refresh: bool,
    reprocess: bool,
    on_batch: Callable[[int], None] | None = None,
) -> steps.FetchOutcome:
    """Fetch new and changed documents into staged batches (`on_batch` hears each batch's size as it is staged)."""
    outcome = steps.stage_fetch(
        sources_file=sources_file,
        settings=settings,
        staging=staging,
        previous=previous,
        run_id=run_id,
        full_refresh=full_refresh,
        reprocess=reprocess,
        on_batch=on_batch,
    )
    get_run_logger().info(
        "fetched %d new or changed documents in %d batches (%d rejects)",
        outcome.documents,
        len(outcome.batches),
        outcome.rejects,
    )
    return outcome


@task(name="clean", retries=1, cache_policy=NO_CACHE, task_run_name="clean-{batch.number}")
def clean(batch: steps.Batch, run_id: str) -> steps.Batch:
    """Clean one batch."""
    return steps.stage_clean(batch, run_id)


@task(name="translate", retries=1, cache_policy=NO_CACHE, task_run_name="translate-{batch.number}")
def translate(batch: steps.Batch, settings: Settings) -> steps.Batch:
    """Translate one batch."""
    return steps.stage_translate(batch, settings)


@task(name="extract", retries=1, cache_policy=NO_CACHE, task_run_name="extract-{batch.number}")
def extract(batch: steps.Batch) -> steps.Batch:
    """Extract facts from one batch."""
    return steps.stage_extract(batch)


@task(name="assemble", cache_policy=NO_CACHE)
def assemble(output_dir: str, run_id: str, previous: Path | None, *, carry_forward: bool) -> dict[str, int]:
    """Assemble the candidate snapshot."""
    counts = steps.stage_assemble(output_dir=output_dir, run_id=run_id, previous=previous, carry_forward=carry_forward)
    get_run_logger().info("candidate row counts: %s", counts)
    return counts


@task(name="validate", cache_policy=NO_CACHE)
def validate(candidate: Path, settings: Settings, previous: Path | None, run_id: str) -> dict[str, Any]:
    """Run the expectation suites on the candidate against the previous snapshot; Data Docs go with it."""
    from tasks.validate import failure_lines

    report = steps.stage_validate(candidate, settings=settings, previous=previous, run_id=run_id)
    log = get_run_logger()
    log.info(
        "validation: success=%s, %d expectations, %d critical failures, %d warnings (%.1f s); data docs: %s",
        report["success"],
        report["evaluated"],
        report["critical_failures"],
        report["warnings"],
        report.get("seconds") or 0.0,
        candidate / report["data_docs"] if report.get("data_docs") else "not built",
    )
    for line in failure_lines(report, severity="warning"):
        log.warning("%s", line)
    for line in failure_lines(report, severity="critical"):
        log.error("%s", line)
    return report


@task(name="publish", cache_policy=NO_CACHE)
def publish(output_dir: str, run_id: str, *, passed: bool) -> Path:
    """Switch `current` to the validated candidate, or move a failed one to quarantine/ (current untouched)."""
    from tasks.publish import SnapshotStore

    store = SnapshotStore(output_dir)
    if not passed:
        where = store.quarantine(run_id)
        get_run_logger().warning("quarantined %s at %s; current stays %s", run_id, where, store.current_run_id())
        return where
    where = store.publish(run_id)
    get_run_logger().info("published %s: current -> %s", run_id, where)
    return where


@task(name="prune", cache_policy=NO_CACHE)
def prune(output_dir: str, keep: int) -> list[str]:
    """Delete published snapshots and quarantined candidates beyond the newest `keep` (never current)."""
    from tasks.publish import SnapshotStore

    store = SnapshotStore(output_dir)
    removed = store.prune(keep) + store.prune_quarantine(keep)
    if removed:
        get_run_logger().info("pruned %s", ", ".join(removed))
    return removed


def step_timings(flow_run_id: str | None) -> list[Any]:
    """Summed run time, wall-clock span and count of this flow run's task runs per task (empty if unavailable)."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    from tasks.publish import StepTiming

    if not flow_run_id:
        return []
    runs: list[Any] = []
    try:
        with get_client(sync_client=True) as client:
            # The API serves at most 200 rows per request; a run of many batches has more task runs.
            while True:
                page = client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)])),
                    sort=TaskRunSort.EXPECTED_START_TIME_ASC,
                    limit=200,
                    offset=len(runs),
                )
                runs += page
                if len(page) < 200:  # noqa: PLR2004 # the API's page size
                    break
    except Exception:  # noqa: BLE001 # timings are a nicety; a report without them beats a failed run
        return []
    groups: dict[str, list[Any]] = {}
    for run in runs:
        groups.setdefault(run.task_key.rsplit("-", 1)[0], []).append(run)
    out = []
    for step, members in groups.items():
        starts = [r.start_time for r in members if r.start_time]
        ends = [r.end_time for r in members if r.end_time]
        wall = (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0
        total = sum(r.total_run_time.total_seconds() for r in members)
        out.append(StepTiming(step, len(members), total, wall))
    return out  # in order of first start: the API sorted the task runs by expected start


@task(name="run-report", cache_policy=NO_CACHE)
def run_report(folder: Path, previous: Path | None, report: dict[str, Any], *, published: bool, output_dir: str) -> str:
    """Publish the run report as a markdown artifact (key newsgraph-run-report) and return its text."""
    from prefect.artifacts import create_markdown_artifact
    from prefect.runtime import flow_run

    from tasks.publish import REPORT_KEY, load_run_report

    try:
        markdown = load_run_report(
            folder,
            previous=previous,
            report=report,
            published=published,
            timings=step_timings(flow_run.get_id()),
            publish_command=None if published else f"newsgraph publish {folder.name} --output {output_dir}",
        )
        create_markdown_artifact(
            key=REPORT_KEY,
            markdown=markdown,
            description=f"newsgraph run {folder.name}: {'published' if published else 'quarantined'}",
        )
    except Exception:  # noqa: BLE001
        # The snapshot is already published or quarantined: a broken report must not turn the run into a failure.
        get_run_logger().exception("could not write the run report")
        return ""
    return markdown
