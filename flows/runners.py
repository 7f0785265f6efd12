"""Task runners for the batch tasks, chosen by `Settings.task_runner` at run time (not at import time).

The flow enters the runner inside its body, so one deployment serves threads, a process pool, a local Dask cluster
or an existing Dask scheduler without being redeployed: the choice is a run parameter.
"""

from __future__ import annotations

import os
from typing import Any, Self

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner

from tasks.config import Settings
from tasks.steps import warm_up


def _started() -> None:
    """Nothing: submitted once per worker so every worker process starts (and warms up) right away."""


class WarmProcessPoolTaskRunner(ProcessPoolTaskRunner):
    """Prefect's process pool whose workers start when the runner is entered and load the models before any task.

    The stock pool starts a worker at the first submit, which in the flow is after fetch; entered before fetch,
    this one lets the workers import and load on the second core while the flow's process fetches.
    """

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, initializer=warm_up)

    def __enter__(self) -> Self:
        super().__enter__()
        if self._executor is not None:
            for _ in range(self._max_workers):
                self._executor.submit(_started)
        return self


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def task_runner_for(settings: Settings) -> TaskRunner[Any]:
    """A fresh, not yet entered task runner for `settings.task_runner`."""
    kind = settings.task_runner
    workers = settings.workers or _cpus()
    if kind == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "processes":
        return WarmProcessPoolTaskRunner(max_workers=workers)
    from prefect_dask.task_runners import DaskTaskRunner

    if kind == "dask":
        # One single-threaded worker process per CPU: the steps are CPU-bound Python, so threads inside a worker
        # would only contend for its GIL; no dashboard, so runs never fight over port 8787.
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={
                "n_workers": workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            },
        )
    address = kind.removeprefix("dask://")
    return DaskTaskRunner(address=address if "://" in address else f"tcp://{address}")
