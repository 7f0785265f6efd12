"""Publish: assemble candidate snapshots, gate them, switch `current` atomically, quarantine, roll back, mirror."""

from tasks.publish.assemble import assemble_candidate, read_table, scan_table, write_part
from tasks.publish.lock import RunLockedError, run_lock
from tasks.publish.release import Republished, StaleCandidateError, republish
from tasks.publish.remote import POINTER, RemoteSnapshots, open_remote, open_stores, output_lock, publish_and_prune
from tasks.publish.report import REPORT_KEY, StepTiming, load_run_report, render_run_report
from tasks.publish.store import MANIFEST, SnapshotStore

__all__ = [
    "MANIFEST",
    "POINTER",
    "REPORT_KEY",
    "RemoteSnapshots",
    "Republished",
    "RunLockedError",
    "SnapshotStore",
    "StaleCandidateError",
    "StepTiming",
    "assemble_candidate",
    "load_run_report",
    "open_remote",
    "open_stores",
    "output_lock",
    "publish_and_prune",
    "read_table",
    "render_run_report",
    "republish",
    "run_lock",
    "scan_table",
    "write_part",
]
