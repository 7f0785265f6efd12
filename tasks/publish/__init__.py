"""Publish: assemble candidate snapshots, gate them, switch `current` atomically, quarantine, roll back."""

from tasks.publish.assemble import assemble_candidate, read_table, scan_table, write_part
from tasks.publish.lock import RunLockedError, run_lock
from tasks.publish.release import Republished, StaleCandidateError, republish
from tasks.publish.report import REPORT_KEY, StepTiming, load_run_report, render_run_report
from tasks.publish.store import MANIFEST, SnapshotStore

__all__ = [
    "MANIFEST",
    "REPORT_KEY",
    "Republished",
    "RunLockedError",
    "SnapshotStore",
    "StaleCandidateError",
    "StepTiming",
    "assemble_candidate",
    "load_run_report",
    "read_table",
    "render_run_report",
    "republish",
    "run_lock",
    "scan_table",
    "write_part",
]
