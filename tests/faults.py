"""Fault-injection helpers for the reliability tests.

- `PrefectServer`: a real `prefect server start` on 127.0.0.1 that a test can stop and start again (same SQLite
  database), shared by the subprocess runs so each run does not pay for an ephemeral server of its own.
- `run_pipeline` / `start_pipeline`: `newsgraph run` as a subprocess, optionally crashed (SIGKILL) or made to fill
  its disk at a named point through NEWSGRAPH_TEST_FAULT (read only by `tasks.steps.fault_point`).
- Snapshot checks: a snapshot is complete (manifest, every table readable with the contract schema, unique keys)
  and its contents without the columns that legitimately change from run to run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tasks.schemas import PUBLISHED_TABLES
from tasks.steps import FAULT_ENV

ROOT = Path(__file__).resolve().parents[1]
NEWSGRAPH = Path(sys.executable).with_name("newsgraph")
KILL_POINTS = ("fetch", "clean", "translate", "extract", "assemble", "validate", "publish")
# Columns that legitimately change between runs over the same input.
RUN_COLUMNS = frozenset({"run_id", "fetched_at", "translated_at", "rejected_at"})
SIGKILLED = -9


@dataclass
class PrefectServer:
    """A Prefect API server in a subprocess, restartable on the same port and database."""

    home: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    @property
    def api_url(self) -> str:
        """The API URL clients use."""
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def log(self) -> Path:
        """Where the server's output goes (kept for a failing test's message)."""
        return self.home / "server.log"

    def start(self, timeout: float = 180) -> None:
        """Start the server and wait until it answers."""
        from flows.serve import free_port, server_env, wait_healthy

        self.home.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        prefect = Path(sys.executable).with_name("prefect")
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                env=server_env(self.api_url, self.home),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        wait_healthy(self.api_url, timeout=timeout, process=self.process)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 15 s)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def flow_run(self, flow_run_id: str) -> dict[str, object]:
        """The API's record of one flow run."""
        from tests.served import api_request

        response = api_request("GET", f"{self.api_url}/flow_runs/{flow_run_id}")
        response.raise_for_status()
        data: dict[str, object] = response.json()
        return data


@contextmanager
def prefect_server(home: Path) -> Iterator[PrefectServer]:
    """A running PrefectServer for the duration of the block."""
    server = PrefectServer(home)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def pipeline_env(api_url: str, *, fault: str | None = None, **settings: object) -> dict[str, str]:
    """Environment of a `newsgraph run` subprocess: the given API, an optional fault, NEWSGRAPH_* settings."""
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    env["PREFECT_API_URL"] = api_url
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env.setdefault("TQDM_DISABLE", "1")
    if fault is not None:
        env[FAULT_ENV] = fault
    for name, value in settings.items():
        env[f"NEWSGRAPH_{name.upper()}"] = str(value)
    return env


def pipeline_command(workdir: Path, *args: str) -> list[str]:
    """`newsgraph run` over workdir/sources.toml into workdir/output."""
    return [
        str(NEWSGRAPH),
        "run",
        "--sources",
        str(workdir / "sources.toml"),
        "--output",
        str(workdir / "output"),
        "--verbose",
        *args,
    ]


def start_pipeline(workdir: Path, *args: str, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[str]:
    """Start `newsgraph run` in the background (output to `log`, else piped)."""
    out = log.open("a", encoding="utf-8") if log is not None else subprocess.PIPE
    try:
        return subprocess.Popen(
            pipeline_command(workdir, *args), cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    finally:
        if log is not None and not isinstance(out, int):
            out.close()


def run_pipeline(
    workdir: Path, *args: str, env: dict[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run `newsgraph run` to its end (or its crash); stdout and stderr together in `.stdout`."""
    return subprocess.run(
        pipeline_command(workdir, *args),
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def current_run_id(output: Path) -> str | None:
    """Run id `output/current` points to."""
    link = output / "current"
    return link.resolve().name if link.is_symlink() else None


def assert_complete_snapshot(folder: Path) -> None:
    """A snapshot a reader can trust: manifest present, every table readable with its contract and unique keys."""
    folder = folder.resolve()  # output/current names its snapshot folder
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] == folder.name
    assert manifest["validation"]["success"] is True
    for name, table in PUBLISHED_TABLES.items():
        parts = sorted((folder / name).glob("*.parquet"))
        assert parts, f"{folder.name}: table {name} has no parts"
        frame = pl.read_parquet(parts)
        assert table.check(frame) == [], (folder.name, name, table.check(frame))
        assert frame.height == manifest["row_counts"][name], (folder.name, name)
        assert not frame.select(table.key).is_duplicated().any(), f"{folder.name}: duplicate keys in {name}"


def snapshot_contents(folder: Path) -> dict[str, pl.DataFrame]:
    """Every published table of a snapshot, without run-specific columns, sorted by its key."""
    out = {}
    for name, table in PUBLISHED_TABLES.items():
        frame = pl.read_parquet(sorted((folder / name).glob("*.parquet")))
        out[name] = frame.select([c for c in table.names if c not in RUN_COLUMNS]).sort(list(table.key))
    return out


def raw_digests(output: Path) -> set[str]:
    """Digests held by the raw layer (content-addressed files, temporaries excluded)."""
    raw = output / "raw"
    return {p.name for p in raw.glob("??/*") if not p.name.startswith(".")} if raw.exists() else set()


def copy_tree(src: Path, dst: Path) -> Path:
    """Copy a folder (symlinks kept as links)."""
    shutil.copytree(src, dst, symlinks=True)
    return dst
