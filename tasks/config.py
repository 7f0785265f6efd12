"""Pipeline settings: defaults here, then an optional TOML file, then NEWSGRAPH_* environment variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_PREFIX = "NEWSGRAPH_"
TASK_RUNNERS = ("threads", "processes", "dask")


class Settings(BaseModel):
    """Everything a run needs besides its sources; every field has a working default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    output_dir: str = Field("output", description="Root of snapshots, raw layer and quarantine (path or fsspec URL).")
    raw_dir: str | None = Field(None, description="Raw layer location; defaults to <output_dir>/raw.")
    batch_size: int = Field(500, ge=1, description="Articles per batch task run.")
    task_runner: str = Field(
        "threads",
        description="Where batch tasks run: threads, processes, dask (a local cluster) or dask://host:port "
        "(tcp://host:port also accepted) for an existing dask.distributed scheduler.",
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


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        annotation = field.annotation
        if annotation == tuple[str, ...]:
            values[name] = tuple(v.strip() for v in raw.split(",") if v.strip())
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
