"""Prefect task wrappers: retries, names and logging around the step functions in `tasks.steps`."""

from __future__ import annotations

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
) -> steps.FetchOutcome:
    """Fetch new and changed documents into staged batches."""
    outcome = steps.stage_fetch(
        sources_file=sources_file,
        settings=settings,
        staging=staging,
        previous=previous,
        run_id=run_id,
        full_refresh=full_refresh,
        reprocess=reprocess,
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
def validate(candidate: Path) -> dict[str, Any]:
    """Run the expectation suites on the candidate."""
    report = steps.stage_validate(candidate)
    get_run_logger().info(
        "validation: success=%s, %d critical failures, %d warnings",
        report["success"],
        report["critical_failures"],
        report["warnings"],
    )
    return report
