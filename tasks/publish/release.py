"""Publishing a quarantined candidate after a fix: re-validate it against today's `current`, then switch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.config import Settings
from tasks.publish.store import SnapshotStore

if TYPE_CHECKING:
    from tasks.publish.remote import RemoteSnapshots


class StaleCandidateError(RuntimeError):
    """The candidate was assembled on a snapshot that is no longer current; publishing it would lose changes."""


@dataclass(frozen=True, slots=True)
class Republished:
    """Outcome of `newsgraph publish`: the new report, and where the snapshot now lives (None when still failing)."""

    run_id: str
    report: dict[str, Any]
    folder: Path
    published: bool
    pruned: list[str]


def republish(
    store: SnapshotStore,
    run_id: str,
    settings: Settings,
    *,
    force: bool = False,
    allow_row_count_change: bool = False,
    allow_contract_change: bool = False,
    remote: RemoteSnapshots | None = None,
) -> Republished:
    """Re-validate a quarantined (or abandoned) candidate and publish it when no critical expectation fails.

    With `remote` (an object-storage output, `store` its work directory) the candidate is checked against the remote
    current snapshot and, once published locally, uploaded and named by `current.json`.
    """
    from tasks.steps import VALIDATION_RESULT, stage_validate, utc_now, validation_summary, write_json

    if remote is not None:
        remote.sync_down(store)
    folder = next((f for f in (store.quarantined(run_id), store.candidate(run_id)) if f.exists()), None)
    if folder is None:
        raise FileNotFoundError(f"no quarantined or candidate snapshot {run_id} under {store.root}")
    manifest = store.manifest(folder)
    current = store.current()
    base = manifest.get("previous_run_id")
    if current is not None and base != current.name and not force:
        raise StaleCandidateError(
            f"{run_id} was assembled on snapshot {base} but current is now {current.name}; publishing it would "
            f"drop what {current.name} added. Run the pipeline again (newsgraph run --reprocess rebuilds from the "
            "raw layer without fetching) or pass --force."
        )
    report = stage_validate(
        folder,
        settings=settings,
        previous=current,
        run_id=run_id,
        allow_row_count_change=allow_row_count_change,
        allow_contract_change=allow_contract_change,
    )
    manifest["validation"] = validation_summary(report)
    manifest["data_docs"] = report.get("data_docs")
    manifest.setdefault("republished", []).append(
        {
            "at": utc_now().isoformat(),
            "success": report["success"],
            "current_before": current.name if current else None,
            "force": force,
            "allow_row_count_change": allow_row_count_change,
            "allow_contract_change": allow_contract_change,
            "result": VALIDATION_RESULT,
        }
    )
    write_json(folder / "manifest.json", manifest)
    if not report["success"]:
        return Republished(run_id, report, folder, published=False, pruned=[])
    from tasks.publish.remote import publish_and_prune

    target, pruned = publish_and_prune(store, remote, run_id, settings.keep_snapshots)
    return Republished(run_id, report, target, published=True, pruned=pruned)
