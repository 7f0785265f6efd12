"""End-to-end pipeline benchmark: corpus -> `newsgraph run` in a subprocess -> figures per size and step.

    .venv/bin/python bench/pipeline_benchmark.py                   # 1k and 10k
    .venv/bin/python bench/pipeline_benchmark.py --sizes 100000    # the 100k run (takes a while; use nice)
    .venv/bin/python bench/pipeline_benchmark.py --profile 10000   # pyinstrument profile of the steps, no Prefect

For each size it builds (or reuses) a corpus with bench/corpus.py, then runs the real CLI (`flows.cli.main`, what
`.venv/bin/newsgraph run` calls) in a child process with its own PREFECT_HOME and an ephemeral Prefect API, exactly
as a first nightly run on a fresh output folder; then runs it again with nothing new (the incremental rerun).
The child wraps every `tasks.steps.stage_*` function, `write_manifest` and the SnapshotStore's publish/prune calls in
timers (no edit to the project), so "time inside step functions" is measured, not estimated; Prefect orchestration
overhead is the wall time during which no step function was running (interpreter and Prefect start-up, task
submission, state round trips to the API, flow teardown).

Figures per size: wall time, articles/s, seconds per step (wall, summed over task runs, and CPU of that thread),
overhead (start-up / between steps / tail), peak resident memory of the whole process tree (sampled every 0.1 s)
and of the largest single process, CPU seconds of the tree, output size, and how busy the rest of the machine was
during the run (other processes' average cores), since this 2-core machine is shared. Results go to
bench/results/pipeline-<size>.json; `--help` start-up time is measured once per invocation.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from pyinstrument.frame import Frame

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "bench" / "corpus"
PYTHON = ROOT / ".venv" / "bin" / "python"
NEWSGRAPH = ROOT / ".venv" / "bin" / "newsgraph"
CHILD_FLAG = "--_child-timings"
P = ParamSpec("P")
R = TypeVar("R")

# Targets of issue 9, on this 2-core / 24 GB machine.
TARGETS = {
    "articles_per_s_at_10k": 300.0,
    "overhead_pct_at_10k": 10.0,
    "ratio_100k_over_10k": 11.0,
    "peak_rss_mb_at_100k": 2048.0,
    "nothing_new_s": 20.0,
    "help_s": 1.0,
}


# --------------------------------------------------------------------------------------------- child process side


def _child(timings_path: str, argv: list[str]) -> int:
    """Run the CLI with every step function timed.

    Each interval is appended to `<timings_path>.steps.jsonl` as it ends, by the step functions themselves
    (`tasks.steps.timed`, switched on by NEWSGRAPH_STEP_TIMINGS, which worker processes of the `processes` runner
    and local Dask workers inherit); a remote Dask cluster's workers do not see it. Process-level marks go to
    `timings_path` at exit.
    """
    started = time.time()
    sys.path.insert(0, str(ROOT))
    import atexit
    import resource
    from contextlib import contextmanager

    import flows.private_api

    steps_file = Path(timings_path + ".steps.jsonl")
    steps_file.unlink(missing_ok=True)
    marks: dict[str, float] = {}

    # The step functions time themselves into this file (tasks.steps.timed, switched on by this variable), in this
    # process and in process-pool workers alike.
    os.environ["NEWSGRAPH_STEP_TIMINGS"] = str(steps_file)
    real_private_api = flows.private_api.private_api

    @contextmanager
    def private_api() -> Iterator[Any]:
        # The store's methods are timed here, once the CLI has started its API server: importing the project
        # (polars, pydantic) before that would delay the server's start as the real command never does.
        with real_private_api() as api:
            import tasks.steps as steps_module
            from tasks.publish import SnapshotStore

            for method in ("publish", "prune", "clear_staging", "quarantine"):
                if hasattr(SnapshotStore, method):
                    setattr(SnapshotStore, method, steps_module.timed("publish")(getattr(SnapshotStore, method)))
            yield api

    flows.private_api.private_api = private_api
    imported = time.time()

    def dump() -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        data = {
            "process_start": started,
            "harness_imported": imported,
            "exit": time.time(),
            **marks,
            "cpu_self_s": usage.ru_utime + usage.ru_stime,
        }
        Path(timings_path).write_text(json.dumps(data), encoding="utf-8")

    atexit.register(dump)
    import flows.cli

    real_main = flows.cli.main

    def main(args: Sequence[str] | None = None) -> int:
        try:
            return real_main(args)
        finally:
            marks["cli_returned"] = time.time()

    flows.cli.main = main
    flows.cli.entry(argv)  # what the `newsgraph` script runs, exit included


# --------------------------------------------------------------------------------------------- parent side


def _tree_rss(pid: int) -> int:
    import psutil  # type: ignore[import-untyped]

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def _cpu_busy() -> tuple[float, float]:
    """Machine-wide busy and total CPU seconds since boot, from /proc/stat."""
    try:
        fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return (sum(fields) - idle) / tick, sum(fields) / tick


@dataclass(slots=True)
class Measured:
    """One measured subprocess run."""

    command: list[str]
    returncode: int
    wall_s: float
    start: float
    end: float
    tree_cpu_s: float
    peak_tree_rss_mb: float
    max_process_rss_mb: float
    other_cores: float
    log_tail: str
    timings: dict[str, Any] = field(default_factory=dict)
    samples: list[tuple[float, int]] = field(default_factory=list)


def measure(cmd: list[str], *, env: dict[str, str], log: Path, timings: Path | None = None) -> Measured:
    """Run `cmd`, sampling the RSS of its process tree; return wall time, CPU, memory and machine load."""
    busy0, total0 = _cpu_busy()
    start = time.time()
    with log.open("w", encoding="utf-8") as out:
        # Own session: an interrupted benchmark can stop the whole run (CLI, its API server) by process group.
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        samples: list[tuple[float, int]] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append((time.time(), _tree_rss(proc.pid)))
                done.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # wait4 returns the child's resource usage including the descendants it waited for (the Prefect server).
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            os.killpg(proc.pid, signal.SIGTERM)
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        end = time.time()
        done.set()
        sampler.join()
    busy1, total1 = _cpu_busy()
    wall = end - start
    cpu = usage.ru_utime + usage.ru_stime
    ncpu = os.cpu_count() or 1
    # Machine-wide busy CPU minus our tree's, as average cores; total ticks advance ncpu per second.
    elapsed_cores = (total1 - total0) / ncpu if total1 > total0 else wall
    other = max(0.0, (busy1 - busy0) - cpu) / elapsed_cores if elapsed_cores else 0.0
    tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:])
    data = json.loads(timings.read_text(encoding="utf-8")) if timings and timings.exists() else {}
    steps_file = Path(f"{timings}.steps.jsonl") if timings else None
    if steps_file and steps_file.exists():
        lines = steps_file.read_text(encoding="utf-8").splitlines()
        data["intervals"] = [json.loads(line) for line in lines if line.strip()]
    return Measured(
        cmd,
        proc.returncode,
        wall,
        start,
        end,
        cpu,
        max((rss for _, rss in samples), default=0) / 2**20,
        usage.ru_maxrss / 1024,
        other,
        tail,
        data,
        samples,
    )


def _union(spans: list[tuple[float, float]]) -> float:
    total, cur_start, cur_end = 0.0, None, None
    for s, e in sorted(spans):
        if cur_end is None or s > cur_end:
            if cur_end is not None and cur_start is not None:
                total += cur_end - cur_start
            cur_start, cur_end = s, e
        else:
            cur_end = max(cur_end, e)
    if cur_end is not None and cur_start is not None:
        total += cur_end - cur_start
    return total


def _peak_during(samples: list[tuple[float, int]], spans: list[tuple[float, float]]) -> float | None:
    """Highest sampled tree RSS (MB) while any of `spans` was running: which step holds the memory."""
    inside = [rss for t, rss in samples if any(s <= t <= e for s, e in spans)]
    return round(max(inside) / 2**20, 1) if inside else None


def step_breakdown(m: Measured) -> dict[str, Any]:
    """Per-step seconds and the orchestration overhead (wall time with no step function running)."""
    intervals = m.timings.get("intervals", [])
    steps: dict[str, dict[str, float]] = {}
    for it in intervals:
        s = steps.setdefault(it["step"], {"calls": 0, "sum_s": 0.0, "cpu_s": 0.0, "spans": []})  # type: ignore[dict-item]
        s["calls"] += 1
        s["sum_s"] += it["end"] - it["start"]
        s["cpu_s"] += it["cpu"]
        s["spans"].append((it["start"], it["end"]))  # type: ignore[attr-defined]
    per_step = {
        name: {
            "calls": int(s["calls"]),
            "peak_tree_rss_mb": _peak_during(m.samples, s["spans"]),  # type: ignore[arg-type]
            "wall_s": round(_union(s["spans"]), 3),  # type: ignore[arg-type]
            "sum_s": round(s["sum_s"], 3),
            "cpu_s": round(s["cpu_s"], 3),
        }
        for name, s in steps.items()
    }
    spans = [(it["start"], it["end"]) for it in intervals]
    inside = _union(spans)
    first = min((s for s, _ in spans), default=m.end)
    last = max((e for _, e in spans), default=m.end)
    startup = first - m.start
    tail = m.end - last if spans else 0.0
    child_start = m.timings.get("process_start")
    returned = m.timings.get("cli_returned")
    return {
        "steps": per_step,
        "inside_steps_s": round(inside, 3),
        "overhead_s": round(m.wall_s - inside, 3),
        "overhead_pct": round(100 * (m.wall_s - inside) / m.wall_s, 1) if m.wall_s else None,
        "overhead_parts_s": {
            "interpreter_start": round(child_start - m.start, 3) if child_start else None,
            "startup_to_first_step": round(startup, 3),
            "between_steps": round(m.wall_s - inside - startup - tail, 3),
            "after_last_step": round(tail, 3),
            "of_which_process_exit": round(m.end - returned, 3) if returned and spans else None,
        },
    }


def dir_bytes(path: Path) -> int:
    """Bytes under `path`, hard-linked files counted once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                st = Path(dirpath, name).lstat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def venv_has_bytecode() -> bool:
    """Whether the installed packages were byte-compiled (`uv sync --compile-bytecode`, or imports wrote .pyc)."""
    import prefect

    return any(Path(prefect.__file__).parent.glob("__pycache__/*.pyc"))


def child_env(prefect_home: Path, api_url: str | None, pycache: Path | None = None) -> dict[str, str]:
    """Environment of the measured runs: an isolated Prefect home, no analytics, no progress bars."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSGRAPH_"))}
    if pycache is not None:
        # Bytecode in a side folder: an installed package's .pyc, without writing into the shared venv.
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        {
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",
            "TQDM_DISABLE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def run_command(timings: Path, sources: Path, output: Path, extra: Sequence[str]) -> list[str]:
    """The measured command: the real CLI, with step timers, in a fresh interpreter."""
    return [
        str(PYTHON),
        str(Path(__file__).resolve()),
        CHILD_FLAG,
        str(timings),
        "run",
        "--sources",
        str(sources),
        "--output",
        str(output),
        *extra,
    ]


def summarise(m: Measured, size: int, output: Path) -> dict[str, Any]:
    """The figures of one pipeline run."""
    current = output / "current"
    manifest: dict[str, Any] = {}
    if (current / "manifest.json").exists():
        manifest = json.loads((current / "manifest.json").read_text(encoding="utf-8"))
    breakdown = step_breakdown(m)
    result = {
        "ok": m.returncode == 0,
        "returncode": m.returncode,
        # Exit code 2 is a snapshot the gate quarantined: every step ran, so the timings still count.
        "completed": m.returncode in (0, 2) and "validate" in breakdown["steps"],
        "wall_s": round(m.wall_s, 3),
        "articles_per_s": round(size / m.wall_s, 1) if m.wall_s else None,
        **breakdown,
        "tree_cpu_s": round(m.tree_cpu_s, 2),
        # Load-independent companion of articles/s: what the run cost, whatever else the machine was doing.
        "articles_per_cpu_s": round(size / m.tree_cpu_s, 1) if m.tree_cpu_s else None,
        "peak_tree_rss_mb": round(m.peak_tree_rss_mb, 1),
        "max_process_rss_mb": round(m.max_process_rss_mb, 1),
        "other_processes_cores": round(m.other_cores, 2),
        "snapshot_bytes": dir_bytes(current.resolve()) if current.exists() else None,
        "raw_bytes": dir_bytes(output / "raw") if (output / "raw").exists() else None,
        "output_bytes": dir_bytes(output) if output.exists() else None,
        "row_counts": manifest.get("row_counts"),
        "manifest_timings": manifest.get("timings"),
        "manifest_seconds": manifest.get("seconds"),
    }
    if m.returncode != 0:
        result["log_tail"] = m.log_tail
    return result


def warm_bytecode(pycache: Path) -> None:
    """Compile the modules a run imports into the prefix cache (what an install with compiled bytecode has)."""
    env = child_env(WORK / "pycache-home", None, pycache)
    modules = "flows.nightly, prefect.server.api.server, great_expectations, tasks.clean, tasks.extract, tasks.fetch"
    subprocess.run([str(PYTHON), "-c", f"import {modules}"], env=env, cwd=ROOT, capture_output=True, check=False)


def help_time(runs: int = 5) -> dict[str, float]:
    """Wall seconds of `newsgraph --help` (median and max of `runs`)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([str(NEWSGRAPH), "--help"], capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3), "runs": runs}


def conditions(label: str | None) -> dict[str, Any]:
    """What the figures depend on: machine, load, code version."""

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT, check=False)
        return out.stdout.strip()

    return {
        "label": label,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "git_commit": git("rev-parse", "--short=12", "HEAD"),
        "git_dirty_files": len(git("status", "--porcelain").splitlines()),
        "nice": os.nice(0),
    }


def bench_size(size: int, args: argparse.Namespace, help_figures: dict[str, float]) -> dict[str, Any]:
    """Build the corpus of `size`, run the pipeline, rerun with nothing new; return the figures."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import corpus as corpus_builder

    info = corpus_builder.build(size, args.corpus_dir, fmt=args.format)
    print(f"[{size}] corpus {info.path} ({info.format}, {info.bytes / 2**20:.1f} MiB, built in {info.seconds}s)")
    work = args.corpus_dir / "runs" / str(size)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    output = work / "output"
    env = child_env(work / "prefect-home", args.api_url, args.pycache_dir)
    server = None
    if args.prefect == "server" and not args.api_url:
        server = PrefectServer(work / "prefect-home", env, work / "server.log")
        env["PREFECT_API_URL"] = server.start()
        print(f"[{size}] Prefect server at {env['PREFECT_API_URL']} (started in {server.startup_s:.1f}s)", flush=True)
        warm_s = warm_server(env, work / "warm-up")
        print(f"[{size}] server warmed by a seeds run ({warm_s:.1f}s, not measured)", flush=True)
    prefect_home_init_s = None
    if server is None and not args.api_url and not args.fresh_prefect_home:
        prefect_home_init_s = init_prefect_home(env)
        print(f"[{size}] Prefect home created (database and migrations) in {prefect_home_init_s:.1f}s", flush=True)
    sources = Path(info.path) / "sources.toml"
    extra = ["--batch-size", str(args.batch_size)] if args.batch_size else []
    extra += shlex.split(args.run_args or "")
    figures: dict[str, Any] = {
        "size": size,
        "conditions": conditions(args.label),
        "corpus": asdict(info),
        "batch_size": args.batch_size or _default_batch_size(),
        "run_args": extra,
        "help": help_figures,
    }
    figures["conditions"]["prefect_api"] = args.api_url or args.prefect
    figures["conditions"]["bytecode"] = "prefix cache" if args.pycache_dir else "as installed"
    figures["conditions"]["prefect_home"] = "fresh" if prefect_home_init_s is None else "initialised before the run"
    figures["conditions"]["prefect_home_init_s"] = prefect_home_init_s
    try:
        _runs(figures, size, args, env=env, work=work, sources=sources, output=output, extra=extra, server=server)
    finally:
        if server is not None:
            server.stop()
    figures["conditions"]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    if not args.keep_output:
        shutil.rmtree(output, ignore_errors=True)
    if not args.keep_corpus:
        shutil.rmtree(info.path, ignore_errors=True)
    return figures


def init_prefect_home(env: dict[str, str]) -> float:
    """Start and stop the API once on the run's PREFECT_HOME, as every nightly run but the first finds it.

    The first start on an empty home creates the database and runs every migration (seconds); a scheduled job pays
    that once in its life, so the measured runs do not. `--fresh-prefect-home` measures the first run instead.
    """
    code = "from flows.private_api import PrivateApi; api = PrivateApi(); api.wait(300); api.stop()"
    started = time.perf_counter()
    subprocess.run([str(PYTHON), "-c", code], env=env, cwd=ROOT, check=True)
    return round(time.perf_counter() - started, 2)


def warm_server(env: dict[str, str], output: Path) -> float:
    """One unmeasured run of the seed articles against the server, as a served deployment's server has seen before.

    A fresh server's first flow run pays for the flow's registration and for the server's first queries (about
    0.7 s more start-up than the second run on this machine); the server of a nightly deployment has served many.
    """
    started = time.perf_counter()
    subprocess.run(
        [str(PYTHON), "-m", "flows.cli", "run", "--output", str(output)],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    shutil.rmtree(output, ignore_errors=True)
    return round(time.perf_counter() - started, 2)


def _default_batch_size() -> int | None:
    sys.path.insert(0, str(ROOT))
    try:
        from tasks.config import Settings
    except ImportError:
        return None
    return Settings().batch_size


def _runs(
    figures: dict[str, Any],
    size: int,
    args: argparse.Namespace,
    *,
    env: dict[str, str],
    work: Path,
    sources: Path,
    output: Path,
    extra: list[str],
    server: PrefectServer | None,
) -> None:
    """The full run and the nothing-new rerun, added to `figures`."""
    print(f"[{size}] full run ...", flush=True)
    cpu0 = server.cpu_s() if server else 0.0
    full = measure(
        run_command(work / "full.json", sources, output, extra),
        env=env,
        log=work / "full.log",
        timings=work / "full.json",
    )
    figures["full"] = summarise(full, size, output)
    if server:
        figures["full"]["server_cpu_s"] = round(server.cpu_s() - cpu0, 2)
    print(f"[{size}] full run: {full.wall_s:.1f}s rc={full.returncode}", flush=True)
    if not args.skip_rerun and full.returncode == 0:
        print(f"[{size}] nothing-new rerun ...", flush=True)
        cpu0 = server.cpu_s() if server else 0.0
        again = measure(
            run_command(work / "rerun.json", sources, output, extra),
            env=env,
            log=work / "rerun.log",
            timings=work / "rerun.json",
        )
        rerun = summarise(again, size, output)
        rerun["nothing_new"] = "nothing new" in (work / "rerun.log").read_text(encoding="utf-8", errors="replace")
        if server:
            rerun["server_cpu_s"] = round(server.cpu_s() - cpu0, 2)
        keep: tuple[str, ...] = ("ok", "returncode", "wall_s", "nothing_new", "steps", "overhead_parts_s", "tree_cpu_s")
        keep += ("server_cpu_s", "peak_tree_rss_mb", "other_processes_cores", "log_tail")
        figures["rerun"] = {k: rerun[k] for k in keep if k in rerun}


class PrefectServer:
    """A local `prefect server start` for the benchmark's runs (the set-up a served nightly deployment has)."""

    def __init__(self, home: Path, env: dict[str, str], log: Path) -> None:
        self.env = {**env, "PREFECT_HOME": str(home), "PREFECT_UI_ENABLED": "false"}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_s = 0.0

    def start(self, timeout: float = 300.0) -> str:
        """Start the server and return its API URL once /api/health answers."""
        import socket
        import urllib.request

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        url = f"http://127.0.0.1:{port}/api"
        t0 = time.perf_counter()
        with self.log.open("w", encoding="utf-8") as out:
            self.proc = subprocess.Popen(
                [
                    str(ROOT / ".venv" / "bin" / "prefect"),
                    "server",
                    "start",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,  # stop() ends the server's whole process group
            )
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prefect server exited with {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:  # noqa: S310 - our own loopback server
                    if resp.status == 200:
                        self.startup_s = time.perf_counter() - t0
                        return url
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"prefect server did not answer within {timeout}s; see {self.log}")

    def cpu_s(self) -> float:
        """CPU seconds used so far by the server and its children."""
        import psutil

        if self.proc is None:
            return 0.0
        total = 0.0
        try:
            root = psutil.Process(self.proc.pid)
            for p in [root, *root.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            pass
        return total

    def stop(self) -> None:
        """Stop the server (and wait for it)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def result_path(size: int, api: str = "ephemeral") -> Path:
    """bench/results/pipeline-<size>.json for runs that start their own API, -<api>.json for the other set-ups."""
    return RESULTS / (f"pipeline-{size}.json" if api == "ephemeral" else f"pipeline-{size}-{api}.json")


def load_previous(size: int, api: str = "ephemeral") -> dict[str, Any] | None:
    """The last saved figures for `size` in the `api` set-up, if any."""
    path = result_path(size, api)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def verdicts(results: dict[int, dict[str, Any]], api: str = "ephemeral") -> list[dict[str, Any]]:
    """Each target of the issue with its measured figure (from this invocation, else the saved results)."""

    def get(size: int) -> dict[str, Any] | None:
        return results.get(size) or load_previous(size, api)

    out: list[dict[str, Any]] = []

    def add(name: str, value: float | None, limit: float, *, at_least: bool, source: str) -> None:
        ok = None if value is None else (value >= limit if at_least else value <= limit)
        out.append({"target": name, "value": value, "limit": limit, "ok": ok, "from": source})

    ten, hundred = get(10_000), get(100_000)
    if ten and ten["full"].get("completed", ten["full"]["ok"]):
        add("articles/s at 10k", ten["full"]["articles_per_s"], 300.0, at_least=True, source=ten["conditions"]["date"])
        add("overhead % at 10k", ten["full"]["overhead_pct"], 10.0, at_least=False, source=ten["conditions"]["date"])
    if hundred and hundred["full"].get("completed", hundred["full"]["ok"]):
        add(
            "peak tree RSS MB at 100k",
            hundred["full"]["peak_tree_rss_mb"],
            TARGETS["peak_rss_mb_at_100k"],
            at_least=False,
            source=hundred["conditions"]["date"],
        )
        if ten and ten["full"].get("completed", ten["full"]["ok"]):
            ratio = round(hundred["full"]["wall_s"] / ten["full"]["wall_s"], 2)
            add("100k time / 10k time", ratio, 11.0, at_least=False, source="both files")
    largest = max((s for s in results if "rerun" in results[s]), default=None)
    if largest is not None:
        rerun = results[largest]["rerun"]
        add(
            f"nothing-new rerun s ({largest})",
            rerun["wall_s"] if rerun.get("nothing_new") else None,
            20.0,
            at_least=False,
            source="this run",
        )
    if results:
        help_s = next(iter(results.values()))["help"]["max_s"]
        add("--help s (max of 5)", help_s, 1.0, at_least=False, source="this run")
    return out


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _peak_step(full: dict[str, Any]) -> str | None:
    steps = {k: v.get("peak_tree_rss_mb") or 0.0 for k, v in full.get("steps", {}).items()}
    return max(steps, key=lambda k: steps[k]) if steps else None


def table(results: dict[int, dict[str, Any]]) -> str:
    """The figures as a plain-text table, one column per size."""
    sizes = sorted(results)
    steps = sorted({s for r in results.values() for s in r["full"].get("steps", {})})
    rows: list[tuple[str, list[Any]]] = [
        ("wall time (s)", [results[s]["full"]["wall_s"] for s in sizes]),
        ("articles/s", [results[s]["full"]["articles_per_s"] for s in sizes]),
        ("articles per CPU-second", [results[s]["full"].get("articles_per_cpu_s") for s in sizes]),
        ("published (exit code)", [results[s]["full"]["returncode"] for s in sizes]),
    ]
    rows += [
        (f"  {step} (s, wall)", [results[s]["full"]["steps"].get(step, {}).get("wall_s") for s in sizes])
        for step in steps
    ]
    rows += [
        ("inside steps (s)", [results[s]["full"].get("inside_steps_s") for s in sizes]),
        ("overhead (s)", [results[s]["full"].get("overhead_s") for s in sizes]),
        ("overhead (%)", [results[s]["full"].get("overhead_pct") for s in sizes]),
        ("  start-up to 1st step", [results[s]["full"]["overhead_parts_s"]["startup_to_first_step"] for s in sizes]),
        ("  between steps", [results[s]["full"]["overhead_parts_s"]["between_steps"] for s in sizes]),
        ("  after last step", [results[s]["full"]["overhead_parts_s"]["after_last_step"] for s in sizes]),
        ("    of which exit", [results[s]["full"]["overhead_parts_s"].get("of_which_process_exit") for s in sizes]),
        ("tree CPU (s)", [results[s]["full"]["tree_cpu_s"] for s in sizes]),
        ("peak RSS, tree (MB)", [results[s]["full"]["peak_tree_rss_mb"] for s in sizes]),
        ("peak RSS, 1 process (MB)", [results[s]["full"]["max_process_rss_mb"] for s in sizes]),
        ("  step at the peak", [_peak_step(results[s]["full"]) for s in sizes]),
        ("snapshot (MB)", [(results[s]["full"]["snapshot_bytes"] or 0) / 2**20 for s in sizes]),
        ("raw layer (MB)", [(results[s]["full"]["raw_bytes"] or 0) / 2**20 for s in sizes]),
        ("articles published", [(results[s]["full"]["row_counts"] or {}).get("articles") for s in sizes]),
        ("nothing-new rerun (s)", [results[s].get("rerun", {}).get("wall_s") for s in sizes]),
        (
            "  rerun start-up (s)",
            [results[s].get("rerun", {}).get("overhead_parts_s", {}).get("startup_to_first_step") for s in sizes],
        ),
        (
            "  rerun fetch (s)",
            [results[s].get("rerun", {}).get("steps", {}).get("fetch", {}).get("wall_s") for s in sizes],
        ),
        ("other load (cores)", [results[s]["full"]["other_processes_cores"] for s in sizes]),
    ]
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'articles':<{width}}" + "".join(f"{s:>12,}" for s in sizes)]
    lines += [f"{name:<{width}}" + "".join(f"{_fmt(v):>12}" for v in values) for name, values in rows]
    return "\n".join(lines)


def profile_steps(size: int, args: argparse.Namespace) -> int:
    """Profile the step functions in this process (no Prefect, one thread) with pyinstrument; write a report."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import corpus as corpus_builder
    from pyinstrument import Profiler

    info = corpus_builder.build(size, args.corpus_dir, fmt=args.format)
    from tasks import steps
    from tasks.config import load_settings
    from tasks.ids import new_run_id
    from tasks.publish import SnapshotStore

    work = args.corpus_dir / "runs" / f"profile-{size}"
    shutil.rmtree(work, ignore_errors=True)
    settings = load_settings(
        overrides={"output_dir": str(work / "output"), **({"batch_size": args.batch_size} if args.batch_size else {})}
    )
    store = SnapshotStore(settings.output_dir)
    run_id = new_run_id()
    seconds: dict[str, float] = {}

    def timed(step: str, fn: Callable[P, R], *a: P.args, **kw: P.kwargs) -> R:
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            seconds[step] = seconds.get(step, 0.0) + time.perf_counter() - t0

    profiler = Profiler(interval=0.002)
    profiler.start()
    fetched = timed(
        "fetch",
        steps.stage_fetch,
        sources_file=str(Path(info.path) / "sources.toml"),
        settings=settings,
        staging=store.staging(run_id),
        previous=None,
        run_id=run_id,
        full_refresh=False,
        reprocess=False,
    )
    for batch in fetched.batches:
        timed("clean", steps.stage_clean, batch, run_id)
        timed("translate", steps.stage_translate, batch, settings)
        timed("extract", steps.stage_extract, batch)
    timed(
        "assemble",
        steps.stage_assemble,
        output_dir=settings.output_dir,
        run_id=run_id,
        previous=None,
        carry_forward=True,
    )
    timed("validate", steps.stage_validate, store.candidate(run_id))
    session = profiler.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = RESULTS / f"profile-{size}.txt"
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    flat = flat_self_time(session.root_frame())
    total = sum(seconds.values())
    head = [f"pyinstrument profile of the step functions, {size} articles, one thread, no Prefect", ""]
    head += [f"{k:<10} {v:8.2f} s  {100 * v / total:5.1f} %" for k, v in seconds.items()]
    head += ["", "top functions by self time (s):"] + [f"{t:8.2f}  {name}" for name, t in flat[:40]] + ["", ""]
    report.write_text("\n".join(head) + text, encoding="utf-8")
    print("\n".join(head))
    print(f"full call tree: {report}")
    if not args.keep_output:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def flat_self_time(root: Frame | None) -> list[tuple[str, float]]:
    """Functions ranked by self time over the whole profile tree (pyinstrument's "[self]" leaves folded in)."""
    totals: dict[str, float] = {}
    stack = [root] if root is not None else []
    while stack:
        frame = stack.pop()
        real = [c for c in frame.children if not c.is_synthetic]
        key = f"{frame.function}  {frame.file_path_short}:{frame.line_no}"
        totals[key] = totals.get(key, 0.0) + max(frame.time - sum(c.time for c in real), 0.0)
        stack.extend(real)
    return sorted(totals.items(), key=lambda kv: -kv[1])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark for the requested sizes and print/write the figures."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [CHILD_FLAG]:
        return _child(argv[1], argv[2:])
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # progress lines show up when the output goes to a log file
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated corpus sizes (default: %(default)s)")
    parser.add_argument("--format", default="auto", choices=["auto", "jsonl", "txt"], help="corpus record format")
    parser.add_argument("--corpus-dir", type=Path, default=WORK, help="corpora and run folders (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, help="pass --batch-size to the run (default: the settings' value)")
    parser.add_argument(
        "--prefect",
        default="ephemeral",
        choices=["ephemeral", "server"],
        help="ephemeral: `newsgraph run` as typed, with Prefect's temporary API (default); "
        "server: start one local `prefect server` per size first, as a served nightly deployment has",
    )
    parser.add_argument("--api-url", help="run against this already running Prefect API instead")
    parser.add_argument(
        "--run-args",
        help='more `newsgraph run` options, e.g. "--task-runner processes --workers 2" (quote them as one argument)',
    )
    parser.add_argument(
        "--pycache",
        default="auto",
        choices=["auto", "prefix", "none"],
        help="auto: when the venv has no .pyc files (installed without --compile-bytecode, and "
        "PYTHONDONTWRITEBYTECODE set), keep bytecode in bench/corpus/pycache so start-up is not "
        "measured with every import compiled from source; none: measure as installed",
    )
    parser.add_argument("--label", help="free text stored with the results (e.g. 'quiet machine')")
    parser.add_argument("--keep-corpus", action="store_true", help="keep the generated corpora for the next run")
    parser.add_argument("--keep-output", action="store_true", help="keep the pipeline output folders")
    parser.add_argument("--skip-rerun", action="store_true", help="skip the nothing-new rerun")
    parser.add_argument(
        "--fresh-prefect-home",
        action="store_true",
        help="measure the very first run on an empty PREFECT_HOME (database creation included); by default the "
        "home is initialised before the measured runs, as a scheduled job finds it every night but the first",
    )
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/pipeline-<size>*.json")
    parser.add_argument("--profile", type=int, metavar="SIZE", help="profile the steps in-process instead")
    args = parser.parse_args(argv)
    if not (ROOT.parent / "shared" / "evaldata").exists():
        print("../shared/evaldata is not available: the corpus cannot be built", file=sys.stderr)
        return 2
    if args.profile:
        return profile_steps(args.profile, args)
    use_prefix = args.pycache == "prefix" or (args.pycache == "auto" and not venv_has_bytecode())
    args.pycache_dir = WORK / "pycache" if use_prefix else None
    if args.pycache_dir is not None:
        warm_bytecode(args.pycache_dir)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    help_figures = help_time()
    print(f"newsgraph --help: median {help_figures['median_s']}s, max {help_figures['max_s']}s")
    results: dict[int, dict[str, Any]] = {}
    api = "api" if args.api_url else args.prefect
    for size in sizes:
        results[size] = bench_size(size, args, help_figures)
        if not args.no_save:
            RESULTS.mkdir(parents=True, exist_ok=True)
            path = result_path(size, api)
            path.write_text(json.dumps(results[size], indent=2, default=str) + "\n", encoding="utf-8")
        if not results[size]["full"]["ok"]:
            full = results[size]["full"]
            print(f"[{size}] the run FAILED (rc={full['returncode']}):\n{full['log_tail']}")
    print()
    print(table(results))
    print()
    for v in verdicts(results, api):
        mark = {True: "ok  ", False: "MISS", None: "n/a "}[v["ok"]]
        print(f"{mark} {v['target']:<32} {_fmt(v['value']):>10}  (limit {v['limit']}; {v['from']})")
    print(f"\nconditions: {json.dumps(next(iter(results.values()))['conditions']) if results else '-'}")
    return 0 if all(r["full"]["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
