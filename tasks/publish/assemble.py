"""Assemble a candidate snapshot from the previous snapshot and this run's staged batch parts."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import polars as pl

from tasks.schemas import ARTICLES, ENTITIES, FETCH_STATE, PUBLISHED_TABLES, REJECTS, Table

STATE_DIR = "_state"
STATE_FILE = "fetch_state.parquet"
_BODY = "body"
_CLUSTER = ["duplicate_cluster_id", "is_canonical"]
# Rows per articles part: about 90 MB of bodies, so the part being sorted and written stays small beside the rest.
ARTICLES_PART_ROWS = 25_000


def part_files(folder: Path) -> list[Path]:
    """Parquet parts of one table folder, in name order."""
    return sorted(folder.glob("*.parquet")) if folder.exists() else []


def read_table(folder: Path, table: Table) -> pl.DataFrame:
    """A table folder as one frame with the contract schema (empty when the folder has no parts)."""
    parts = part_files(folder)
    if not parts:
        return table.empty()
    return pl.read_parquet(parts, schema=table.schema) if len(parts) > 1 else pl.read_parquet(parts[0])


def table_schema(folder: Path, table: Table) -> pl.Schema:
    """The schema `read_table` would return, read from the parts' metadata only."""
    parts = part_files(folder)
    if len(parts) == 1:
        return pl.Schema(pl.read_parquet_schema(parts[0]))
    return table.empty().schema


def scan_table(folder: Path, table: Table) -> pl.LazyFrame:
    """A table folder as a lazy frame with the contract schema."""
    parts = part_files(folder)
    return pl.scan_parquet(parts, schema=table.schema) if parts else table.empty().lazy()


def write_part(frame: pl.DataFrame | pl.LazyFrame, folder: Path, name: str) -> Path:
    """Write one part atomically (temp file + rename), so a crash never leaves a truncated part.

    A lazy frame is streamed to disk without being collected first.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.parquet"
    tmp = folder / f".{name}.parquet.tmp"
    if isinstance(frame, pl.LazyFrame):
        frame.sink_parquet(tmp, compression="zstd", statistics=True)
    else:
        frame.write_parquet(tmp, compression="zstd", statistics=True)
    os.replace(tmp, target)
    return target


def carry_forward(previous: Path | None, candidate: Path, table: Table, replaced: pl.Series) -> None:
    """Copy the previous snapshot's parts of a per-article table, without rows of replaced articles.

    Parts with none of those rows are hard-linked (no copy); the others are rewritten filtered.
    """
    if previous is None:
        return
    out = candidate / table.name
    for part in part_files(previous / table.name):
        ids = pl.read_parquet(part, columns=["article_id"])["article_id"]
        out.mkdir(parents=True, exist_ok=True)
        if replaced.len() == 0 or not ids.is_in(replaced.implode()).any():
            _link_or_copy(part, out / part.name)
        else:
            kept = pl.read_parquet(part).filter(~pl.col("article_id").is_in(replaced.implode()))
            if kept.height:
                write_part(kept, out, part.stem)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        # Another filesystem (or no hard links): a copy keeps the snapshot self-contained.
        import shutil

        shutil.copy2(src, dst)


def move_parts(staged: Path, candidate: Path, tables: Iterable[Table]) -> None:
    """Move this run's staged parts into the candidate."""
    for table in tables:
        for part in part_files(staged / table.name):
            target = candidate / table.name
            target.mkdir(parents=True, exist_ok=True)
            os.replace(part, target / part.name)


def write_articles(articles: pl.LazyFrame, clusters: pl.DataFrame, folder: Path, run_id: str) -> None:
    """Write the articles with their cluster columns as parts of ARTICLES_PART_ROWS, sorted by article_id.

    Sorting the whole table at once held every body two or three times (1.4 GB at 100k articles); a range of ids at
    a time holds one part's bodies. The parts cover consecutive id ranges, so the table is sorted across its parts in
    name order too, and a previous snapshot's parts are skipped by their row-group statistics outside each range.
    """
    ids = clusters["article_id"].sort()
    bounds: list[str | None] = [None, *ids.gather_every(ARTICLES_PART_ROWS, offset=ARTICLES_PART_ROWS), None]
    ranges = list(itertools.pairwise(bounds))
    for index, (low, high) in enumerate(ranges):
        in_range = pl.lit(value=True)
        if low is not None:
            in_range &= pl.col("article_id") >= low
        if high is not None:
            in_range &= pl.col("article_id") < high
        part = (
            articles.filter(in_range)
            .join(clusters.lazy().filter(in_range), on="article_id", how="left")
            .select([pl.col(n).cast(t) for n, t in ARTICLES.schema.items()])
            .sort("article_id")
        )
        write_part(part, folder, f"part-{run_id}" if len(ranges) == 1 else f"part-{run_id}-{index:04d}")


def assemble_candidate(
    *,
    previous: Path | None,
    staged: Path,
    candidate: Path,
    state: pl.DataFrame,
    run_rejects: pl.DataFrame,
    processed_uris: pl.Series,
    build_entities: Callable[[pl.LazyFrame], pl.DataFrame],
    assign_duplicates: Callable[[pl.DataFrame], pl.DataFrame],
    run_id: str,
) -> dict[str, int]:
    """Write every published table into `candidate` and return row counts per table."""
    candidate.mkdir(parents=True, exist_ok=True)
    per_article = [t for t in PUBLISHED_TABLES.values() if t.per_article and t.name != ARTICLES.name]
    new_ids = scan_table(staged / ARTICLES.name, ARTICLES).select("article_id").collect()["article_id"]
    for table in per_article:
        carry_forward(previous, candidate, table, new_ids)
    move_parts(staged, candidate, per_article)

    # Duplicate clusters span the whole corpus, so articles are re-derived as one table each run. Clusters are
    # computed without the bodies (assign_duplicates gets every other column), and the bodies stream from the parts
    # into the written table: memory does not hold the corpus' text several times over (sorts, concat, conform).
    prev_articles = scan_table(previous / ARTICLES.name, ARTICLES) if previous else ARTICLES.empty().lazy()
    everything = pl.concat(
        [
            prev_articles.filter(~pl.col("article_id").is_in(new_ids.implode())),
            scan_table(staged / ARTICLES.name, ARTICLES),
        ]
    )
    clusters = assign_duplicates(everything.drop(_BODY).collect()).select(["article_id", *_CLUSTER])
    for old in part_files(candidate / ARTICLES.name):
        old.unlink()
    write_articles(everything.drop(_CLUSTER), clusters, candidate / ARTICLES.name, run_id)

    write_part(
        ENTITIES.conform(build_entities(scan_table(candidate / "mentions", PUBLISHED_TABLES["mentions"]))),
        candidate / ENTITIES.name,
        f"part-{run_id}",
    )

    # Rejects describe the latest attempt per document: a document processed fine this run loses its old rejects.
    prev_rejects = read_table(previous / REJECTS.name, REJECTS) if previous else REJECTS.empty()
    touched = pl.concat([processed_uris, run_rejects["source_uri"]]).unique()
    rejects = pl.concat([prev_rejects.filter(~pl.col("source_uri").is_in(touched.implode())), run_rejects])
    write_part(
        REJECTS.conform(rejects.unique("reject_id", keep="last").sort("reject_id")),
        candidate / REJECTS.name,
        f"part-{run_id}",
    )

    write_part(FETCH_STATE.conform(state), candidate / STATE_DIR, STATE_FILE.removesuffix(".parquet"))
    # Consumers scan folders: every table gets at least an empty part, so a scan never fails on a missing folder.
    for name, table in PUBLISHED_TABLES.items():
        if not part_files(candidate / name):
            write_part(table.empty(), candidate / name, f"part-{run_id}")
    return {
        name: scan_table(candidate / name, t).select(pl.len()).collect().item() for name, t in PUBLISHED_TABLES.items()
    }
