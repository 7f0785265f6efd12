"""`newsgraph run` without a configured API starts its own Prefect API first and never leaves it behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flows.private_api import configured_api_url, served_api_url
from flows.serve import served_api_file

pytestmark = [pytest.mark.e2e]

NEWSGRAPH = Path(sys.executable).with_name("newsgraph")
SERVER_MARK = "prefect.server.api.server:create_app"


def _servers_of(home: Path) -> list[int]:
    """Pids of API server processes whose PREFECT_HOME is `home`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if SERVER_MARK.encode() in cmdline and f"PREFECT_HOME={home}".encode() in environ.split(b"\0"):
            found.append(int(proc.name))
    return found


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSGRAPH_"))}
    return {**env, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def _wait_gone(home: Path, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (alive := _servers_of(home)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_run_starts_its_own_api_publishes_and_stops_it(seed_copy: Path, tmp_path: Path):
    home = tmp_path / "prefect-home"
    done = subprocess.run(
        [str(NEWSGRAPH), "run", "--sources", "sources.toml", "--output", "output"],
        cwd=seed_copy,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "published" in done.stdout
    # The run's logs reached the API before it stopped: no "Error logging to API" at exit.
    assert "Error logging to API" not in done.stderr
    assert (home / "prefect.db").exists()  # the API's database lives under the run's PREFECT_HOME
    assert (seed_copy / "output" / "current").is_symlink()
    assert _wait_gone(home, 10) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal and /proc are Linux")
def test_api_server_dies_with_a_run_killed_outright(tmp_path: Path):
    home = tmp_path / "prefect-home"
    code = (
        "import sys, time\n"
        "from flows.private_api import PrivateApi\n"
        "api = PrivateApi()\n"
        "print(api.process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        env=_env(home),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        assert server_pid in _servers_of(home)
        parent.send_signal(signal.SIGKILL)  # no atexit, no finally: only the kernel can tell the server
        parent.wait(timeout=10)
        assert _wait_gone(home, 20) == []
    finally:
        parent.kill()
        for pid in _servers_of(home):
            os.kill(pid, signal.SIGKILL)


def test_a_configured_api_is_used_instead(tmp_path: Path):
    assert configured_api_url({"PREFECT_API_URL": "http://10.0.0.5:4200/api"}) == "http://10.0.0.5:4200/api"
    home = tmp_path / "home"
    home.mkdir()
    assert configured_api_url({"PREFECT_HOME": str(home)}) is None
    (home / "profiles.toml").write_text(
        'active = "shared"\n[profiles.shared]\nPREFECT_API_URL = "http://prefect.internal:4200/api"\n'
        "[profiles.local]\n",
        encoding="utf-8",
    )
    assert configured_api_url({"PREFECT_HOME": str(home)}) == "http://prefect.internal:4200/api"
    assert configured_api_url({"PREFECT_HOME": str(home), "PREFECT_PROFILE": "local"}) is None


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.path == "/api/health"
        self.send_response(200 if ok else 404)
        self.end_headers()
        self.wfile.write(b"true" if ok else b"")

    def log_message(self, *_args: object) -> None:
        pass


def test_the_api_of_a_newsgraph_serve_on_the_same_home_is_found_while_it_answers(tmp_path: Path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api"
    record = served_api_file(tmp_path)
    try:
        assert served_api_url(tmp_path) is None  # no `newsgraph serve` recorded

        record.write_text(json.dumps({"api_url": url, "pid": os.getpid()}), encoding="utf-8")
        assert served_api_url(tmp_path) == url

        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
        record.write_text(json.dumps({"api_url": url, "pid": int(dead.stdout)}), encoding="utf-8")
        assert served_api_url(tmp_path) is None  # its process is gone (killed outright: the record stayed)

        record.write_text(json.dumps({"api_url": url, "pid": os.getpid()}), encoding="utf-8")
    finally:
        server.shutdown()
        server.server_close()
    assert served_api_url(tmp_path) is None  # alive, but nothing answers on its port
    record.write_text("{not json", encoding="utf-8")
    assert served_api_url(tmp_path) is None
