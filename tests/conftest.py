"""Shared fixtures: an isolated Prefect home, the seed sources, and a helper that runs the real flow."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = ROOT / "seeds"

# Prefect reads its settings once, when it is first imported, and test modules import the flows (hence Prefect) at
# collection time, before any fixture runs: the isolation must be in place when this file is imported.
_SAVED_ENV = {k: os.environ.get(k) for k in ("PREFECT_HOME", "PREFECT_API_URL")}
_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="newsgraph-prefect-home-"))
os.environ["PREFECT_HOME"] = str(_PREFECT_HOME)
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("TQDM_DISABLE", "1")


@pytest.fixture(scope="session", autouse=True)
def prefect_home() -> Iterator[Path]:
    """Each test session gets its own Prefect database; no analytics (no network here)."""
    yield _PREFECT_HOME
    # Stop the ephemeral API server now, while pytest's output capture is still open: left to Prefect's atexit hook
    # its "Stopping temporary server" log line hits a closed stream ("Logging error ... I/O operation on closed file").
    # Run logs and events still queued for the API are sent first, so nothing tries to reach the stopped server.
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.server.api.server import SubprocessASGIServer

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)
    SubprocessASGIServer().stop()
    for k, v in _SAVED_ENV.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


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


@pytest.fixture(scope="session")
def served_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """`newsgraph serve` (real Prefect server + UI + served deployment) over a copy of the seeds, for the session."""
    from tests.served import serve_pipeline

    with serve_pipeline(tmp_path_factory.mktemp("served"), SEEDS, ROOT / "test-artifacts") as served:
        yield served
