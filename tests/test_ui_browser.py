"""The Prefect UI in headless Chromium: find the served deployment, start a custom run from the UI, see it complete."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.server, pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Debian's Chromium, never a downloaded browser; no network beyond 127.0.0.1.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def _run_created_since(served, since: str, timeout: float = 60) -> str:
    """Id of the deployment's run the UI just created (the UI's own toast link is not stable enough to click)."""
    deadline = time.monotonic() + timeout
    body = {
        "deployments": {"id": {"any_": [served.deployment_id]}},
        "flow_runs": {"expected_start_time": {"after_": since}},
        "sort": "EXPECTED_START_TIME_DESC",
        "limit": 5,
    }
    while time.monotonic() < deadline:
        response = served.post("/flow_runs/filter", body)
        response.raise_for_status()
        runs = [r for r in response.json() if r["created"] >= since]
        if runs:
            return str(runs[0]["id"])
        time.sleep(1)
    raise TimeoutError("the UI did not create a flow run")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (./dev test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_custom_run_started_from_the_ui_completes_and_publishes(served_pipeline, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{served_pipeline.ui_url}/deployments")
        deployment = page.get_by_role("link", name="nightly", exact=True).first
        deployment.wait_for()
        page.get_by_text("At 02:30 AM every day").first.wait_for()  # the schedule is visible in the list
        deployment.click()

        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_text("Custom run", exact=True).click()
        # The form is generated from the flow's typed, documented parameters.
        page.get_by_text("Articles per batch task run").wait_for()
        page.get_by_text("Refetch everything and rebuild all tables").wait_for()
        page.screenshot(path=ARTIFACTS / "ui-custom-run-form.png", full_page=True)
        page.get_by_role("switch").first.click()  # full_refresh on
        started = datetime.now(UTC).isoformat()
        page.get_by_role("button", name="Submit").click()
        flow_run_id = _run_created_since(served_pipeline, started)
        page.goto(f"{served_pipeline.ui_url}/runs/flow-run/{flow_run_id}")

        run = served_pipeline.wait(flow_run_id)
        assert run["state_type"] == "COMPLETED", served_pipeline.log_tail()
        page.reload()
        page.get_by_text("Completed").first.wait_for()
        page.screenshot(path=ARTIFACTS / "ui-flow-run-completed.png", full_page=True)
    except Exception:
        page.screenshot(path=ARTIFACTS / "ui-failure.png", full_page=True)
        raise
    finally:
        page.close()

    assert run["parameters"]["full_refresh"] is True
    # Default parameters resolve against the served working directory: its sources.toml and output/.
    current = (served_pipeline.workdir / "output" / "current").resolve()
    manifest = json.loads((current / "manifest.json").read_text())
    assert manifest["flow_run_id"] == flow_run_id
    assert manifest["parameters"]["full_refresh"] is True
    assert manifest["row_counts"]["articles"] == 5
