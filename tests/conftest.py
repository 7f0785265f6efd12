"""Shared fixtures: an isolated Prefect home, the seed sources, and a helper that runs the real flow."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session", autouse=True)
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Each test session gets its own Prefect database; no analytics (no network here)."""
    home = tmp_path_factory.mktemp("prefect-home")
    saved = {k: os.environ.get(k) for k in ("PREFECT_HOME", "PREFECT_API_URL")}
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.pop("PREFECT_API_URL", None)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("TQDM_DISABLE", "1")
    yield home
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def write_sources(folder: Path, docs: Path, name: str = "docs") -> Path:
    """A sources file in `folder` that reads the directory `docs`."""
    path = folder / "sources.toml"
    path.write_text(f'[[sources]]\nkind = "directory"\nname = "{name}"\npath = "{docs}"\n', encoding="utf-8")
    return path


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A writable copy of seeds/ with a sources file beside it."""
    docs = tmp_path / "seeds"
    shutil.copytree(SEEDS, docs)
    write_sources(tmp_path, docs, name="seeds")
    return tmp_path


RunFlow = Callable[..., dict[str, Any]]


@pytest.fixture
def run_flow() -> RunFlow:
    """Run the nightly flow in this process against the session's Prefect API."""
    from flows.nightly import nightly

    def _run(workdir: Path, **params: Any) -> dict[str, Any]:
        params.setdefault("sources_file", str(workdir / "sources.toml"))
        params.setdefault("output_dir", str(workdir / "output"))
        result: dict[str, Any] = nightly(**params)
        return result

    return _run


@pytest.fixture(scope="session")
def seed_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One published snapshot of the seeds, shared by read-only tests."""
    from flows.nightly import nightly

    work = tmp_path_factory.mktemp("seed-run")
    shutil.copytree(SEEDS, work / "seeds")
    write_sources(work, work / "seeds", name="seeds")
    nightly(sources_file=str(work / "sources.toml"), output_dir=str(work / "output"))
    return (work / "output" / "current").resolve()


def needs_shared(*parts: str) -> pytest.MarkDecorator:
    """Skip cleanly when ../shared (or a file in it) is absent."""
    path = SHARED.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"{path} not available")
