"""The whole flow on the seeds through Prefect: publish, idempotence, rejects and the validation gate."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.nightly import SnapshotRejectedError
from tasks.schemas import PUBLISHED_TABLES
from tests.snapshots import snapshot_contents

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_seed_run_publishes_every_table_with_contract_schema_and_manifest(seed_snapshot: Path):
    manifest = json.loads((seed_snapshot / "manifest.json").read_text())
    assert manifest["validation"]["success"] is True
    assert manifest["row_counts"]["articles"] == 5
    assert manifest["inputs"]["documents"] == 5
    for name, table in PUBLISHED_TABLES.items():
        frame = pl.read_parquet(sorted((seed_snapshot / name).glob("*.parquet")))
        assert table.check(frame) == [], name
        assert frame.height == manifest["row_counts"][name]
    assert (seed_snapshot / "validation" / "result.json").exists()


def test_published_tables_read_back_with_polars_and_duckdb(seed_snapshot: Path):
    lazy = pl.scan_parquet(seed_snapshot / "articles" / "*.parquet").select("article_id", "language").collect()
    con = duckdb.connect()
    rows = con.execute(
        f"select language, count(*) from read_parquet('{seed_snapshot}/articles/*.parquet') group by 1 order by 1"  # noqa: S608 our own path
    ).fetchall()
    assert sum(n for _, n in rows) == lazy.height == 5
    assert {lang for lang, _ in rows} == set(lazy["language"])


def test_second_run_with_nothing_new_publishes_nothing(seed_copy: Path, run_flow):
    first = run_flow(seed_copy)
    second = run_flow(seed_copy)
    assert first["published"] is True
    assert second["published"] is False
    assert (seed_copy / "output" / "current").resolve().name == first["run_id"]


def test_full_refresh_over_same_input_publishes_identical_tables(seed_copy: Path, run_flow):
    first = run_flow(seed_copy)
    second = run_flow(seed_copy, full_refresh=True)
    out = seed_copy / "output" / "snapshots"
    assert second["run_id"] != first["run_id"]
    a, b = snapshot_contents(out / first["run_id"]), snapshot_contents(out / second["run_id"])
    for name in PUBLISHED_TABLES:
        assert_frame_equal(a[name], b[name], check_row_order=True)


def test_changed_article_replaces_only_its_rows(seed_copy: Path, run_flow):
    run_flow(seed_copy)
    doc = next((seed_copy / "seeds").glob("000_*.txt"))
    doc.write_text(doc.read_text(encoding="utf-8") + "\nOn March 3, a new paragraph was added.\n", encoding="utf-8")
    result = run_flow(seed_copy)
    assert result["published"] is True
    articles = pl.read_parquet(seed_copy / "output" / "current" / "articles" / "*.parquet")
    assert articles.height == 5
    changed = articles.filter(pl.col("source_uri").str.contains("000_"))
    assert "a new paragraph was added" in changed["body"][0]
    assert changed["run_id"][0] == result["run_id"]
    assert articles.filter(pl.col("run_id") != result["run_id"]).height == 4
    # Rows of the unchanged articles are carried forward in every per-article table, not only in articles.
    for name in ("paragraphs", "translations"):
        frame = pl.read_parquet(seed_copy / "output" / "current" / name / "*.parquet")
        assert frame["article_id"].n_unique() == 5, name


def test_document_empty_after_cleaning_becomes_a_reject(seed_copy: Path, run_flow):
    (seed_copy / "seeds" / "empty.txt").write_text("\n   \n\t\n", encoding="utf-8")
    result = run_flow(seed_copy)
    rejects = pl.read_parquet(seed_copy / "output" / "current" / "rejects" / "*.parquet")
    assert result["row_counts"]["articles"] == 5
    assert rejects.filter(pl.col("source_uri").str.ends_with("empty.txt"))["stage"].to_list() == ["clean"]


def test_broken_table_fails_the_gate_and_current_stays(seed_copy: Path, run_flow, monkeypatch: pytest.MonkeyPatch):
    first = run_flow(seed_copy)
    from tasks import extract

    real = extract.extract_facts

    def off_by_one(articles: pl.DataFrame) -> extract.Facts:
        facts = real(articles)
        return extract.Facts(
            mentions=facts.mentions,
            figures=facts.figures,
            dates=facts.dates.with_columns(pl.col("end") + 1),
            agreements=facts.agreements,
            quotes=facts.quotes,
        )

    monkeypatch.setattr(extract, "extract_facts", off_by_one)
    with pytest.raises(SnapshotRejectedError, match="_check_span_matches"):
        run_flow(seed_copy, full_refresh=True)
    output = seed_copy / "output"
    assert (output / "current").resolve().name == first["run_id"]
    quarantined = list((output / "quarantine").iterdir())
    assert len(quarantined) == 1
    result = json.loads((quarantined[0] / "validation" / "result.json").read_text())
    assert result["success"] is False
