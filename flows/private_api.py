"""A private Prefect API for one `newsgraph run`, started before Prefect is imported.

Without PREFECT_API_URL, Prefect starts an ephemeral API itself, but only when the flow is called: the CLI first
imports `prefect.server.api.server` just to get the class that starts it (about 4 s), then waits for the subprocess
to import the same modules again. Starting the same server (uvicorn with Prefect's app factory, SQLite under
PREFECT_HOME, no UI) as the first thing the CLI does lets it come up on the second core while this process imports
the flow, and the CLI never imports the server at all. Measured figures are in docs/performance.md.
"""

from __future__ import annotations

import functools
import json
import os
import random
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.serve import prefect_home, served_api_file, server_env, wait_healthy

_STOP_SECONDS = 5.0
_POLL_SECONDS = 0.1
_PORT_IN_USE = 3  # uvicorn's exit code when it cannot bind
# Below Linux's ephemeral range (32768+): the port stays free while the server imports, instead of being handed to
# some outgoing connection in the meantime.
_PORTS = range(20000, 30000)


def _choose_port() -> int:
    for _ in range(50):
        port = random.choice(_PORTS)  # noqa: S311 - not security
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for the Prefect API server")


def configured_api_url(environ: dict[str, str] | None = None) -> str | None:
    """The API URL the user configured (environment, or the active Prefect profile), if any."""
    env = os.environ if environ is None else environ
    if url := env.get("PREFECT_API_URL"):
        return url
    home = prefect_home(env)
    profiles = Path(env.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(profiles.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = env.get("PREFECT_PROFILE") or data.get("active")
    url = (data.get("profiles") or {}).get(active, {}).get("PREFECT_API_URL")
    return str(url) if url else None


def served_api_url(home: Path | None = None) -> str | None:
    """The API of a `newsgraph serve` running on this PREFECT_HOME, if its process is alive and the API answers."""
    try:
        record = json.loads(served_api_file(home).read_text(encoding="utf-8"))
        url, pid = str(record["api_url"]), int(record["pid"])
        os.kill(pid, 0)  # a record left by a server that was killed outright names a dead process
        wait_healthy(url, timeout=1, interval=_POLL_SECONDS)
    except (OSError, ValueError, KeyError, TypeError, TimeoutError):
        return None
    return url


def _die_with_parent() -> Callable[[], object] | None:
    """What the child runs before exec so a run killed outright (OOM killer, SIGKILL) takes its server with it."""
    if sys.platform != "linux":
        return None
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    # Looked up here, in the parent: the child of a threaded process should only make the system call.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    return functools.partial(prctl, pr_set_pdeathsig, signal.SIGTERM)


class PrivateApi:
    """A Prefect API subprocess on a free 127.0.0.1 port; `wait()` blocks until it answers."""

    def __init__(self) -> None:
        self.port = _choose_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = server_env(self.url, home=None)
        # What Prefect's own ephemeral server sets: API only, and the server knows it is a short-lived one.
        env.update({"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"})
        command = [
            sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on",
        ]  # fmt: skip
        return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent())  # noqa: PLW1509

    def wait(self, timeout: float) -> str:
        """The API URL once /health answers; raise if the server exits or stays silent for `timeout` seconds.

        The URL differs from the first one only when the port was taken meanwhile: callers that imported Prefect
        already must apply it with `prefect.settings.temporary_settings`.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                wait_healthy(
                    self.url, timeout=deadline - time.monotonic(), process=self.process, interval=_POLL_SECONDS
                )
            except RuntimeError:
                if self.process.returncode != _PORT_IN_USE:
                    raise
                # Someone took the port between choosing and binding it.
                self.port = _choose_port()
                self.url = os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{self.port}/api"
                self.process = self._spawn()
            except TimeoutError:
                self.stop()
                raise
            else:
                return self.url

    def stop(self) -> None:
        """Terminate the server (it holds nothing a later run needs: the database is under PREFECT_HOME)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def private_api() -> Iterator[PrivateApi | None]:
    """Start a private API unless one is configured or served; PREFECT_API_URL points at it inside the block.

    Yields None when the run reports to a server that outlives it: the configured one, or that of a
    `newsgraph serve` on the same PREFECT_HOME (the run then shows in its UI, and the database has one server).
    """
    if configured_api_url() is not None:
        yield None
        return
    if (served := served_api_url()) is not None:
        os.environ["PREFECT_API_URL"] = served
        try:
            yield None
        finally:
            os.environ.pop("PREFECT_API_URL", None)
        return
    api = PrivateApi()
    os.environ["PREFECT_API_URL"] = api.url
    try:
        yield api
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        api.stop()
