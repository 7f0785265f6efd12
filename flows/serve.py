"""The single-machine path: a local Prefect server with its UI, and the deployments of prefect.yaml served here.

`newsgraph serve` = `local_server(...)` (a `prefect server start` subprocess on 127.0.0.1, SQLite, analytics off)
+ `serve_deployments(...)` (a Prefect runner in this process that polls for scheduled and UI-triggered runs and
executes each in a subprocess). Prefect itself is imported only after the API address is known, so the runner and
the flow-run subprocesses it starts all talk to that server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PREFECT_YAML = ROOT / "prefect.yaml"
# Written into PREFECT_HOME while `newsgraph serve` runs: a `newsgraph run` on the same home reports to that server.
SERVED_API_FILE = "newsgraph-serve.json"


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    """One deployment of prefect.yaml, as `newsgraph serve` applies it."""

    name: str
    entrypoint: str
    description: str | None = None
    tags: tuple[str, ...] = ()
    schedules: tuple[Mapping[str, Any], ...] = ()
    concurrency_limit: Mapping[str, Any] | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    enforce_parameter_schema: bool = True

    def entrypoint_path(self, base: Path) -> str:
        """The entrypoint with its file made absolute, so runs work from any working directory."""
        file, _, name = self.entrypoint.rpartition(":")
        return f"{(base / file).resolve()}:{name}"


def load_deployment_specs(path: Path = PREFECT_YAML) -> list[DeploymentSpec]:
    """The deployments declared in prefect.yaml."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    specs = []
    for entry in data.get("deployments") or []:
        limit = entry.get("concurrency_limit")
        specs.append(
            DeploymentSpec(
                name=entry["name"],
                entrypoint=entry["entrypoint"],
                description=entry.get("description"),
                tags=tuple(entry.get("tags") or ()),
                schedules=tuple(entry.get("schedules") or ()),
                concurrency_limit={"limit": limit} if isinstance(limit, int) else limit,
                parameters=dict(entry.get("parameters") or {}),
                enforce_parameter_schema=bool(entry.get("enforce_parameter_schema", True)),
            )
        )
    return specs


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def server_env(api_url: str, home: Path | None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment of a local Prefect server: SQLite under PREFECT_HOME, no analytics, no outbound calls."""
    env = dict(os.environ if environ is None else environ)
    if home is not None:
        env["PREFECT_HOME"] = str(home)
    env.pop("PREFECT_API_URL", None)  # the server must not try to talk to another API
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["PREFECT_UI_API_URL"] = api_url  # the UI otherwise calls the default port 4200
    env.setdefault("PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT", "false")
    return env


def prefect_home(environ: Mapping[str, str] | None = None) -> Path:
    """PREFECT_HOME as Prefect resolves it (default ~/.prefect)."""
    env = os.environ if environ is None else environ
    return Path(env.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def served_api_file(home: Path | None = None) -> Path:
    """Where a `newsgraph serve` on `home` (default: PREFECT_HOME) records its API while it runs."""
    return (home if home is not None else prefect_home()) / SERVED_API_FILE


def _record_served_api(path: Path, api_url: str, pid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"api_url": api_url, "pid": pid}), encoding="utf-8")
    os.replace(tmp, path)


def _forget_served_api(path: Path, pid: int) -> None:
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass  # gone already, or another server's record


def wait_healthy(
    api_url: str, *, timeout: float, process: subprocess.Popen[bytes] | None = None, interval: float = 0.5
) -> None:
    """Return once `api_url`/health answers; raise if the server exits or does not answer within `timeout` s."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"Prefect server exited with code {process.returncode} before answering")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == httpx.codes.OK:
                return
        except httpx.TransportError:
            pass
        time.sleep(interval)
    raise TimeoutError(f"Prefect server at {api_url} did not answer within {timeout:.0f} s")


@contextmanager
def local_server(
    *,
    host: str = "127.0.0.1",
    port: int = 4200,
    home: Path | None = None,
    log: Path | None = None,
    timeout: float = 120,
) -> Iterator[str]:
    """Run `prefect server start` (API and UI) while the block runs; yields the API URL.

    While it answers, its address is recorded in PREFECT_HOME (`served_api_file`), so `newsgraph run` on the same
    home reports to it (the run shows in this UI) instead of starting a second server on the same database.
    """
    prefect = Path(sys.executable).with_name("prefect")
    command = [str(prefect), "server", "start", "--host", host, "--port", str(port)]
    api_url = f"http://{host}:{port}/api"
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(command, env=server_env(api_url, home), stdout=out, stderr=subprocess.STDOUT)
        record = served_api_file(home)
        try:
            wait_healthy(api_url, timeout=timeout, process=process)
            _record_served_api(record, api_url, process.pid)
            yield api_url
        finally:
            _forget_served_api(record, process.pid)
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        if log is not None and not isinstance(out, int):
            out.close()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def interrupt_on_sigterm() -> None:
    """Treat SIGTERM (systemd, docker stop) like Ctrl-C, so the runner and the local server shut down cleanly."""
    import signal

    signal.signal(signal.SIGTERM, _interrupt)
    # A process started in the background by a non-interactive shell inherits SIGINT as ignored; Ctrl-C and
    # `kill -INT` must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def runner_deployments(specs: list[DeploymentSpec], *, base: Path = ROOT) -> list[Any]:
    """Prefect RunnerDeployments for `specs` (imports Prefect: call after PREFECT_API_URL is set)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Cron, Interval

    deployments = []
    for spec in specs:
        schedules = []
        for item in spec.schedules:
            common = {"timezone": item.get("timezone"), "active": item.get("active", True)}
            if "cron" in item:
                schedules.append(Cron(item["cron"], **common))
            elif "interval" in item:
                schedules.append(Interval(item["interval"], **common))
            else:
                raise ValueError(f"deployment {spec.name}: only cron and interval schedules are supported here")
        limit = None
        if spec.concurrency_limit is not None:
            strategy = spec.concurrency_limit.get("collision_strategy", "ENQUEUE")
            limit = ConcurrencyLimitConfig(
                limit=int(spec.concurrency_limit["limit"]), collision_strategy=ConcurrencyLimitStrategy(strategy)
            )
        deployments.append(
            RunnerDeployment.from_entrypoint(
                entrypoint=spec.entrypoint_path(base),
                name=spec.name,
                description=spec.description,
                tags=list(spec.tags),
                schedules=schedules,
                concurrency_limit=limit,
                parameters=dict(spec.parameters),
                enforce_parameter_schema=spec.enforce_parameter_schema,
            )
        )
    return deployments


def serve_deployments(specs: list[DeploymentSpec], *, api_url: str | None = None) -> None:
    """Register `specs` with the Prefect API and execute their runs until interrupted."""
    if api_url is not None:
        os.environ["PREFECT_API_URL"] = api_url
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect import serve

    serve(*runner_deployments(specs), print_starting_message=True)
