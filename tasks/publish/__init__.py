"""Publish: assemble candidate snapshots, gate them, switch `current` atomically, quarantine, roll back."""

from tasks.publish.assemble import assemble_candidate, read_table, scan_table, write_part
from tasks.publish.lock import RunLockedError, run_lock
from tasks.publish.store import MANIFEST, SnapshotStore

__all__ = [
    "MANIFEST",
    "RunLockedError",
    "SnapshotStore",
    "assemble_candidate",
    "read_table",
    "run_lock",
    "scan_table",
    "write_part",
]
