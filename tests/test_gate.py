"""The gate through the real flow: a critical failure fails the run, keeps current, quarantines the candidate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from uuid import UUID

import polars as pl
import pytest

from flows.cli import main
from flows.nightly import SnapshotRejectedError
from tasks.publish import REPORT_KEY

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _flow_run(flow_run_id: str):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(flow_run_id))


def _reports(flow_run_id: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
    )
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        # The sync client sends every filter field, so all of them are given.
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[REPORT_KEY])),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)])),
            task_run_filter=TaskRunFilter(),
            sort=ArtifactSort.CREATED_DESC,
            limit=10,
            offset=0,
        )
    return [str(a.data) for a in found]


def _quarantined(output: Path) -> Path:
    [folder] = list((output / "quarantine").iterdir())
    return folder


def assert_gate_held(output: Path, current_before: str) -> tuple[Path, dict]:
    """Current unchanged, candidate in quarantine with its result and Data Docs, flow run Failed, report written."""
    assert (output / "current").resolve().name == current_before
    folder = _quarantined(output)
    result = json.loads((folder / "validation" / "result.json").read_text())
    assert result["success"] is False
    assert (folder / "validation" / "data_docs" / "index.html").is_file()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["validation"]["success"] is False
    assert manifest["data_docs"] == "validation/data_docs/index.html"
    run = _flow_run(manifest["flow_run_id"])
    assert run.state is not None
    assert run.state.is_failed()
    [report] = _reports(manifest["flow_run_id"])
    assert "quarantined" in report
    assert f"newsgraph publish {folder.name}" in report
    return folder, result


def test_invalid_currency_fails_the_run_names_the_expectation_and_rows(
    seed_copy: Path, run_flow, monkeypatch: pytest.MonkeyPatch
):
    first = run_flow(seed_copy)
    from tasks import extract

    real = extract.extract_facts

    def bad_money(articles: pl.DataFrame) -> extract.Facts:
        facts = real(articles)
        row = articles.row(0, named=True)
        figure = {
            "figure_id": f"{row['article_id']}:0:3",
            "article_id": row["article_id"],
            "kind": "money",
            "value": 3.0,
            "unit": "WON",
            "approximate": False,
            "surface": row["body"][:3],
            "start": 0,
            "end": 3,
        }
        figures = pl.concat([facts.figures, pl.DataFrame([figure], schema=facts.figures.schema)], how="vertical")
        return extract.Facts(facts.mentions, figures, facts.dates, facts.agreements, facts.quotes)

    monkeypatch.setattr(extract, "extract_facts", bad_money)
    with pytest.raises(SnapshotRejectedError) as err:
        run_flow(seed_copy, full_refresh=True)
    message = str(err.value)
    assert "figures.unit expect_column_values_to_be_in_set if kind==money" in message
    assert "unit='WON'" in message
    assert "newsgraph publish" in message
    assert_gate_held(seed_copy / "output", first["run_id"])


def test_removed_column_is_a_contract_change_that_holds_the_gate(seed_copy: Path, run_flow):
    first = run_flow(seed_copy)
    output = seed_copy / "output"
    # The published snapshot had a column this code's contract no longer declares (as after a removal).
    for part in (output / "current" / "captions").glob("*.parquet"):
        frame = pl.read_parquet(part).with_columns(pl.lit("x").alias("photographer"))
        part.unlink()  # parts may be hard links shared with other snapshots
        frame.write_parquet(part)
    with pytest.raises(SnapshotRejectedError, match=r"contract\.change"):
        run_flow(seed_copy, full_refresh=True)
    _, result = assert_gate_held(output, first["run_id"])
    [change] = [o for o in result["outcomes"] if o["column"] == "change"]
    assert change["sample"][0]["table"] == "captions"
    assert change["sample"][0]["column"] == "photographer"


def test_row_drop_is_quarantined_then_published_with_one_command_without_refetching(
    seed_copy: Path, run_flow, monkeypatch: pytest.MonkeyPatch, capsys
):
    first = run_flow(seed_copy)
    output = seed_copy / "output"
    for doc in sorted((seed_copy / "seeds").iterdir())[1:]:
        doc.unlink()
    with pytest.raises(SnapshotRejectedError, match=r"articles\.\* expect_table_row_count_to_be_between"):
        run_flow(seed_copy, full_refresh=True)
    folder, _ = assert_gate_held(output, first["run_id"])
    # The sources are gone entirely: publishing must work from the quarantined candidate alone.
    shutil.rmtree(seed_copy / "seeds")
    assert main(["publish", folder.name, "--output", str(output)]) == 2
    assert "expect_table_row_count_to_be_between" in capsys.readouterr().out
    monkeypatch.setenv("NEWSGRAPH_MAX_ROW_DROP", "0.9")
    assert main(["publish", folder.name, "--output", str(output)]) == 0
    assert (output / "current").resolve().name == folder.name
    articles = pl.read_parquet(output / "current" / "articles" / "*.parquet")
    assert articles.height == 1
    manifest = json.loads((output / "current" / "manifest.json").read_text())
    assert manifest["validation"]["success"] is True
    assert [r["success"] for r in manifest["republished"]] == [False, True]
    assert (output / "current" / "validation" / "data_docs" / "index.html").is_file()
    assert main(["rollback", "--output", str(output)]) == 0
    assert (output / "current").resolve().name == first["run_id"]


def test_published_run_has_manifest_data_docs_and_a_run_report(seed_copy: Path, run_flow):
    result = run_flow(seed_copy)
    snapshot = seed_copy / "output" / "current"
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["data_docs"] == "validation/data_docs/index.html"
    assert (snapshot / manifest["data_docs"]).is_file()
    assert result["data_docs"] == str(snapshot.resolve() / manifest["data_docs"])
    assert manifest["validation"]["failed"] == []
    assert len(manifest["inputs"]["sha256"]) == 64
    assert manifest["code_version"]
    html = next((snapshot / "validation" / "data_docs" / "validations").rglob("*.html")).read_text()
    assert "expect_column_values_to_not_be_null" in html or "values must never be null" in html
    [report] = _reports(manifest["flow_run_id"])
    assert f"`{result['run_id']}`: published" in report
    for section in ("## Tables", "## Rejects", "## Timings", "| articles | 5 |"):
        assert section in report
    assert "| validate |" in report
    assert "Articles: 5 new" in report
