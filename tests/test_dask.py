"""The unchanged flow on a dask.distributed cluster: two worker processes give the same tables as one process."""

from __future__ import annotations

from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from flows.runners import task_runner_for
from tasks.config import Settings
from tasks.schemas import PUBLISHED_TABLES
from tests.snapshots import snapshot_contents

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def two_worker_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster


def test_dask_cluster_run_publishes_the_same_tables_as_a_single_process_run(
    seed_copy: Path, run_flow, seed_snapshot: Path, two_worker_cluster
):
    address = two_worker_cluster.scheduler_address
    result = run_flow(seed_copy, task_runner=address, batch_size=2)
    assert result["published"] is True

    # Clean and extract really ran on the cluster's worker processes, one task per step and batch (5 seeds / 2);
    # translate, which waits on a service rather than a CPU, runs in threads of the flow's own process.
    prefixes = two_worker_cluster.scheduler.task_prefixes  # Prefect names Dask keys after the task
    for step in ("clean", "extract"):
        assert step in prefixes, sorted(prefixes)
        assert prefixes[step].state_counts["memory"] == 3  # each of the 3 batches computed once
    assert "translate" not in prefixes
    assert len(two_worker_cluster.scheduler.workers) == 2

    on_dask = snapshot_contents(Path(result["path"]))
    single = snapshot_contents(seed_snapshot)  # threads in one process, default batch size
    for name in PUBLISHED_TABLES:
        assert_frame_equal(on_dask[name], single[name], check_row_order=True)


def test_local_dask_runner_starts_one_single_threaded_process_per_worker():
    runner = task_runner_for(Settings(task_runner="dask", workers=2))
    assert runner.cluster_kwargs == {
        "n_workers": 2,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": None,
    }


def test_scheduler_address_is_passed_to_the_dask_runner():
    assert task_runner_for(Settings(task_runner="dask://10.1.2.3:8786")).address == "tcp://10.1.2.3:8786"
    assert task_runner_for(Settings(task_runner="tcp://10.1.2.3:8786")).address == "tcp://10.1.2.3:8786"
