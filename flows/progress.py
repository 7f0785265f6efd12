"""Run progress for people at a terminal: the flow reports steps, whoever started it may draw them.

The reporter travels in a context variable set by the caller (the CLI sets a rich one); flows started by a
deployment or a test see the silent default. Nothing here is shared between runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID


class Reporter(Protocol):
    """Receives step totals and advances; implementations must be cheap and never raise."""

    def total(self, step: str, count: int) -> None:
        """`step` has `count` units of work in this run."""

    def advance(self, step: str, count: int = 1) -> None:
        """`count` more units of `step` are done."""


class SilentReporter:
    """The default reporter: ignores everything."""

    def total(self, step: str, count: int) -> None:
        """Ignore."""

    def advance(self, step: str, count: int = 1) -> None:
        """Ignore."""


_REPORTER: ContextVar[Reporter | None] = ContextVar("newsgraph_progress", default=None)


def reporter() -> Reporter:
    """The reporter of the current context."""
    return _REPORTER.get() or SilentReporter()


@contextmanager
def reporting(target: Reporter) -> Iterator[Reporter]:
    """Send progress of runs started inside this block to `target`."""
    token = _REPORTER.set(target)
    try:
        yield target
    finally:
        _REPORTER.reset(token)


# Labels of the steps the flow reports, in display order, with the unit each counts.
STEPS = {
    "fetched": ("fetch", "documents"),
    "cleaned": ("clean", "batches"),
    "translated": ("translate", "batches"),
    "extracted": ("extract", "batches"),
}
BATCH_STEPS = ("cleaned", "translated", "extracted")


class RichReporter:
    """Rich progress bars per step on the terminal, then an indeterminate bar while the snapshot is finished."""

    def __init__(self, console: Console | None = None, *, enabled: bool = True) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
        )
        self._tasks: dict[str, TaskID] = {}
        self._finishing: TaskID | None = None

    def __enter__(self) -> Self:
        self._progress.start()
        self._tasks["fetched"] = self._progress.add_task("fetch", total=None, unit="documents")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._finishing is not None:
            self._progress.update(self._finishing, total=1, completed=1)
        self._progress.stop()

    def total(self, step: str, count: int) -> None:
        """Show a bar for `step` with `count` units."""
        label, unit = STEPS.get(step, (step, ""))
        if step in self._tasks:
            self._progress.update(self._tasks[step], total=count)
        else:
            self._tasks[step] = self._progress.add_task(label, total=count, unit=unit)

    def advance(self, step: str, count: int = 1) -> None:
        """Advance the bar of `step`; once every batch step is complete, show the finishing bar."""
        if step not in self._tasks:
            self.total(step, 0)
        self._progress.advance(self._tasks[step], count)
        if self._finishing is None and all(s in self._tasks for s in BATCH_STEPS):
            by_id = {t.id: t for t in self._progress.tasks}
            if all(by_id[self._tasks[s]].finished for s in BATCH_STEPS):
                self._finishing = self._progress.add_task("publish", total=None, unit="assemble, validate, publish")
