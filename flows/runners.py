"""Task runners for the batch tasks, chosen by `Settings.task_runner` at run time (not at import time).

The flow enters the runner inside its body, so one deployment serves threads, a process pool, a local Dask cluster
or an existing Dask scheduler without being redeployed: the choice is a run parameter.
"""

from __future__ import annotations

import os
import threading
from contextlib import ExitStack
from types import TracebackType
from typing import Any, Self

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from tasks.config import Settings
from tasks.steps import warm_up


def _started() -> None:
    """Nothing: submitted once per worker so every worker process starts (and warms up) right away."""


def _start_worker() -> None:
    """A pool worker's start: set up Prefect, load the models, and exit without interpreter teardown at shutdown.

    Freeing the language models and every module one by one takes about a second per worker, during which the flow
    waits and both the worker's and the flow's memory are held. The exit is registered first: exit handlers run last
    registered first, so Prefect's own (log and event flushes, registered below and at the first task) still run.
    """
    import atexit

    from prefect.logging.configuration import ensure_logging_setup
    from prefect.plugins import load_prefect_collections

    atexit.register(os._exit, 0)
    # What Prefect otherwise does at a worker's first task run (importing the installed collections, prefect-dask and
    # so dask and distributed among them, and configuring logging: ~0.7 s): here it overlaps fetch instead of
    # delaying the first batch while the flow waits.
    load_prefect_collections()
    ensure_logging_setup()
    warm_up()


class WarmProcessPoolTaskRunner(ProcessPoolTaskRunner):
    """Prefect's process pool whose workers start when the runner is entered and load the models before any task.

    The stock pool starts a worker at the first submit, which in the flow is after fetch; entered before fetch,
    this one lets the workers import and load on the second core while the flow's process fetches.
    """

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, initializer=_start_worker)

    def __enter__(self) -> Self:
        super().__enter__()
        if self._executor is not None:
            for _ in range(self._max_workers):
                self._executor.submit(_started)
        return self


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# `auto` starts a process pool once fetch has staged this many documents: below it, starting worker processes
# (imports and models, ~4 s of CPU each) costs more than a second core saves. See docs/performance.md.
AUTO_PROCESSES_FROM = 2000
_IO_THREADS = 2


class BatchRunner:
    """The task runner for a run's batches, entered before fetch; `auto` decides while fetch is reading.

    For `auto`, batches run in threads unless fetch stages AUTO_PROCESSES_FROM documents, at which point a warm
    process pool starts in the background, so its workers import and load while fetch reads the rest. A run with
    nothing new never starts a worker. Other kinds are entered at once (`task_runner_for`).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._stack = ExitStack()
        self._fixed: TaskRunner[Any] | None = None
        self._staged = 0
        self._pool: WarmProcessPoolTaskRunner | None = None
        self._starting: threading.Thread | None = None
        self._failed: BaseException | None = None
        self._io: TaskRunner[Any] | None = None

    def __enter__(self) -> Self:
        if self._settings.task_runner != "auto":
            self._fixed = self._stack.enter_context(task_runner_for(self._settings))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._starting is not None:
            self._starting.join()
        self._stack.__exit__(exc_type, exc, tb)

    def batch_staged(self, documents: int) -> None:
        """Fetch staged a batch of `documents` (called from the fetch step, in this process)."""
        self._staged += documents
        workers = self._settings.workers or _cpus()
        if self._fixed is None and self._starting is None and self._staged >= AUTO_PROCESSES_FROM and workers > 1:
            self._pool = WarmProcessPoolTaskRunner(max_workers=workers)
            self._starting = threading.Thread(target=self._start_pool, args=(self._pool,), name="start-process-pool")
            self._starting.start()

    def _start_pool(self, pool: WarmProcessPoolTaskRunner) -> None:
        try:
            pool.__enter__()
        except BaseException as exc:  # noqa: BLE001 - handed to the flow's thread by runner()
            self._failed = exc
            return
        self._stack.push(pool.__exit__)  # shut down on the way out, whether or not a batch ever ran

    @property
    def kind(self) -> str:
        """What the batches run on: the configured kind, or for `auto` what it chose."""
        if self._settings.task_runner != "auto":
            return self._settings.task_runner
        return "processes" if self._pool is not None else "threads"

    def io_runner(self) -> TaskRunner[Any]:
        """Threads in the flow's own process, for batch tasks that wait on a service rather than a CPU (translate).

        The flow's process is idle while workers clean and extract; a translate task there costs the workers
        nothing, where on them it would cost a task run's round trip per batch for a few milliseconds of work.
        """
        if self._io is None:
            self._io = self._stack.enter_context(ThreadPoolTaskRunner(max_workers=_IO_THREADS))
        return self._io

    def runner(self) -> TaskRunner[Any]:
        """The entered runner to submit batch tasks to (call after fetch)."""
        if self._fixed is not None:
            return self._fixed
        if self._pool is not None and self._starting is not None:
            self._starting.join()
            if self._failed is not None:
                raise self._failed
            self._fixed = self._pool
            return self._pool
        self._fixed = self._stack.enter_context(ThreadPoolTaskRunner(max_workers=self._settings.workers or _cpus()))
        return self._fixed


def task_runner_for(settings: Settings) -> TaskRunner[Any]:
    """A fresh, not yet entered task runner for `settings.task_runner` (`auto`: threads; see BatchRunner)."""
    kind = settings.task_runner
    workers = settings.workers or _cpus()
    if kind in {"threads", "auto"}:
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
