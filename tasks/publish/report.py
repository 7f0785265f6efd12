"""The run report: a markdown page per run (published or quarantined) for the Prefect UI and the CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import polars as pl

from tasks.schemas import ARTICLES, PUBLISHED_TABLES, REJECTS
from tasks.validate.report import Severity, failure_lines

REPORT_KEY = "newsgraph-run-report"
_MAX_FAILURES = 15


@dataclass(frozen=True, slots=True)
class StepTiming:
    """Time spent in one step of a run: task runs, summed run time and wall-clock span."""

    step: str
    runs: int
    seconds: float
    wall: float


def article_changes(previous: pl.DataFrame | None, current: pl.DataFrame) -> dict[str, int]:
    """Articles new, changed (new body hash), unchanged and removed against the previous snapshot."""
    cur = current.select("article_id", "content_sha256")
    if previous is None:
        return {"new": cur.height, "changed": 0, "unchanged": 0, "removed": 0}
    prev = previous.select("article_id", pl.col("content_sha256").alias("_before"))
    joined = cur.join(prev, on="article_id", how="left")
    new = joined.filter(pl.col("_before").is_null()).height
    changed = joined.filter(pl.col("_before").is_not_null() & (pl.col("_before") != pl.col("content_sha256"))).height
    removed = prev.join(cur, on="article_id", how="anti").height
    return {"new": new, "changed": changed, "unchanged": cur.height - new - changed, "removed": removed}


def rejects_by_reason(rejects: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """Rejects per stage and reason: how many this run produced and how many the snapshot holds."""
    return (
        rejects.group_by("stage", "reason")
        .agg(pl.len().alias("in_snapshot"), (pl.col("run_id") == run_id).sum().cast(pl.Int64).alias("this_run"))
        .sort("this_run", "in_snapshot", descending=True)
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return out


def render_run_report(
    *,
    run_id: str,
    published: bool,
    location: Path,
    manifest: Mapping[str, Any],
    report: Mapping[str, Any],
    previous_counts: Mapping[str, int],
    changes: Mapping[str, int],
    rejects: pl.DataFrame,
    timings: Sequence[StepTiming],
    publish_command: str | None = None,
) -> str:
    """Markdown: verdict, counts per table against the previous snapshot, failures, rejects and timings."""
    counts: Mapping[str, int] = manifest.get("row_counts", {})
    verdict = "published" if published else "**quarantined** (critical expectations failed; `current` unchanged)"
    docs = manifest.get("data_docs") or report.get("data_docs")
    digest = str(manifest.get("inputs", {}).get("sha256"))[:16]
    lines = [
        f"# newsgraph run `{run_id}`: {verdict}",
        "",
        f"- Snapshot: `{location}`",
        f"- Previous snapshot: `{manifest.get('previous_run_id') or 'none'}`",
        (
            f"- Validation: {'passed' if report.get('success') else 'FAILED'}: {report.get('evaluated', 0)} "
            f"expectations, {report.get('critical_failures', 0)} critical failures, "
            f"{report.get('warnings', 0)} warnings"
        ),
        f"- Data Docs: `{location / docs}`" if docs else "- Data Docs: not built",
        f"- Code version: `{manifest.get('code_version')}`; inputs digest `{digest}`",
    ]
    if not published and publish_command:
        lines += ["", f"After fixing the cause, re-validate and publish without refetching: `{publish_command}`"]
    lines += ["", "## Tables", ""]
    rows = []
    for name in PUBLISHED_TABLES:
        now, before = counts.get(name, 0), previous_counts.get(name)
        delta = "" if before is None else f"{now - before:+d}"
        rows.append([name, now, "" if before is None else before, delta])
    lines += _table(["table", "rows", "previous", "change"], rows)
    lines += ["", "Articles: " + ", ".join(f"{v} {k}" for k, v in changes.items())]
    for title, severity in (("Critical failures", "critical"), ("Warnings", "warning")):
        failed = failure_lines(dict(report), severity=cast("Severity", severity))
        if failed:
            lines += ["", f"## {title}", ""]
            lines += [f"- {line}" for line in failed[:_MAX_FAILURES]]
            if len(failed) > _MAX_FAILURES:
                lines.append(f"- ... and {len(failed) - _MAX_FAILURES} more (validation/result.json)")
    lines += ["", "## Rejects", ""]
    if rejects.height:
        lines += _table(
            ["stage", "reason", "this run", "in snapshot"],
            rejects.select("stage", "reason", "this_run", "in_snapshot").rows(),
        )
    else:
        lines.append("none")
    lines += ["", "## Timings", ""]
    if timings:
        lines += _table(
            ["step", "task runs", "run time (s)", "wall (s)"],
            [[t.step, t.runs, f"{t.seconds:.2f}", f"{t.wall:.2f}"] for t in timings],
        )
    else:
        lines.append("not available")
    return "\n".join(lines) + "\n"


def load_run_report(
    folder: Path,
    *,
    previous: Path | None,
    report: Mapping[str, Any],
    published: bool,
    timings: Sequence[StepTiming] = (),
    publish_command: str | None = None,
) -> str:
    """The run report of a snapshot or quarantined folder, compared with the previous snapshot's folder."""
    import json

    from tasks.publish.assemble import read_table

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    before = previous if previous is not None and previous.exists() else None
    previous_counts: dict[str, int] = {}
    if before is not None and (before / "manifest.json").exists():
        previous_counts = json.loads((before / "manifest.json").read_text(encoding="utf-8")).get("row_counts", {})
    cols = ["article_id", "content_sha256"]
    current = read_table(folder / ARTICLES.name, ARTICLES).select(cols)
    prev = read_table(before / ARTICLES.name, ARTICLES).select(cols) if before is not None else None
    return render_run_report(
        run_id=str(manifest["run_id"]),
        published=published,
        location=folder,
        manifest=manifest,
        report=report,
        previous_counts=previous_counts,
        changes=article_changes(prev, current),
        rejects=rejects_by_reason(read_table(folder / REJECTS.name, REJECTS), str(manifest["run_id"])),
        timings=timings,
        publish_command=publish_command,
    )
