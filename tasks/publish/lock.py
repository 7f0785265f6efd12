"""One run at a time per output folder: an advisory file lock the OS releases if the process dies."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RunLockedError(RuntimeError):
    """Another run holds the output folder."""


@contextmanager
def run_lock(root: Path, *, timeout: float) -> Iterator[None]:
    """Hold the output folder's lock for the duration of a run, waiting up to `timeout` seconds for it."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / ".run.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunLockedError(f"another run is using {root} (waited {timeout:.0f} s)") from None
                time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)
