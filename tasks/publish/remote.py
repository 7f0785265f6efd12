"""Publishing to object storage: upload a snapshot, then switch one small pointer object, `current.json`.

Layout under the output URL (s3://bucket/prefix, gs://..., file:///..., memory://...):
    snapshots/<run_id>/...   uploaded file by file, manifest.json last; complete (and immutable) once it is there
    current.json             the pointer: run id, snapshot prefix, the data files of every table, manifest digest
    lease.json               held by the run or command writing here, renewed while it works (exclusive create)
    raw/<xx>/<sha256>        the raw layer (tasks.rawstore.ObjectRawStore) unless raw_dir says otherwise

Object stores have no symlinks and no renames, but a single PUT is atomic: readers that read `current.json` and then
exactly the files it lists see the old snapshot or the new one, never a mix and never a half-uploaded prefix.

The pipeline itself works in a local work directory (a `SnapshotStore`: staging, candidates, validation, quarantine,
local copies of snapshots); `RemoteSnapshots` mirrors what it publishes there and, on a fresh work directory, brings
the remote current snapshot down first so incremental runs carry forward as they do on a local output.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.publish.assemble import STATE_DIR
from tasks.publish.lock import RunLockedError, run_lock
from tasks.publish.store import MANIFEST, SnapshotStore, _safe, rollback_target

if TYPE_CHECKING:
    from tasks.config import Settings

POINTER = "current.json"
LEASE = "lease.json"
SNAPSHOTS = "snapshots"
POINTER_FORMAT = 1
# A lease names an expiry and is renewed every third of it: a crashed holder blocks others for two minutes at most.
LEASE_SECONDS = 120.0


class RemoteSnapshots:
    """The published side of an object-storage output: snapshots under a prefix and the `current.json` pointer."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        from fsspec.core import url_to_fs
        from fsspec.utils import get_protocol

        self.url = url.rstrip("/")
        options = dict(storage_options or {})
        self._local = get_protocol(self.url) in {"file", "local"}
        if self._local:
            options.setdefault("auto_mkdir", True)  # object stores have no folders to create first
        try:
            self.fs, self._base = url_to_fs(self.url, **options)
        except ImportError as exc:  # the store's fsspec driver is not installed: a setting to fix, not a crash
            raise ValueError(f"output_dir {self.url}: {exc}") from exc

    def key(self, relative: str) -> str:
        """The file system path of a key relative to the output URL."""
        return f"{self._base}/{relative}"

    @property
    def pointer_url(self) -> str:
        """Where consumers find the current snapshot."""
        return f"{self.url}/{POINTER}"

    # -- reading ---------------------------------------------------------------------------------------------------

    def pointer(self) -> dict[str, Any] | None:
        """The current pointer, or None before the first publish."""
        try:
            raw = self.fs.cat_file(self.key(POINTER))
        except FileNotFoundError:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data

    def current_run_id(self) -> str | None:
        """Run id of the snapshot `current.json` names."""
        pointer = self.pointer()
        return str(pointer["run_id"]) if pointer else None

    def manifest(self, run_id: str) -> dict[str, Any]:
        """The manifest of a published snapshot."""
        data: dict[str, Any] = json.loads(self.fs.cat_file(self.key(f"{SNAPSHOTS}/{_safe(run_id)}/{MANIFEST}")))
        return data

    def _snapshot_ids(self) -> list[str]:
        """Every snapshot prefix, complete or not (an administrative listing: readers never list)."""
        self.fs.invalidate_cache()  # another process may have written since this file system object last listed
        try:
            entries = self.fs.ls(self.key(SNAPSHOTS), detail=False)
        except FileNotFoundError:
            return []
        return sorted(str(e).rstrip("/").rsplit("/", 1)[-1] for e in entries)

    def _complete(self, run_id: str) -> bool:
        return bool(self.fs.exists(self.key(f"{SNAPSHOTS}/{run_id}/{MANIFEST}")))

    def published_run_ids(self) -> list[str]:
        """Complete snapshots (manifest uploaded), oldest first."""
        return [r for r in self._snapshot_ids() if self._complete(r)]

    # -- publishing ------------------------------------------------------------------------------------------------

    def upload(self, store: SnapshotStore, run_id: str) -> dict[str, Any]:
        """Upload the local snapshot `run_id` (manifest.json last) and return the pointer that would name it.

        Parts the local snapshot shares with the remote current one (hard links of carried-forward parts) are
        copied inside the store instead of uploaded again.
        """
        folder = store.snapshot(run_id)
        manifest = folder / MANIFEST
        if not manifest.is_file():
            raise FileNotFoundError(f"snapshot {run_id} is not complete under {store.root}")
        prefix = f"{SNAPSHOTS}/{_safe(run_id)}"
        base = self.current_run_id()
        base_folder = store.snapshot(base) if base and base != run_id else None
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p != manifest)
        copies: tuple[list[str], list[str]] = ([], [])
        uploads: tuple[list[str], list[str]] = ([], [])
        for path in files:
            relative = path.relative_to(folder).as_posix()
            twin = base_folder / relative if base_folder is not None else None
            if twin is not None and twin.is_file() and path.samefile(twin):
                copies[0].append(self.key(f"{SNAPSHOTS}/{base}/{relative}"))
                copies[1].append(self.key(f"{prefix}/{relative}"))
            else:
                uploads[0].append(str(path))
                uploads[1].append(self.key(f"{prefix}/{relative}"))
        if copies[0]:
            self.fs.copy(*copies)
        if uploads[0]:
            self.fs.put(*uploads)
        # Last: a snapshot prefix with its manifest is complete.
        self.fs.put_file(str(manifest), self.key(f"{prefix}/{MANIFEST}"))
        rel_files = [p.relative_to(folder).as_posix() for p in files]
        return _pointer(run_id, rel_files, manifest.read_bytes(), previous=base)

    def publish(self, store: SnapshotStore, run_id: str) -> dict[str, Any]:
        """Upload the local snapshot `run_id`, then point `current.json` at it; returns the pointer written."""
        pointer = self.upload(store, run_id)
        from tasks.steps import fault_point

        fault_point("upload")  # test harness only: the window between the upload and the pointer switch
        self._write_pointer(pointer)
        return pointer

    def _write_pointer(self, pointer: dict[str, Any]) -> None:
        data = (json.dumps(pointer, indent=2, ensure_ascii=False) + "\n").encode()
        if self._local:
            # A local file system is not written in one piece: write beside it and rename, as the symlink switch does.
            tmp = self.key(f".{POINTER}.{os.getpid()}.{threading.get_ident()}.tmp")
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, self.key(POINTER))
        else:
            self.fs.pipe_file(self.key(POINTER), data)  # one PUT: atomic on S3, GCS and Azure

    def rollback(self, run_id: str | None = None) -> str:
        """Point `current.json` at `run_id`, or at the snapshot before the current one; returns the run id."""
        current = self.current_run_id()
        run_id = rollback_target(self.published_run_ids(), current, run_id)
        prefix = self.key(f"{SNAPSHOTS}/{run_id}/")
        rel_files = [str(p).removeprefix(prefix) for p in self.fs.find(prefix)]
        manifest = self.fs.cat_file(self.key(f"{SNAPSHOTS}/{run_id}/{MANIFEST}"))
        self._write_pointer(_pointer(run_id, [f for f in rel_files if f != MANIFEST], manifest, previous=current))
        return run_id

    def prune(self, keep: int) -> list[str]:
        """Delete the oldest snapshots beyond `keep` (never the current one) and uploads that never completed."""
        current = self.current_run_id()
        every = self._snapshot_ids()
        complete = [r for r in every if r == current or self._complete(r)]
        # Prefixes without a manifest are uploads of runs that died: nobody writes here but the lease holder.
        removed = [r for r in every if r not in complete]
        runs = [r for r in complete if r != current]
        removed += runs[: max(0, len(runs) + (1 if current else 0) - keep)]
        for run in removed:
            self.fs.rm(self.key(f"{SNAPSHOTS}/{run}"), recursive=True)
        return sorted(removed)

    # -- the local work directory ----------------------------------------------------------------------------------

    def sync_down(self, store: SnapshotStore) -> str | None:
        """Make the work directory's `current` the remote current snapshot, downloading it when it is not there.

        The remote pointer is the truth: after a crash between a local publish and the pointer switch, or after a
        rollback, the local `current` follows the remote one. Returns the current run id (None: nothing published).
        """
        pointer = self.pointer()
        if pointer is None:
            store.clear_current()
            return None
        run_id = str(pointer["run_id"])
        folder = store.snapshot(run_id)
        if not _matches(folder, pointer):
            incoming = store.incoming(run_id)
            shutil.rmtree(incoming, ignore_errors=True)
            relative = [*_listed(pointer), pointer["manifest"]["key"]]
            prefix = f"{pointer['snapshot']}/"
            targets = [incoming / k.removeprefix(prefix) for k in relative]
            for target in targets:
                target.parent.mkdir(parents=True, exist_ok=True)
            self.fs.get([self.key(k) for k in relative], [str(t) for t in targets])
            if not _matches(incoming, pointer):
                raise RuntimeError(f"{self.pointer_url}: snapshot {run_id} does not match its pointer's digest")
            shutil.rmtree(folder, ignore_errors=True)
            folder.parent.mkdir(parents=True, exist_ok=True)
            os.replace(incoming, folder)
        if store.current_run_id() != run_id:
            store.point_current(run_id)
        return run_id

    # -- one writer at a time --------------------------------------------------------------------------------------

    @contextmanager
    def lease(self, *, timeout: float, seconds: float = LEASE_SECONDS) -> Iterator[str]:
        """Hold `lease.json` (created exclusively, renewed in the background) for the block; yields the holder id.

        Waits up to `timeout` seconds for another holder, then raises RunLockedError. A lease whose holder died
        expires after `seconds`. Taking over an expired lease is a delete and a create, not one atomic step, so this
        guards against a second run started by mistake; the deployment's concurrency limit stays the primary guard.
        """
        key = self.key(LEASE)
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        deadline = time.monotonic() + timeout
        while not self._acquire(key, holder, seconds):
            if time.monotonic() >= deadline:
                raise RunLockedError(
                    f"another run holds {self.url}/{LEASE} (waited {timeout:.0f} s): {self._describe_lease(key)}"
                )
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(key, holder, seconds, stop), name="newsgraph-lease", daemon=True
        )
        renewer.start()
        try:
            yield holder
        finally:
            stop.set()
            renewer.join()
            if self._lease_holder(key) == holder:
                self.fs.rm(key)

    def _lease_body(self, holder: str, seconds: float) -> bytes:
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=seconds)
        return json.dumps({"holder": holder, "renewed_at": now.isoformat(), "expires_at": expires.isoformat()}).encode()

    def _acquire(self, key: str, holder: str, seconds: float) -> bool:
        for _ in range(2):
            try:
                with self.fs.open(key, "xb") as fh:  # exclusive create: If-None-Match on S3, O_EXCL on disk
                    fh.write(self._lease_body(holder, seconds))
            except FileExistsError:
                if not self._expired(key):
                    return False
                self.fs.rm(key)  # the holder died; try once more to create it
            else:
                return True
        return False

    def _read_lease(self, key: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.fs.cat_file(key))
        except FileNotFoundError:
            return None
        except ValueError:
            return {}  # being written: held
        return data

    def _lease_holder(self, key: str) -> str | None:
        lease = self._read_lease(key)
        return str(lease.get("holder")) if lease else None

    def _expired(self, key: str) -> bool:
        lease = self._read_lease(key)
        if lease is None:
            return True
        if _holder_died_here(str(lease.get("holder", ""))):
            return True  # a run on this machine that was killed: no need to wait for the expiry
        expires = lease.get("expires_at")
        return bool(expires) and datetime.fromisoformat(str(expires)) < datetime.now(UTC)

    def _describe_lease(self, key: str) -> str:
        lease = self._read_lease(key) or {}
        return f"holder {lease.get('holder', '?')}, expires {lease.get('expires_at', '?')}"

    def _renew(self, key: str, holder: str, seconds: float, stop: threading.Event) -> None:
        while not stop.wait(seconds / 3):
            try:
                if self._lease_holder(key) != holder:
                    return  # taken over after it expired (a stalled process): nothing to renew
                self.fs.pipe_file(key, self._lease_body(holder, seconds))
            except OSError:
                continue  # a transient store error: the lease is still valid for a while; try again


def _holder_died_here(holder: str) -> bool:
    """Whether a lease holder ("host:pid:token") is a process of this machine that no longer exists."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def _pointer(run_id: str, files: list[str], manifest: bytes, *, previous: str | None) -> dict[str, Any]:
    """`current.json` for snapshot `run_id` given its files relative to the snapshot prefix (manifest excluded)."""
    from tasks.schemas import PUBLISHED_TABLES

    prefix = f"{SNAPSHOTS}/{_safe(run_id)}"

    def parquet_in(folder: str) -> list[str]:
        return sorted(
            f"{prefix}/{f}" for f in files if f.startswith(f"{folder}/") and f.endswith(".parquet") and "/." not in f
        )

    return {
        "format": POINTER_FORMAT,
        "run_id": run_id,
        "snapshot": prefix,
        "manifest": {"key": f"{prefix}/{MANIFEST}", "sha256": hashlib.sha256(manifest).hexdigest()},
        "tables": {name: parquet_in(name) for name in PUBLISHED_TABLES},
        "state": parquet_in(STATE_DIR),
        "previous_run_id": previous,
        "written_at": datetime.now(UTC).isoformat(),
    }


def _matches(folder: Path, pointer: dict[str, Any]) -> bool:
    """Whether a local snapshot folder holds the snapshot a pointer names (same manifest, every listed file)."""
    manifest = folder / MANIFEST
    if not manifest.is_file() or hashlib.sha256(manifest.read_bytes()).hexdigest() != pointer["manifest"]["sha256"]:
        return False
    prefix = f"{pointer['snapshot']}/"
    return all((folder / k.removeprefix(prefix)).is_file() for k in _listed(pointer))


def _listed(pointer: dict[str, Any]) -> list[str]:
    """Keys of the data files a pointer lists (every table's parts and the state), manifest excluded."""
    return [*(k for keys in pointer["tables"].values() for k in keys), *pointer["state"]]


def open_remote(settings: Settings) -> RemoteSnapshots | None:
    """The remote side of these settings' output, or None for a local output (the symlink store alone)."""
    if settings.output_url is None:
        return None
    return RemoteSnapshots(settings.output_url, settings.storage_options)


def open_stores(settings: Settings) -> tuple[SnapshotStore, RemoteSnapshots | None]:
    """The local snapshot store of a run (the output folder, or the work directory of a URL output) and the remote."""
    return SnapshotStore(settings.local_dir), open_remote(settings)


@contextmanager
def output_lock(store: SnapshotStore, remote: RemoteSnapshots | None, *, timeout: float) -> Iterator[None]:
    """Hold an output for one writer: the run lock of its local folder and, for a URL output, the remote lease."""
    with run_lock(store.root, timeout=timeout):
        if remote is None:
            yield
            return
        with remote.lease(timeout=timeout):
            yield


def publish_and_prune(
    store: SnapshotStore, remote: RemoteSnapshots | None, run_id: str, keep: int
) -> tuple[Path, list[str]]:
    """Publish a validated candidate (and upload it to a URL output), then prune beyond `keep`; (folder, pruned)."""
    target = store.publish(run_id)
    if remote is not None:
        remote.publish(store, run_id)
    pruned = store.prune(keep)
    if remote is not None:
        pruned = sorted({*pruned, *remote.prune(keep)})
    return target, pruned
