"""Snapshot store: candidates, published snapshots, quarantine, and the atomically switched `current` pointer.

Layout under the output root:
    candidates/<run_id>/    being assembled; never read by consumers
    snapshots/<run_id>/     published, immutable
    quarantine/<run_id>/    failed a critical expectation; kept for inspection and re-publishing
    current -> snapshots/<run_id>   symlink replaced with os.replace, so readers see old or new, never a mix
    incoming/<run_id>/      a snapshot being downloaded from an object-storage output (tasks.publish.remote)

For an output on object storage (an fsspec URL) this is the run's local work directory, and
`tasks.publish.remote.RemoteSnapshots` mirrors what it publishes.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from tasks.config import is_url

MANIFEST = "manifest.json"


class SnapshotStore:
    """Owns every directory a run writes under the output root."""

    def __init__(self, root: str | Path) -> None:
        if isinstance(root, str) and is_url(root):
            # Path("s3://b/x") would quietly become a local folder "s3:/b/x".
            raise ValueError(
                f"{root} is a URL: open the stores with tasks.publish.open_stores(settings), which works in a local "
                "work directory and publishes to the URL"
            )
        self.root = Path(root)

    @property
    def current_link(self) -> Path:
        """The pointer consumers read."""
        return self.root / "current"

    def candidate(self, run_id: str) -> Path:
        """Folder for the snapshot a run is assembling."""
        return self.root / "candidates" / _safe(run_id)

    def snapshot(self, run_id: str) -> Path:
        """Folder of a published snapshot."""
        return self.root / "snapshots" / _safe(run_id)

    def quarantined(self, run_id: str) -> Path:
        """Folder of a quarantined candidate."""
        return self.root / "quarantine" / _safe(run_id)

    def staging(self, run_id: str) -> Path:
        """Scratch folder for a run's batch hand-overs."""
        return self.root / "staging" / _safe(run_id)

    def incoming(self, run_id: str) -> Path:
        """Folder a snapshot is downloaded into before it takes its place under snapshots/."""
        return self.root / "incoming" / _safe(run_id)

    def current(self) -> Path | None:
        """The published snapshot `current` points to, or None before the first publish."""
        link = self.current_link
        if not link.is_symlink() and not link.exists():
            return None
        return link.resolve()

    def current_run_id(self) -> str | None:
        """Run id of the current snapshot."""
        cur = self.current()
        return cur.name if cur else None

    def published_run_ids(self) -> list[str]:
        """Published snapshots, oldest first."""
        base = self.root / "snapshots"
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.exists() else []

    def quarantined_run_ids(self) -> list[str]:
        """Quarantined candidates, oldest first."""
        base = self.root / "quarantine"
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.exists() else []

    def manifest(self, folder: Path) -> dict[str, Any]:
        """The manifest of a snapshot or candidate folder."""
        data: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return data

    def publish(self, run_id: str) -> Path:
        """Move a candidate (or a quarantined candidate) to snapshots/ and point `current` at it."""
        target = self.snapshot(run_id)
        if not target.exists():
            source = self.candidate(run_id)
            if not source.exists():
                source = self.quarantined(run_id)
            if not source.exists():
                raise FileNotFoundError(f"no candidate or quarantined snapshot for run {run_id}")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
        from tasks.steps import fault_point

        fault_point("publish")  # test harness only: the window between the move and the switch of `current`
        self.point_current(run_id)
        return target

    def point_current(self, run_id: str) -> None:
        """Atomically make `current` name snapshots/<run_id>."""
        target = self.snapshot(run_id)
        if not (target / MANIFEST).exists():
            raise FileNotFoundError(f"snapshot {run_id} is not complete")
        tmp = self.root / f".current-{_safe(run_id)}-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        # Relative link, so the output folder can be moved or mounted elsewhere.
        tmp.symlink_to(Path("snapshots") / target.name)
        os.replace(tmp, self.current_link)
        _fsync_dir(self.root)

    def clear_current(self) -> None:
        """Remove the `current` pointer (the snapshots stay): an object-storage output has published nothing yet."""
        self.current_link.unlink(missing_ok=True)

    def quarantine(self, run_id: str) -> Path:
        """Move a failed candidate aside; `current` is not touched."""
        target = self.quarantined(run_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.candidate(run_id), target)
        return target

    def rollback(self, run_id: str | None = None) -> str:
        """Point `current` at `run_id`, or at the snapshot before the current one; returns the run id."""
        run_id = rollback_target(self.published_run_ids(), self.current_run_id(), run_id)
        self.point_current(run_id)
        return run_id

    def prune(self, keep: int) -> list[str]:
        """Delete the oldest published snapshots beyond `keep`, never the current one; returns what was removed."""
        cur = self.current_run_id()
        runs = [r for r in self.published_run_ids() if r != cur]
        excess = max(0, len(runs) + (1 if cur else 0) - keep)
        removed = runs[:excess]
        for r in removed:
            shutil.rmtree(self.snapshot(r))
        return removed

    def prune_quarantine(self, keep: int) -> list[str]:
        """Delete the oldest quarantined candidates beyond `keep`; returns what was removed."""
        runs = self.quarantined_run_ids()
        removed = runs[: max(0, len(runs) - keep)]
        for r in removed:
            shutil.rmtree(self.quarantined(r))
        return removed

    def clear_abandoned(self) -> list[str]:
        """Remove staging folders and candidates left by runs that died; call it holding the run lock."""
        removed = []
        for base in (self.root / "staging", self.root / "candidates", self.root / "incoming"):
            for folder in sorted(base.iterdir()) if base.exists() else []:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(f"{base.name}/{folder.name}")
        return removed

    def clear_staging(self, run_id: str) -> None:
        """Remove a run's scratch folder and any abandoned candidates of it."""
        shutil.rmtree(self.staging(run_id), ignore_errors=True)


def rollback_target(published: list[str], current: str | None, requested: str | None) -> str:
    """The snapshot a rollback points at: `requested` if published, else the newest one older than `current`."""
    if requested is not None:
        if requested not in published:
            raise ValueError(f"no published snapshot {requested}")
        return requested
    older = [r for r in published if current is None or r < current]
    if not older:
        raise ValueError("no earlier snapshot to roll back to")
    return older[-1]


def _safe(run_id: str) -> str:
    # Run ids are generated by us, but parameters can come from the UI: keep them path-free.
    if not run_id or any(c in run_id for c in "/\\\0") or run_id in {".", ".."}:
        raise ValueError(f"invalid run id {run_id!r}")
    return run_id


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
