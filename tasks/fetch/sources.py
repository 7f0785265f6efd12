"""The sources file: what to fetch, parsed as data (TOML or YAML) into typed models."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Unique name of the source; recorded on every article.")
    publisher: str | None = Field(None, description="Publisher to record when the document does not state one.")
    language: str | None = Field(None, description="Language the source publishes in, as a hint (ISO 639-1).")
    utc_offset: str | None = Field(None, description="UTC offset of dates stated without one, e.g. '+09:00'.")


class DirectorySource(_Source):
    """Local files: a folder or a glob of .txt, .html/.htm, .jsonl and .csv files."""

    kind: Literal["directory"] = "directory"
    path: str = Field(description="Folder or glob, relative to the sources file.")


Source = Annotated[DirectorySource, Field(discriminator="kind")]


class SourcesFile(BaseModel):
    """The whole sources file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_agent: str = Field("newsgraph/0.1 (+https://example.invalid/newsgraph)", description="User-Agent for HTTP.")
    sources: list[Source]
    base_dir: Path = Field(Path(), exclude=True, description="Folder relative paths are resolved against.")


def load_sources(path: str | Path) -> SourcesFile:
    """Parse a TOML or YAML sources file; relative paths in it resolve against its folder."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    data = yaml.safe_load(text) if p.suffix in {".yaml", ".yml"} else tomllib.loads(text)
    return SourcesFile.model_validate({**data, "base_dir": p.resolve().parent})
