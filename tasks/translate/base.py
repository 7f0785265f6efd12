"""The translator interface every engine implements, and the per-run limits the translate step applies."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

STATUSES = ("source_is_target", "pending", "translated", "failed")


@runtime_checkable
class Translator(Protocol):
    """Translates batches of plain texts from one language to another."""

    @property
    def name(self) -> str:
        """Engine name recorded in `translations.engine`."""
        ...

    @property
    def version(self) -> str | None:
        """Engine version or model recorded in `translations.engine_version`."""
        ...

    def supports(self, source: str, target: str) -> bool:
        """Whether this engine can translate `source` into `target` (rows it cannot stay pending)."""
        ...

    def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[str]:
        """One translation per text, in order; raises TranslatorError when the batch cannot be translated."""
        ...


class TranslatorError(RuntimeError):
    """A batch could not be translated; `fatal` means later batches would fail the same way (e.g. a bad key)."""

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


class UnknownTranslatorError(ValueError):
    """No translator is registered under the requested name."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How the step cuts work for a translator; engine-independent keys of `translator_options`."""

    # Longest text sent as one item; longer titles and bodies are split on sentence boundaries.
    chunk_chars: int = 1000
    # Most characters and items per translate() call (LibreTranslate's char_limit counts the whole request).
    batch_chars: int = 5000
    batch_texts: int = 50
    # Characters of source text one run may send; rows over it stay pending. None means no limit.
    char_budget: int | None = None
    # Consecutive failed batches after which the rest of the run is left pending instead of hammering the engine.
    max_consecutive_failures: int = 3

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError(f"translator option {f.name} must be a non-negative integer, got {value!r}")
        if self.chunk_chars < 1 or self.batch_texts < 1 or self.batch_chars < self.chunk_chars:
            raise ValueError("translator options need chunk_chars >= 1, batch_texts >= 1, batch_chars >= chunk_chars")


LIMIT_KEYS = frozenset(f.name for f in fields(Limits))


def split_options(engine: str, options: Mapping[str, Any] | None) -> tuple[Limits, dict[str, Any]]:
    """The step limits and the engine's own options from `translator_options`.

    Engine options may sit in a table named after the engine (`[pipeline.translator_options.libretranslate]`), so
    one settings file can hold several engines' options; tables named after other engines are ignored.
    """
    limits: dict[str, Any] = {}
    engine_options: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if key in LIMIT_KEYS:
            limits[key] = value
        elif key == engine and isinstance(value, Mapping):
            engine_options.update(value)
        elif not isinstance(value, Mapping):
            engine_options[key] = value
    return Limits(**limits), engine_options


class CharBudget(Protocol):
    """Characters a run may still send to the translator."""

    def take(self, chars: int) -> bool:
        """Reserve `chars`; False (and nothing reserved) when they do not fit."""
        ...


class Unlimited:
    """A budget that always has room."""

    def take(self, chars: int) -> bool:
        """Always True."""
        del chars
        return True


class MemoryBudget:
    """A budget held in this process (one call, or threads sharing the object)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self, chars: int) -> bool:
        """Reserve `chars` if they fit."""
        with self._lock:
            if self.used + chars > self.limit:
                return False
            self.used += chars
            return True


class FileBudget:
    """A budget shared by every batch of a run through a small file, so concurrent tasks draw on one total."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit

    def take(self, chars: int) -> bool:
        """Reserve `chars` if they fit, under an exclusive lock on the ledger file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.read(fd, 1 << 16)
            used = int(json.loads(raw)["used"]) if raw.strip() else 0
            if used + chars > self.limit:
                return False
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"used": used + chars, "limit": self.limit}).encode())
            return True
        finally:
            os.close(fd)


def budget_for(limits: Limits, ledger: Path | None = None) -> CharBudget:
    """The run's character budget: shared through `ledger` when given, else held in memory."""
    if limits.char_budget is None:
        return Unlimited()
    if ledger is None:
        return MemoryBudget(limits.char_budget)
    return FileBudget(ledger, limits.char_budget)
