"""`newsgraph serve` for real: a Prefect server on 127.0.0.1, the deployment served, runs triggered through the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.server, pytest.mark.slow]

NEWSGRAPH = str(Path(sys.executable).with_name("newsgraph"))


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_deployment_is_served_with_nightly_kst_schedule_limit_and_documented_parameters(served_pipeline):
    deployment = served_pipeline.get(f"/deployments/{served_pipeline.deployment_id}")
    (schedule,) = deployment["schedules"]
    assert schedule["schedule"]["cron"] == "30 2 * * *"
    assert schedule["schedule"]["timezone"] == "Asia/Seoul"
    assert schedule["active"] is True
    assert deployment["global_concurrency_limit"]["limit"] == 1
    assert deployment["concurrency_options"]["collision_strategy"] == "ENQUEUE"
    assert deployment["enforce_parameter_schema"] is True
    props = deployment["parameter_openapi_schema"]["properties"]
    assert {"sources_file", "full_refresh", "reprocess", "translator", "batch_size", "task_runner"} <= set(props)
    assert all(p.get("description") for p in props.values())
    assert deployment["parameters"]["sources_file"] == "sources.toml"


def test_api_refuses_a_run_whose_parameters_break_the_schema(served_pipeline):
    response = served_pipeline.post(
        f"/deployments/{served_pipeline.deployment_id}/create_flow_run", {"parameters": {"batch_size": 0}}
    )
    assert response.status_code in {409, 422}, response.text
    assert "batch_size" in response.text


def test_two_runs_triggered_together_publish_one_after_the_other(served_pipeline, tmp_path: Path):
    out = tmp_path / "out"
    params = {"sources_file": str(served_pipeline.workdir / "sources.toml"), "output_dir": str(out), "batch_size": 2}
    first = served_pipeline.create_run(**params)
    second = served_pipeline.create_run(**params)
    runs = [served_pipeline.wait(first), served_pipeline.wait(second)]
    assert [r["state_type"] for r in runs] == ["COMPLETED", "COMPLETED"], served_pipeline.log_tail()

    # The deployment's limit of one: the runs did not overlap, whichever the runner picked up first.
    a, b = sorted(runs, key=lambda r: r["start_time"])
    assert _time(b["start_time"]) >= _time(a["end_time"])

    # The earlier run published the seeds; the later one found nothing new and left `current` alone.
    snapshots = sorted(p.name for p in (out / "snapshots").iterdir())
    assert len(snapshots) == 1
    current = (out / "current").resolve()
    manifest = json.loads((current / "manifest.json").read_text())
    assert manifest["flow_run_id"] == a["id"]
    assert manifest["validation"]["success"] is True
    assert manifest["parameters"]["batch_size"] == 2
    articles = pl.read_parquet(current / "articles" / "*.parquet")
    assert articles.height == 5
    assert manifest["row_counts"]["articles"] == 5

    # Run logs reach the server, so the UI shows them.
    logs = served_pipeline.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [a["id"]]}}, "limit": 200})
    logs.raise_for_status()
    assert any("fetched" in entry["message"] for entry in logs.json())


def test_a_manual_run_on_the_served_home_reports_to_that_server(served_pipeline, tmp_path: Path):
    home = served_pipeline.workdir / "prefect-home"
    record = json.loads((home / "newsgraph-serve.json").read_text(encoding="utf-8"))
    assert record["api_url"] == served_pipeline.api_url

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSGRAPH_"))}
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    command = [NEWSGRAPH, "run", "--sources", str(served_pipeline.workdir / "sources.toml"), "--output", str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-4000:]

    # The summary links the run's page on the served UI, and the served API knows the run as completed.
    (link,) = [line for line in done.stdout.splitlines() if line.startswith("Prefect UI: ")]
    assert link.startswith(f"Prefect UI: {served_pipeline.ui_url}/")
    manifest = json.loads((tmp_path / "current" / "manifest.json").read_text(encoding="utf-8"))
    assert link.endswith(manifest["flow_run_id"])
    assert served_pipeline.get(f"/flow_runs/{manifest['flow_run_id']}")["state_type"] == "COMPLETED"
