"""Command line: `newsgraph run | serve | publish | translate | rollback | status`.

Heavy imports (Prefect, polars, rich) happen inside the commands so `--help` stays instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from rich.table import Table

    from flows.private_api import PrivateApi
    from tasks.config import Settings
    from tasks.publish import RemoteSnapshots, SnapshotStore


def _prefect_defaults(*, verbose: bool = False) -> None:
    # No network here: no analytics; a generous start-up timeout for the ephemeral API on slow machines.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # A nightly run outlives an API restart (upgrade, host reboot): retry API calls for ~8 minutes instead of ~1.
    os.environ.setdefault("PREFECT_CLIENT_MAX_RETRIES", "8")
    # Run logs keep INFO for the API (the UI shows them when PREFECT_API_URL points at a server); the terminal shows
    # progress bars and only warnings unless --verbose.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "INFO" if verbose else "WARNING")


def _summary_table(result: dict[str, Any], seconds: float) -> Table:
    """A rich table of the run: snapshot, row counts per table, validation verdict."""
    from rich.table import Table

    if not result.get("published"):
        table = Table(title="newsgraph run: nothing published", show_header=False)
        table.add_row("current snapshot", str(result.get("current")))
        table.add_row("reason", str(result.get("reason", "")))
        table.add_row("wall time", f"{seconds:.1f} s")
        return table
    validation = result.get("validation") or {}
    current = Path(result["path"]).parent.parent / "current"
    # On object storage, consumers read the pointer object, not the work directory's copy.
    where = (
        f"tables: listed in {result['pointer']}" if result.get("pointer") else f"tables: {current}/<table>/*.parquet"
    )
    table = Table(title=f"newsgraph run {result['run_id']}: published", caption=where)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in (result.get("row_counts") or {}).items():
        table.add_row(name, f"{count:,}")
    table.add_section()
    verdict = "passed" if validation.get("success") else "FAILED"
    table.add_row(
        "validation",
        f"{verdict}: {validation.get('evaluated', '?')} expectations, {validation.get('warnings', '?')} warnings",
    )
    table.add_row("wall time", f"{seconds:.1f} s")
    return table


def _run(args: argparse.Namespace) -> int:
    _prefect_defaults(verbose=args.verbose)
    if args.workers is not None:
        os.environ["NEWSGRAPH_WORKERS"] = str(args.workers)  # this process only: Settings read it like any setting
    import time

    from flows.private_api import private_api

    started = time.perf_counter()
    # The API server starts first, so it imports on the other core while this process imports the flow.
    with private_api() as api:
        from rich.console import Console

        from flows.nightly import SnapshotRejectedError, nightly
        from flows.progress import RichReporter, reporting
        from tasks.publish import RunLockedError

        console = Console(stderr=True)
        try:
            with _api_settings(api), RichReporter(console, enabled=not args.verbose) as bars, reporting(bars):
                result = nightly(
                    sources_file=args.sources,
                    settings_file=args.settings,
                    output_dir=args.output,
                    full_refresh=args.full_refresh,
                    reprocess=args.reprocess,
                    translator=args.translator,
                    batch_size=args.batch_size,
                    task_runner=args.task_runner,
                )
        except SnapshotRejectedError as exc:
            print(f"validation failed, nothing published: {exc}", file=sys.stderr)
            return 2
        except RunLockedError as exc:
            print(f"newsgraph run: not started: {exc}", file=sys.stderr)
            return 75  # EX_TEMPFAIL: try again later
        except (FileNotFoundError, ValueError) as exc:
            print(f"newsgraph run: {exc}", file=sys.stderr)
            return 64
    stdout = Console()
    stdout.print(_summary_table(result, time.perf_counter() - started))
    if api is None and result.get("ui_url"):
        # Only a server that outlives the run has a page for it (a private API goes down with the run).
        stdout.print(f"Prefect UI: {result['ui_url']}", soft_wrap=True)
    return 0


@contextmanager
def _api_settings(api: PrivateApi | None) -> Iterator[None]:
    """Prefect settings naming the private API once it answers (its URL changes only if its port was taken)."""
    if api is None:
        yield
        return
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    url = api.wait(float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]))
    try:
        # No heartbeats: they let a server notice a crashed run, and this server goes down with the run; the flow
        # would only wait for the heartbeat thread at its end.
        with temporary_settings(updates={PREFECT_API_URL: url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield
    finally:
        # Send the run's last logs and events while the server is still there (it stops when the block ends).
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=10)
        EventsWorker.drain_all(timeout=10)


def _stores(args: argparse.Namespace) -> tuple[Settings, SnapshotStore, RemoteSnapshots | None]:
    """The settings, the output's local store (for a URL output: its work directory) and its remote side."""
    from tasks.config import load_settings
    from tasks.publish import open_stores

    settings = load_settings(args.settings, overrides={"output_dir": args.output})
    return settings, *open_stores(settings)


def _publish(args: argparse.Namespace) -> int:
    from tasks.publish import StaleCandidateError, output_lock, republish
    from tasks.validate import failure_lines

    settings, store, remote = _stores(args)
    try:
        with output_lock(store, remote, timeout=settings.lock_timeout):
            done = republish(
                store,
                args.run_id,
                settings,
                force=args.force,
                allow_row_count_change=args.allow_row_count_change,
                allow_contract_change=args.allow_contract_change,
                remote=remote,
            )
    except (FileNotFoundError, StaleCandidateError) as exc:
        print(f"not published: {exc}", file=sys.stderr)
        return 2
    docs = done.folder / done.report["data_docs"] if done.report.get("data_docs") else None
    if not done.published:
        print(f"{args.run_id} still fails {done.report['critical_failures']} critical expectations; not published:")
        for line in failure_lines(done.report):
            print(f"  - {line}")
        print(f"details: {docs or done.folder / 'validation' / 'result.json'}")
        return 2
    print(f"published {args.run_id}: current -> {done.folder}")
    if remote is not None:
        print(f"  uploaded: {remote.url}/snapshots/{args.run_id}, named by {remote.pointer_url}")
    print(f"  validation: {done.report['evaluated']} expectations, {done.report['warnings']} warnings")
    print(f"  data docs:  {docs}")
    if done.pruned:
        print(f"  pruned: {', '.join(done.pruned)}")
    return 0


def _translate(args: argparse.Namespace) -> int:
    _prefect_defaults()
    from flows.nightly import SnapshotRejectedError
    from flows.translate import translate_backlog

    try:
        result = translate_backlog(
            settings_file=args.settings,
            output_dir=args.output,
            translator=args.translator,
            include_failed=args.include_failed,
            char_budget=args.char_budget,
        )
    except SnapshotRejectedError as exc:
        print(f"validation failed, nothing published: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as exc:
        print(f"newsgraph translate: {exc}", file=sys.stderr)
        return 64
    done = ", ".join(f"{n} {status}" for status, n in sorted(result["translations"].items())) or "no rows changed"
    if not result["published"]:
        print(f"nothing translated ({done}): current snapshot is still {result['current']}")
    else:
        print(f"published snapshot {result['run_id']}: {done}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from tasks.publish import output_lock

    settings, store, remote = _stores(args)
    # A URL output's pointer is current.json: rolling back rewrites it (the next run's work directory follows).
    target = store if remote is None else remote
    try:
        with output_lock(store, remote, timeout=settings.lock_timeout):
            before = target.current_run_id()
            after = target.rollback(args.run_id)
    except ValueError as exc:
        print(f"not rolled back: {exc}; snapshots: {', '.join(target.published_run_ids()) or 'none'}", file=sys.stderr)
        return 2
    print(f"{'current' if remote is None else remote.pointer_url} -> {after} (was {before})")
    return 0


def _status(args: argparse.Namespace) -> int:
    _, store, remote = _stores(args)
    if remote is not None:
        return _remote_status(store, remote)
    cur = store.current()

    print(
        json.dumps(
            {
                "current": store.current_run_id(),
                "manifest": store.manifest(cur) if cur else None,
                "snapshots": store.published_run_ids(),
                "quarantine": _quarantine(store),
            },
            indent=2,
            default=str,
        )
    )
    return 0


def _remote_status(store: SnapshotStore, remote: RemoteSnapshots) -> int:
    """Status of a URL output: its pointer and snapshots; quarantine lives in the local work directory."""
    pointer = remote.pointer()
    current = str(pointer["run_id"]) if pointer else None
    print(
        json.dumps(
            {
                "output": remote.url,
                "pointer": remote.pointer_url,
                "current": current,
                "manifest": remote.manifest(current) if current else None,
                "snapshots": remote.published_run_ids(),
                "work_dir": str(store.root),
                "quarantine": _quarantine(store),
            },
            indent=2,
            default=str,
        )
    )
    return 0


def _quarantine(store: SnapshotStore) -> list[dict[str, Any]]:
    """What each quarantined candidate of a store is: run, counts, the validation verdict, its Data Docs."""

    def brief(folder: Path) -> dict[str, Any]:
        try:
            manifest = store.manifest(folder)
        except (OSError, ValueError):
            return {"run_id": folder.name, "manifest": "missing"}
        docs = manifest.get("data_docs")
        return {
            "run_id": folder.name,
            "created_at": manifest.get("created_at"),
            "row_counts": manifest.get("row_counts"),
            "validation": manifest.get("validation"),
            "data_docs": str(folder / docs) if docs else None,
        }

    return [brief(store.quarantined(r)) for r in store.quarantined_run_ids()]


def _serve(args: argparse.Namespace) -> int:
    from flows.serve import PREFECT_YAML, interrupt_on_sigterm, load_deployment_specs, local_server, serve_deployments

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    interrupt_on_sigterm()
    specs = load_deployment_specs(Path(args.prefect_yaml) if args.prefect_yaml else PREFECT_YAML)
    if args.deployment:
        specs = [s for s in specs if s.name in args.deployment]
        if not specs:
            print(f"newsgraph serve: no deployment named {', '.join(args.deployment)}", file=sys.stderr)
            return 64
    try:
        if args.no_server:
            if not os.environ.get("PREFECT_API_URL"):
                print("newsgraph serve --no-server needs PREFECT_API_URL", file=sys.stderr)
                return 64
            serve_deployments(specs)
            return 0
        home = Path(args.home).resolve() if args.home else None
        if home is not None:
            home.mkdir(parents=True, exist_ok=True)
            os.environ["PREFECT_HOME"] = str(home)
        with local_server(host=args.host, port=args.port, home=home) as api_url:
            print(f"Prefect UI: {api_url.removesuffix('/api')}  (API {api_url}); Ctrl-C stops server and runner")
            serve_deployments(specs, api_url=api_url)
    except KeyboardInterrupt:
        pass
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept import-light so --help is instant)."""
    parser = argparse.ArgumentParser(prog="newsgraph", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--settings", help="pipeline settings TOML ([pipeline] table); NEWSGRAPH_* env vars override")
    common.add_argument(
        "--output", help="output root: a path or an fsspec URL such as s3://bucket/prefix (default: output/)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        parents=[common],
        help="run the pipeline once and publish a validated snapshot",
        description="Fetch new and changed articles, clean, translate and extract them in batches, validate and "
        "publish a snapshot; progress bars per step, then a summary table. Exit codes: 0 published or nothing new, "
        "2 rejected by validation (quarantined), 64 bad input.",
    )
    run.add_argument(
        "--sources", default="sources.toml", help="sources file listing what to fetch (default: %(default)s)"
    )
    run.add_argument("--full-refresh", action="store_true", help="refetch everything and rebuild all tables")
    run.add_argument("--reprocess", action="store_true", help="rebuild all tables from the raw layer, no fetching")
    run.add_argument("--translator", help="translator name (default: the settings' translator, placeholder)")
    run.add_argument("--batch-size", type=int, help="articles per batch task run (default: 500)")
    run.add_argument(
        "--task-runner",
        help="where batch tasks run: threads, processes, dask (a local cluster) or dask://host:port "
        "(default: the settings' task_runner, auto: threads for small runs, processes from 2,000 documents)",
    )
    run.add_argument("--workers", type=int, help="parallel batch workers (default: the number of CPUs)")
    run.add_argument("-v", "--verbose", action="store_true", help="show Prefect's run logs instead of progress bars")
    run.set_defaults(func=_run)

    srv = sub.add_parser(
        "serve",
        help="start a local Prefect server with its UI and serve the deployments of prefect.yaml (schedule included)",
        description="Start `prefect server start` on HOST:PORT (SQLite under PREFECT_HOME, analytics off) and serve "
        "the deployments declared in prefect.yaml until interrupted: the UI lists them with their schedule, and "
        "Run / Custom run start flow runs here. Runs use this directory as their working directory.",
    )
    srv.add_argument("--host", default="127.0.0.1", help="address the server listens on (default: %(default)s)")
    srv.add_argument("--port", type=int, default=4200, help="server port (default: %(default)s)")
    srv.add_argument("--home", help="PREFECT_HOME holding the server's SQLite database (default: ~/.prefect)")
    srv.add_argument(
        "--no-server",
        action="store_true",
        help="do not start a server: serve against the API in PREFECT_API_URL (e.g. a shared server)",
    )
    srv.add_argument("--prefect-yaml", default=None, help="deployments file (default: prefect.yaml of the project)")
    srv.add_argument("--deployment", action="append", help="serve only this deployment (repeatable; default: all)")
    srv.set_defaults(func=_serve)

    pub = sub.add_parser("publish", parents=[common], help="re-validate a quarantined snapshot and publish it")
    pub.add_argument("run_id", help="run id of the quarantined snapshot")
    pub.add_argument(
        "--force", action="store_true", help="publish even though a newer snapshot was published since it was built"
    )
    pub.add_argument(
        "--allow-row-count-change",
        action="store_true",
        help="accept a row-count change beyond max_row_drop / max_row_growth (a deliberate shrink or growth)",
    )
    pub.add_argument(
        "--allow-contract-change",
        action="store_true",
        help="accept columns removed or retyped since the previous snapshot (a breaking contract change)",
    )
    pub.set_defaults(func=_publish)

    tr = sub.add_parser(
        "translate", parents=[common], help="fill pending translations of the current snapshot and publish it"
    )
    tr.add_argument("--translator", help="translator name (default: the settings' translator)")
    tr.add_argument("--include-failed", action="store_true", help="also retry rows whose translation failed")
    tr.add_argument("--char-budget", type=int, help="characters this run may send to the translator")
    tr.set_defaults(func=_translate)

    rb = sub.add_parser(
        "rollback",
        parents=[common],
        help="point output/current (current.json of a URL output) at an earlier snapshot",
    )
    rb.add_argument("run_id", nargs="?", help="snapshot to point at (default: the one before current)")
    rb.set_defaults(func=_rollback)

    st = sub.add_parser("status", parents=[common], help="show current snapshot, snapshots and quarantine")
    st.set_defaults(func=_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code (tests call this in-process)."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


def entry(argv: Sequence[str] | None = None) -> NoReturn:
    """The `newsgraph` command: `main`, then exit without tearing the interpreter down.

    A run imports Prefect, polars, Great Expectations and their dependencies; freeing all of that module by module
    at exit takes 1-2 s and does nothing a new process would not do anyway. Threads are joined and exit handlers run
    (logging flushes, temporary folders are removed) exactly as at a normal exit; only the teardown is skipped.
    """
    code = main(argv)
    import atexit
    import threading

    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # noqa: SLF001 - what the interpreter runs at exit, run now
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
