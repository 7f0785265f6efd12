"""Pipeline settings: defaults here, then an optional TOML file, then NEWSGRAPH_* environment variables."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_PREFIX = "NEWSGRAPH_"
TASK_RUNNERS = ("auto", "threads", "processes", "dask")


class Settings(BaseModel):
    """Everything a run needs besides its sources; every field has a working default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    output_dir: str = Field(
        "output",
        description="Root of snapshots, raw layer and quarantine: a local path, or an fsspec URL (s3://, gs://, "
        "file://, memory://, ...) to publish to object storage through a current.json pointer.",
    )
    raw_dir: str | None = Field(
        None, description="Raw layer location (path or fsspec URL); defaults to <output_dir>/raw."
    )
    work_dir: str | None = Field(
        None,
        description="Local work directory of a run whose output_dir is a URL (staging, candidates, validation, "
        "quarantine, a local copy of the current snapshot); default .newsgraph-work/<url> under the working "
        "directory. Not used for a local output_dir.",
    )
    storage_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options passed to fsspec for URL locations (e.g. endpoint_url, key, secret, client_kwargs); "
        "NEWSGRAPH_STORAGE_OPTIONS takes JSON. Credentials are better left to the store's own environment "
        "variables.",
    )
    batch_size: int = Field(500, ge=1, description="Articles per batch task run.")
    task_runner: str = Field(
        "auto",
        description="Where batch tasks run: auto (threads for small runs, a process pool once fetch has staged 2,000 "
        "documents), threads, processes, dask (a local cluster) or dask://host:port (tcp://host:port also "
        "accepted) for an existing dask.distributed scheduler.",
    )
    workers: int | None = Field(
        None, ge=1, description="Parallel batch workers (threads, processes or local Dask workers); default: CPUs."
    )
    translator: str = Field("placeholder", description="Translator name (entry point group newsgraph.translators).")
    translator_options: dict[str, Any] = Field(default_factory=dict, description="Options passed to the translator.")
    expected_languages: tuple[str, ...] = Field(("en", "ko", "ja"), description="Languages the sources publish in.")
    keep_snapshots: int = Field(10, ge=1, description="How many published snapshots to keep.")
    lock_timeout: float = Field(600.0, ge=0.0, description="Seconds a run waits for another run on the same output.")
    max_row_drop: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Largest allowed fractional drop in a table's row count against the previous snapshot.",
    )
    max_row_growth: float = Field(
        100.0, ge=0.0, description="Largest allowed growth factor of a table's row count against the previous snapshot."
    )

    @field_validator("task_runner")
    @classmethod
    def _known_runner(cls, value: str) -> str:
        if value in TASK_RUNNERS or value.startswith(("dask://", "tcp://", "tls://")):
            return value
        raise ValueError(f"task_runner must be one of {', '.join(TASK_RUNNERS)} or dask://host:port, got {value!r}")

    @property
    def raw_location(self) -> str:
        """Where raw fetched bytes are kept."""
        return self.raw_dir or f"{self.output_dir.rstrip('/')}/raw"

    @property
    def output_url(self) -> str | None:
        """The output URL when publishing to object storage (any fsspec URL, file:// included), else None."""
        return self.output_dir if is_url(self.output_dir) else None

    @property
    def local_dir(self) -> str:
        """Local folder of the run's files: output_dir itself for a local output, else the work directory."""
        if self.output_url is None:
            return self.output_dir
        return self.work_dir or str(Path(".newsgraph-work") / _folder_name(self.output_url))

    def with_absolute_locations(self) -> Settings:
        """These settings with every local location absolute (file:// URLs too); other URLs are kept as given.

        Task runs in other processes, on Dask workers or after a chdir then see the same locations.
        """
        update: dict[str, Any] = {"output_dir": _absolute(self.output_dir)}
        if self.raw_dir:
            update["raw_dir"] = _absolute(self.raw_dir)
        if self.output_url is not None:
            update["work_dir"] = str(Path(self.local_dir).resolve())
        return self.model_copy(update=update)


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(location: str) -> bool:
    """Whether `location` is a URL (scheme://...) rather than a local path."""
    return _SCHEME.match(location) is not None


def local_path(location: str) -> str | None:
    """The local path a location names: a path itself or a file:// URL; None for other URLs."""
    if not is_url(location):
        return location
    scheme, _, rest = location.partition("://")
    return rest if scheme.lower() in {"file", "local"} else None


def _absolute(location: str) -> str:
    path = local_path(location)
    if path is None:
        return location
    resolved = str(Path(path).resolve())
    return f"file://{resolved}" if is_url(location) else resolved


def _folder_name(url: str) -> str:
    # Readable and collision-free: the URL with path characters replaced, plus a short digest of the exact URL.
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", url).strip("_")[:80]
    return f"{readable}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        annotation = field.annotation
        if annotation == tuple[str, ...]:
            values[name] = tuple(v.strip() for v in raw.split(",") if v.strip())
        elif annotation == dict[str, Any]:
            values[name] = json.loads(raw)  # e.g. NEWSGRAPH_STORAGE_OPTIONS='{"endpoint_url": "http://..."}'
        else:
            values[name] = raw
    return values


def load_settings(
    path: str | Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from defaults, the TOML file at `path` (its [pipeline] table), the environment, then `overrides`."""
    values: dict[str, Any] = {}
    if path is not None:
        with Path(path).open("rb") as fh:
            values.update(tomllib.load(fh).get("pipeline", {}))
    values.update(_from_env(os.environ if environ is None else environ))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return Settings.model_validate(values)


def known_translators() -> list[str]:
    """Names of the translators this installation can use (the translate step's registry)."""
    from tasks.translate import available_translators

    return available_translators()
