"""Command line: `newsgraph run | publish | rollback | status`. Heavy imports happen inside the commands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _prefect_defaults() -> None:
    # No network here: no analytics; a generous start-up timeout for the ephemeral API on slow machines.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _summary(result: dict[str, Any]) -> str:
    if not result.get("published"):
        return f"nothing new: current snapshot is still {result.get('current')}"
    counts = result["row_counts"]
    v = result["validation"]
    return "\n".join(
        [
            f"published snapshot {result['run_id']}",
            f"  tables:      {Path(result['path']).parent.parent / 'current'}/<table>/*.parquet",
            f"  articles:    {counts['articles']}  (rejects: {counts['rejects']})",
            f"  mentions:    {counts['mentions']}  entities: {counts['entities']}",
            f"  figures:     {counts['figures']}  dates: {counts['dates']}  agreements: {counts['agreements']}"
            f"  quotes: {counts['quotes']}",
            f"  validation:  {'passed' if v['success'] else 'FAILED'} ({v['evaluated']} expectations, "
            f"{v['warnings']} warnings)",
        ]
    )


def _run(args: argparse.Namespace) -> int:
    _prefect_defaults()
    from flows.nightly import SnapshotRejectedError, nightly

    try:
        result = nightly(
            sources_file=args.sources,
            settings_file=args.settings,
            output_dir=args.output,
            full_refresh=args.full_refresh,
            reprocess=args.reprocess,
            translator=args.translator,
            batch_size=args.batch_size,
        )
    except SnapshotRejectedError as exc:
        print(f"validation failed, nothing published: {exc}", file=sys.stderr)
        return 2
    print(_summary(result))
    return 0


def _store(args: argparse.Namespace) -> Any:
    from tasks.config import load_settings
    from tasks.publish import SnapshotStore

    return SnapshotStore(load_settings(args.settings, overrides={"output_dir": args.output}).output_dir)


def _publish(args: argparse.Namespace) -> int:
    from tasks.steps import stage_validate

    store = _store(args)
    folder = store.quarantined(args.run_id)
    report = stage_validate(folder)
    manifest = store.manifest(folder)
    manifest["validation"] = {k: report[k] for k in ("success", "critical_failures", "warnings", "evaluated")}
    from tasks.steps import write_json

    write_json(folder / "manifest.json", manifest)
    if not report["success"]:
        print(f"{args.run_id} still fails {report['critical_failures']} critical expectations; not published")
        return 2
    store.publish(args.run_id)
    print(f"published {args.run_id}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    print(f"current -> {_store(args).rollback(args.run_id)}")
    return 0


def _status(args: argparse.Namespace) -> int:
    store = _store(args)
    cur = store.current()
    print(
        json.dumps(
            {
                "current": store.current_run_id(),
                "manifest": store.manifest(cur) if cur else None,
                "snapshots": store.published_run_ids(),
                "quarantine": store.quarantined_run_ids(),
            },
            indent=2,
            default=str,
        )
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept import-light so --help is instant)."""
    parser = argparse.ArgumentParser(prog="newsgraph", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--settings", help="pipeline settings TOML ([pipeline] table); NEWSGRAPH_* env vars override")
    common.add_argument("--output", help="output root (default: output/)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", parents=[common], help="run the pipeline once and publish a validated snapshot")
    run.add_argument(
        "--sources", default="sources.toml", help="sources file listing what to fetch (default: %(default)s)"
    )
    run.add_argument("--full-refresh", action="store_true", help="refetch everything and rebuild all tables")
    run.add_argument("--reprocess", action="store_true", help="rebuild all tables from the raw layer, no fetching")
    run.add_argument("--translator", help="translator name (default: placeholder)")
    run.add_argument("--batch-size", type=int, help="articles per batch task run")
    run.set_defaults(func=_run)

    pub = sub.add_parser("publish", parents=[common], help="re-validate a quarantined snapshot and publish it")
    pub.add_argument("run_id", help="run id of the quarantined snapshot")
    pub.set_defaults(func=_publish)

    rb = sub.add_parser("rollback", parents=[common], help="point output/current at an earlier snapshot")
    rb.add_argument("run_id", nargs="?", help="snapshot to point at (default: the one before current)")
    rb.set_defaults(func=_rollback)

    st = sub.add_parser("status", parents=[common], help="show current snapshot, snapshots and quarantine")
    st.set_defaults(func=_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `newsgraph` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
