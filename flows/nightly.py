"""The nightly pipeline: fetch -> clean -> translate -> extract per batch, then assemble, validate, publish."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from pydantic import Field

from tasks import prefect_tasks as t
from tasks.config import load_settings
from tasks.ids import new_run_id
from tasks.publish import SnapshotStore, run_lock
from tasks.steps import write_manifest


class SnapshotRejectedError(RuntimeError):
    """A critical expectation failed; the candidate is quarantined and `current` is unchanged."""


@flow(name="newsgraph-nightly", log_prints=True, validate_parameters=True)
def nightly(
    sources_file: Annotated[
        str, Field(description="Sources file (TOML or YAML) listing what to fetch.")
    ] = "sources.toml",
    settings_file: Annotated[
        str | None, Field(description="Optional pipeline settings TOML ([pipeline] table).")
    ] = None,
    output_dir: Annotated[str | None, Field(description="Output root; overrides the settings.")] = None,
    full_refresh: Annotated[bool, Field(description="Refetch everything and rebuild all tables.")] = False,
    reprocess: Annotated[bool, Field(description="Rebuild all tables from the raw layer without fetching.")] = False,
    translator: Annotated[str | None, Field(description="Translator name; overrides the settings.")] = None,
    batch_size: Annotated[int | None, Field(description="Articles per batch task run.", ge=1)] = None,
) -> dict[str, Any]:
    """Run the pipeline once and publish a validated snapshot when anything changed."""
    started = time.perf_counter()
    settings = load_settings(
        settings_file, overrides={"output_dir": output_dir, "translator": translator, "batch_size": batch_size}
    )
    if not reprocess and not Path(sources_file).is_file():
        raise FileNotFoundError(f"sources file not found: {sources_file}")
    log = get_run_logger()
    store = SnapshotStore(settings.output_dir)
    run_id = new_run_id()
    with run_lock(store.root, timeout=settings.lock_timeout):
        previous = store.current()
        staging = store.staging(run_id)
        fetched = t.fetch(
            sources_file, settings, staging, previous, run_id, full_refresh=full_refresh, reprocess=reprocess
        )
        if not fetched.batches and previous is not None and not (full_refresh or reprocess) and fetched.rejects == 0:
            store.clear_staging(run_id)
            log.info("nothing new since snapshot %s; nothing published", previous.name)
            return {"run_id": run_id, "published": False, "current": previous.name, "reason": "nothing new"}
        extracted = []
        for batch in fetched.batches:
            cleaned = t.clean.submit(batch, run_id)
            translated = t.translate.submit(cleaned, settings)
            extracted.append((translated, t.extract.submit(cleaned)))
        for translated, facts in extracted:
            translated.result()
            facts.result()
        counts = t.assemble(settings.output_dir, run_id, previous, carry_forward=not (full_refresh or reprocess))
        candidate = store.candidate(run_id)
        report = t.validate(candidate)
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
                },
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
        store.clear_staging(run_id)
        if not report["success"]:
            where = store.quarantine(run_id)
            failed = [o for o in report["outcomes"] if not o["success"] and o["severity"] == "critical"]
            lines = "; ".join(
                f"{o['table']}.{o['column'] or '*'} {o['expectation']} e.g. {o['sample'][:3]}" for o in failed[:10]
            )
            raise SnapshotRejectedError(
                f"snapshot {run_id} failed {len(failed)} critical expectations (quarantined at {where}): {lines}"
            )
        published = store.publish(run_id)
        removed = store.prune(settings.keep_snapshots)
        log.info("published %s (%s); pruned %d old snapshots", run_id, published, len(removed))
        return {
            "run_id": run_id,
            "published": True,
            "current": run_id,
            "path": str(published),
            "row_counts": manifest["row_counts"],
            "validation": manifest["validation"],
        }
