"""Assembling a candidate: the articles table written in id ranges from the previous snapshot and staged parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from tasks.clean import assign_duplicates
from tasks.clean.dedupe import content_hash, signature
from tasks.publish import assemble, assemble_candidate, write_part
from tasks.schemas import ARTICLES, ENTITIES, FETCH_STATE, REJECTS

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def articles(ids: list[str], *, run_id: str, text: str = "story") -> pl.DataFrame:
    bodies = [f"{text} {i} about the Gwangju AI cluster and its partners, told at length." for i in ids]
    return ARTICLES.conform(
        pl.DataFrame(
            {
                "article_id": ids,
                "source_uri": [f"u/{i}" for i in ids],
                "language": ["en"] * len(ids),
                "body": bodies,
                "body_chars": [len(b) for b in bodies],
                "content_sha256": [content_hash(b) for b in bodies],
                "raw_sha256": ["0" * 64] * len(ids),
                "fetched_at": [T0 + timedelta(minutes=n) for n in range(len(ids))],
                "run_id": [run_id] * len(ids),
                "minhash": [signature(b) for b in bodies],
            }
        )
    )


def assemble_run(previous: Path | None, staged_parts: list[pl.DataFrame], out: Path, run_id: str) -> Path:
    staged = out / "staging" / run_id
    for n, part in enumerate(staged_parts):
        write_part(part, staged / ARTICLES.name, f"part-{n:05d}")
    candidate = out / "candidates" / run_id
    assemble_candidate(
        previous=previous,
        staged=staged,
        candidate=candidate,
        state=FETCH_STATE.empty(),
        run_rejects=REJECTS.empty(),
        processed_uris=pl.Series("source_uri", [], dtype=pl.String),
        build_entities=lambda _mentions: ENTITIES.empty(),
        assign_duplicates=assign_duplicates,
        run_id=run_id,
    )
    return candidate


def parts_in_order(candidate: Path) -> list[pl.DataFrame]:
    return [pl.read_parquet(p) for p in sorted((candidate / ARTICLES.name).glob("*.parquet"))]


def test_articles_are_written_in_sorted_id_ranges_equal_to_one_sorted_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # The previous snapshot, itself in ranges; then a run that replaces a03 and adds four articles.
    monkeypatch.setattr(assemble, "ARTICLES_PART_ROWS", 3)
    previous = assemble_run(None, [articles([f"a0{i}" for i in (7, 1, 5, 3, 2, 6, 4)], run_id="r1")], tmp_path, "r1")
    assert len(parts_in_order(previous)) == 3
    new = [articles(["a10", "a03"], run_id="r2", text="update"), articles(["a09", "a08", "a00"], run_id="r2")]

    ranged = parts_in_order(assemble_run(previous, new, tmp_path / "ranged", "r2"))
    monkeypatch.setattr(assemble, "ARTICLES_PART_ROWS", 1000)
    single = parts_in_order(assemble_run(previous, new, tmp_path / "single", "r2"))

    assert [p.height for p in ranged] == [3, 3, 3, 2]
    assert len(single) == 1
    whole = pl.concat(ranged)
    assert whole["article_id"].to_list() == [f"a{i:02d}" for i in range(11)]  # sorted across parts, each id once
    assert whole.equals(single[0])
    replaced = whole.row(by_predicate=pl.col("article_id") == "a03", named=True)
    assert replaced["run_id"] == "r2"
    assert replaced["body"].startswith("update")
    assert whole["duplicate_cluster_id"].null_count() == 0
