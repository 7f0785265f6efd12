"""`newsgraph serve` in a subprocess over a copy of the seeds: a real Prefect server, UI and served deployment.

Shared by the server end-to-end test and the browser test through the session fixture `served_pipeline`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from flows.serve import free_port

FLOW = "newsgraph-nightly"
DEPLOYMENT = "nightly"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


# What Prefect's own client retries: the server answers 503 while SQLite is busy with a running flow's writes.
_RETRY_STATUS = {httpx.codes.SERVICE_UNAVAILABLE, httpx.codes.TOO_MANY_REQUESTS}


def api_request(method: str, url: str, *, json: dict[str, Any] | None = None, attempts: int = 6) -> httpx.Response:
    """One API request, retried with backoff on the answers Prefect's client retries too."""
    for attempt in range(attempts):
        response = httpx.request(method, url, json=json, timeout=30)
        if response.status_code not in _RETRY_STATUS or attempt == attempts - 1:
            return response
        time.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Served:
    """Where the served pipeline lives: API, UI, deployment, working directory and logs."""

    api_url: str
    ui_url: str
    deployment_id: str
    workdir: Path
    log: Path

    def get(self, path: str) -> Any:
        response = api_request("GET", f"{self.api_url}{path}")
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return api_request("POST", f"{self.api_url}{path}", json=body)

    def create_run(self, **parameters: Any) -> str:
        """Start a run of the deployment through the API; its id."""
        response = self.post(f"/deployments/{self.deployment_id}/create_flow_run", {"parameters": parameters})
        response.raise_for_status()
        return str(response.json()["id"])

    def wait(self, flow_run_id: str, timeout: float = 900) -> dict[str, Any]:
        """The flow run once it is in a final state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run: dict[str, Any] = self.get(f"/flow_runs/{flow_run_id}")
            # A failed attempt waiting for its retry (the deployed flow retries after 15 min) counts as final here.
            if run["state_type"] in FINAL or run["state_name"] == "AwaitingRetry":
                return run
            time.sleep(1)
        raise TimeoutError(f"flow run {flow_run_id} not finished after {timeout} s; see {self.log}")

    def log_tail(self, chars: int = 6000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


def _wait_for_deployment(api_url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"newsgraph serve exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            response = httpx.get(f"{api_url}/deployments/name/{FLOW}/{DEPLOYMENT}", timeout=5)
            if response.status_code == httpx.codes.OK:
                return str(response.json()["id"])
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise TimeoutError(f"deployment not served after {timeout} s:\n{log.read_text()[-4000:]}")


@contextmanager
def serve_pipeline(workdir: Path, seeds: Path, artifacts: Path | None = None) -> Iterator[Served]:
    """Run `newsgraph serve` with `workdir` as working directory (sources.toml over a copy of `seeds`).

    Its log is copied to `artifacts` at the end, for CI.
    """
    shutil.copytree(seeds, workdir / "seeds")
    (workdir / "sources.toml").write_text(
        f'[[sources]]\nkind = "directory"\nname = "seeds"\npath = "{workdir / "seeds"}"\n', encoding="utf-8"
    )
    port = free_port()
    log = workdir / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",  # pick up UI- and API-created runs within seconds
            "PYTHONUNBUFFERED": "1",
        }
    )
    command = [
        str(Path(sys.executable).with_name("newsgraph")),
        "serve",
        "--port",
        str(port),
        "--home",
        str(workdir / "prefect-home"),
    ]
    with log.open("wb") as out:
        # Own process group: teardown can stop the server and the flow-run subprocesses the runner started.
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            api_url = f"http://127.0.0.1:{port}/api"
            deployment_id = _wait_for_deployment(api_url, process, log, timeout=240)
            yield Served(api_url, f"http://127.0.0.1:{port}", deployment_id, workdir, log)
        finally:
            process.send_signal(signal.SIGINT)  # like Ctrl-C: newsgraph serve stops its runner, then its server
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                out.write(b"\n[test teardown] newsgraph serve ignored SIGINT for 30 s; killing its process group\n")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            if artifacts is not None:
                artifacts.mkdir(exist_ok=True)
                shutil.copy(log, artifacts / "serve.log")
