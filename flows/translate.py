"""The translation backlog: fill pending translations of the current snapshot and publish the result as a new one.

Nothing is fetched, cleaned or extracted again: every table but `translations` is hard-linked from the current
snapshot, the candidate goes through the same validation gate as the nightly run, then `current` moves.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Annotated, Any

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from pydantic import AfterValidator, Field

from tasks.config import Settings, load_settings
from tasks.ids import new_run_id
from tasks.publish import open_stores, output_lock, publish_and_prune, read_table, scan_table, write_part
from tasks.publish.assemble import carry_forward
from tasks.schemas import ARTICLES, PUBLISHED_TABLES, TRANSLATIONS
from tasks.steps import stage_validate, write_manifest
from tasks.translate import check_translator, fill_backlog

# Rewritten for the candidate rather than linked from the previous snapshot.
_NOT_LINKED = {TRANSLATIONS.name, "validation", "manifest.json"}


def _known_translator(name: str | None) -> str | None:
    if name is not None:
        check_translator(name)
    return name


@task(name="translate-backlog", cache_policy=NO_CACHE)
def translate_backlog_rows(
    previous: Path, settings: Settings, *, include_failed: bool, char_budget: int | None
) -> pl.DataFrame:
    """Translations replacing backlog rows of the snapshot `previous` (empty when the engine filled nothing)."""
    articles = read_table(previous / ARTICLES.name, ARTICLES)
    translations = read_table(previous / TRANSLATIONS.name, TRANSLATIONS)
    filled = fill_backlog(
        translations,
        articles,
        engine=settings.translator,
        options=settings.translator_options | ({} if char_budget is None else {"char_budget": char_budget}),
        include_failed=include_failed,
    )
    counts = dict(filled["status"].value_counts().iter_rows()) if filled.height else {}
    get_run_logger().info("backlog with %s: %s", settings.translator, counts or "nothing translated")
    return filled


@task(name="assemble-translations", cache_policy=NO_CACHE)
def assemble_translations(previous: Path, candidate: Path, filled: pl.DataFrame, run_id: str) -> dict[str, int]:
    """A candidate that is `previous` with `filled` rows swapped into translations; row counts per table."""
    for source in previous.rglob("*"):
        relative = source.relative_to(previous)
        if relative.parts[0] in _NOT_LINKED or source.is_dir():
            continue
        target = candidate / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)  # snapshots are immutable, so sharing the files is safe
        except OSError:
            shutil.copy2(source, target)
    carry_forward(previous, candidate, TRANSLATIONS, filled["article_id"])
    write_part(TRANSLATIONS.conform(filled), candidate / TRANSLATIONS.name, f"part-{run_id}")
    return {
        name: scan_table(candidate / name, table).select(pl.len()).collect().item()
        for name, table in PUBLISHED_TABLES.items()
    }


@flow(name="newsgraph-translate", log_prints=True, validate_parameters=True)
def translate_backlog(  # keyword-only: runs are started with named parameters
    *,
    settings_file: Annotated[
        str | None, Field(description="Optional pipeline settings TOML ([pipeline] table).")
    ] = None,
    output_dir: Annotated[str | None, Field(description="Output root; overrides the settings.")] = None,
    translator: Annotated[
        str | None,
        Field(description="Translator name (e.g. libretranslate); overrides the settings."),
        AfterValidator(_known_translator),
    ] = None,
    include_failed: Annotated[bool, Field(description="Also retry rows whose translation failed before.")] = False,
    char_budget: Annotated[
        int | None, Field(description="Characters this run may send; overrides translator_options.char_budget.", ge=0)
    ] = None,
) -> dict[str, Any]:
    """Translate the current snapshot's pending rows and publish a validated snapshot when any row changed."""
    started = time.perf_counter()
    settings = load_settings(
        settings_file, overrides={"output_dir": output_dir, "translator": translator}
    ).with_absolute_locations()
    check_translator(settings.translator)
    log = get_run_logger()
    store, remote = open_stores(settings)  # remote: the object-storage side of a URL output, as in the nightly flow
    with output_lock(store, remote, timeout=settings.lock_timeout):
        if remote is not None:
            remote.sync_down(store)
        previous = store.current()
        if previous is None:
            raise FileNotFoundError(f"no published snapshot under {store.root}; run `newsgraph run` first")
        run_id = new_run_id()
        filled = translate_backlog_rows(previous, settings, include_failed=include_failed, char_budget=char_budget)
        statuses = dict(filled["status"].value_counts().iter_rows()) if filled.height else {}
        if filled.height == 0:
            log.info("no backlog row changed with %s; current stays %s", settings.translator, previous.name)
            return {"run_id": run_id, "published": False, "current": previous.name, "translations": statuses}
        candidate = store.candidate(run_id)
        counts = assemble_translations(previous, candidate, filled, run_id)
        report = stage_validate(candidate, settings=settings, previous=previous, run_id=run_id)
        manifest = write_manifest(
            candidate,
            run_id=run_id,
            counts=counts,
            report=report,
            extra={
                "kind": "translate-backlog",
                "previous_run_id": previous.name,
                "flow_run_id": str(flow_run.get_id() or ""),
                "parameters": {
                    "translator": settings.translator,
                    "include_failed": include_failed,
                    "char_budget": char_budget,
                },
                "translations": statuses,
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
        if not report["success"]:
            from flows.nightly import SnapshotRejectedError

            where = store.quarantine(run_id)
            raise SnapshotRejectedError(f"snapshot {run_id} failed validation (quarantined at {where})")
        published, _ = publish_and_prune(store, remote, run_id, settings.keep_snapshots)
        log.info("published %s with %s", run_id, statuses)
        return {
            "run_id": run_id,
            "published": True,
            "current": run_id,
            "path": str(published),
            "row_counts": manifest["row_counts"],
            "validation": manifest["validation"],
            "translations": statuses,
        }
