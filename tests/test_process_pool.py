"""The `processes` task runner: workers start with the runner, load their models once, and change no output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from flows.runners import WarmProcessPoolTaskRunner, task_runner_for
from tasks.config import Settings
from tasks.schemas import PUBLISHED_TABLES
from tasks.steps import TIMINGS_ENV
from tests.snapshots import snapshot_contents

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_process_pool_run_publishes_the_same_tables_as_threads(
    seed_copy: Path, run_flow, seed_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    timings = tmp_path / "steps.jsonl"
    monkeypatch.setenv(TIMINGS_ENV, str(timings))  # the workers inherit it and time their steps there
    result = run_flow(seed_copy, task_runner="processes", batch_size=2)
    assert result["published"] is True

    steps = [json.loads(line) for line in timings.read_text(encoding="utf-8").splitlines()]
    batch_pids = {s["pid"] for s in steps if s["step"] in {"clean", "extract"}}
    assert os.getpid() not in batch_pids  # clean and extract ran in the pool's worker processes...
    assert len([s for s in steps if s["step"] == "clean"]) == 3  # ...one task per batch (5 seeds / 2)
    # Translate waits on a service, not a CPU: it runs in the flow's own process, as fetch, assemble and validate.
    assert {s["pid"] for s in steps if s["step"] in {"fetch", "translate", "assemble", "validate"}} == {os.getpid()}

    in_pool = snapshot_contents(Path(result["path"]))
    single = snapshot_contents(seed_snapshot)  # threads in one process, default batch size
    for name in PUBLISHED_TABLES:
        assert_frame_equal(in_pool[name], single[name], check_row_order=True)


def test_process_runner_has_one_warm_worker_per_cpu_by_default():
    runner = task_runner_for(Settings(task_runner="processes"))
    assert isinstance(runner, WarmProcessPoolTaskRunner)
    assert runner._max_workers == len(os.sched_getaffinity(0))  # noqa: SLF001
    assert task_runner_for(Settings(task_runner="processes", workers=3))._max_workers == 3  # noqa: SLF001


def test_auto_runs_small_work_in_threads_and_starts_a_warm_pool_while_fetch_reads_a_large_one():
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.runners import AUTO_PROCESSES_FROM, BatchRunner

    settings = Settings(task_runner="auto", workers=2)
    with BatchRunner(settings) as small:
        small.batch_staged(AUTO_PROCESSES_FROM - 1)
        assert small.kind == "threads"
        assert isinstance(small.runner(), ThreadPoolTaskRunner)

    with BatchRunner(settings) as large:
        large.batch_staged(AUTO_PROCESSES_FROM // 2)
        assert large.kind == "threads"  # not yet: fetch is still reading
        large.batch_staged(AUTO_PROCESSES_FROM // 2)
        assert large.kind == "processes"
        pool = large.runner()
        assert isinstance(pool, WarmProcessPoolTaskRunner)
        workers = pool._executor._processes  # noqa: SLF001 - the pool's worker processes
        assert len(workers) == 2  # both started when the runner was entered, before any task was submitted
    assert all(not p.is_alive() for p in workers.values())  # shut down with the run

    with BatchRunner(Settings(task_runner="auto", workers=1)) as one_cpu:
        one_cpu.batch_staged(10 * AUTO_PROCESSES_FROM)
        assert one_cpu.kind == "threads"  # one worker gains nothing from a second process

    with BatchRunner(Settings(task_runner="threads", workers=2)) as fixed:
        fixed.batch_staged(10 * AUTO_PROCESSES_FROM)
        assert fixed.kind == "threads"
