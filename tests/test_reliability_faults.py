"""Faults through the real CLI: SIGKILL at every step and during publish, disk full, two runs at once, API restart.

Every run is `newsgraph run` in a subprocess against one real Prefect server (tests/faults.py); a fault is injected
with NEWSGRAPH_TEST_FAULT, read only by `tasks.steps.fault_point`. The baseline snapshot is built once per module
and copied into each test's folder (raw layer and HTTP cache included), so each test starts from "last night's
snapshot" without rebuilding it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tasks.ids import article_id
from tasks.schemas import PUBLISHED_TABLES
from tests.conftest import SEEDS
from tests.faults import (
    KILL_POINTS,
    SIGKILLED,
    PrefectServer,
    assert_complete_snapshot,
    copy_tree,
    current_run_id,
    pipeline_env,
    prefect_server,
    raw_digests,
    run_pipeline,
    snapshot_contents,
    start_pipeline,
)
from tests.httpfixtures import ROBOTS, LoopbackServer, article_html, sources_toml

pytestmark = [pytest.mark.e2e, pytest.mark.server, pytest.mark.slow]

SEED_FILES = sorted(p.name for p in SEEDS.glob("*.txt"))
WEB = [
    (
        "/news/1",
        "Daejeon AI hub",
        "Daejeon city signed an agreement with KAIST on Tuesday to build an artificial intelligence hub downtown.",
        "The hub will open in 2026 and host start-ups working on semiconductors and robotics, the city said.",
    ),
    (
        "/news/2",
        "Busan trains AI engineers",
        "Busan announced a new programme to train five hundred AI engineers over the next three years.",
        "The programme is funded by the Ministry of Science and ICT and the city government together.",
    ),
]
ADDED_PARAGRAPH = "\nOn March 3, the city added a second research site in Pangyo, officials said.\n"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    with prefect_server(tmp_path_factory.mktemp("prefect-server")) as server:
        yield server


@pytest.fixture(scope="module")
def web():
    server = LoopbackServer()
    server.page("/robots.txt", ROBOTS, content_type="text/plain")
    for path, title, p1, p2 in WEB:
        server.page(path, article_html(title, p1, p2), etag=f'"{path}-v1"')
    with server.running():
        yield server


def _write_sources(workdir: Path, web: LoopbackServer, paths: list[str]) -> None:
    listed = ", ".join(f'"{web.url(p)}"' for p in paths)
    body = (
        '[[sources]]\nkind = "directory"\nname = "docs"\npath = "docs"\n\n'
        f'[[sources]]\nkind = "urls"\nname = "web"\nurls = [{listed}]\nutc_offset = "+09:00"\n'
    )
    # reuse_within_hours: a run restarted after a crash takes pages fetched minutes ago from the raw layer.
    (workdir / "sources.toml").write_text(sources_toml(web, body, reuse_within_hours=12), encoding="utf-8")


def _check(result: subprocess.CompletedProcess[str], code: int) -> None:
    assert result.returncode == code, f"exit {result.returncode}, expected {code}:\n{result.stdout[-6000:]}"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, api: PrefectServer, web: LoopbackServer) -> Path:
    """Last night's state: three seed files and one web page, published once."""
    work = tmp_path_factory.mktemp("baseline")
    (work / "docs").mkdir()
    for name in SEED_FILES[:3]:
        shutil.copy(SEEDS / name, work / "docs" / name)
    _write_sources(work, web, ["/news/1"])
    _check(run_pipeline(work, env=pipeline_env(api.api_url)), 0)
    return work


@pytest.fixture
def work(baseline: Path, tmp_path: Path) -> Path:
    return copy_tree(baseline, tmp_path / "work")


def _tonight(work: Path, web: LoopbackServer) -> None:
    """Tonight's changes: two new files, one changed file, one new web page."""
    for name in SEED_FILES[3:]:
        shutil.copy(SEEDS / name, work / "docs" / name)
    changed = work / "docs" / SEED_FILES[0]
    changed.write_text(changed.read_text(encoding="utf-8") + ADDED_PARAGRAPH, encoding="utf-8")
    _write_sources(work, web, ["/news/1", "/news/2"])


def _expected_ids(web: LoopbackServer) -> set[str]:
    from tasks.fetch.canonical import canonical_url

    files = {article_id(f"docs:docs/{name}") for name in SEED_FILES}
    return files | {article_id(canonical_url(web.url(path))) for path, *_ in WEB}


def _assert_raw_layer_intact(output: Path) -> None:
    for blob in (output / "raw").glob("??/*"):
        if not blob.name.startswith("."):
            assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name, f"corrupt raw blob {blob}"


def test_killed_at_every_step_and_during_publish_the_next_run_completes_and_loses_nothing(
    work: Path, api: PrefectServer, web: LoopbackServer
):
    output = work / "output"
    before = current_run_id(output)
    assert before is not None
    old = snapshot_contents(output / "snapshots" / before)
    _tonight(work, web)
    raw_before = raw_digests(output)
    orphan = None
    for point in KILL_POINTS:
        result = run_pipeline(work, "--batch-size", "2", env=pipeline_env(api.api_url, fault=f"{point}:kill"))
        _check(result, SIGKILLED)
        # `current` still names last night's complete snapshot, untouched.
        assert current_run_id(output) == before, point
        assert_complete_snapshot(output / "current")
        for name, frame in snapshot_contents(output / "current").items():
            assert_frame_equal(frame, old[name], check_row_order=True)
        # Nothing fetched is lost: the raw layer only grows.
        assert raw_digests(output) >= raw_before, point
        raw_before = raw_digests(output)
    # Killed between moving the validated candidate to snapshots/ and switching `current`: a complete snapshot
    # nobody points at yet.
    orphan = next(p for p in (output / "snapshots").iterdir() if p.name != before)
    assert_complete_snapshot(orphan)

    result = run_pipeline(work, "--batch-size", "2", env=pipeline_env(api.api_url))
    _check(result, 0)
    now = current_run_id(output)
    assert now not in {before, orphan.name}
    folder = output / "snapshots" / now
    assert_complete_snapshot(folder)
    new = snapshot_contents(folder)
    # The run after the crashes publishes exactly what the uninterrupted run (killed only after validation) built.
    for name, frame in new.items():
        assert_frame_equal(frame, snapshot_contents(orphan)[name], check_row_order=True)
    assert set(new["articles"]["article_id"]) == _expected_ids(web)
    changed = new["articles"].filter(pl.col("source_uri") == f"docs/{SEED_FILES[0]}")
    assert "second research site in Pangyo" in changed["body"][0]
    # Rows of articles nobody touched are carried forward unchanged in every per-article table.
    untouched = set(old["articles"]["article_id"]) - set(changed["article_id"])
    for name, table in PUBLISHED_TABLES.items():
        if table.per_article:
            keep = pl.col("article_id").is_in(list(untouched))
            assert_frame_equal(new[name].filter(keep), old[name].filter(keep), check_row_order=True)
    # Pages downloaded once are never downloaded again, however often the run was restarted.
    assert web.hits("/news/1") == 1
    assert web.hits("/news/2") == 1
    _assert_raw_layer_intact(output)
    # Crashed runs leave no scratch behind once a run has completed.
    assert not any((output / "staging").iterdir())
    assert not any((output / "candidates").iterdir())


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None, reason="needs root to mount a tmpfs")
def test_disk_full_while_writing_a_snapshot_fails_cleanly_and_current_is_unchanged(
    baseline: Path, tmp_path: Path, api: PrefectServer, web: LoopbackServer
):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], check=False)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        work = copy_tree(baseline, disk / "work")
        output = work / "output"
        before = current_run_id(output)
        old = snapshot_contents(output / "current")
        _tonight(work, web)
        filler = disk / "filler"
        hits = web.hits("/news/2")
        result = run_pipeline(work, env=pipeline_env(api.api_url, fault=f"assemble:fill={filler}"))
        assert result.returncode not in {0, SIGKILLED}, result.stdout[-4000:]
        assert "No space left on device" in result.stdout
        assert current_run_id(output) == before
        assert_complete_snapshot(output / "current")
        for name, frame in snapshot_contents(output / "current").items():
            assert_frame_equal(frame, old[name], check_row_order=True)
        assert [p.name for p in (output / "snapshots").iterdir()] == [before]
        # Space comes back: the next run publishes without refetching anything.
        filler.unlink()
        _check(run_pipeline(work, env=pipeline_env(api.api_url)), 0)
        assert current_run_id(output) != before
        assert_complete_snapshot(output / "current")
        assert set(snapshot_contents(output / "current")["articles"]["article_id"]) == _expected_ids(web)
        assert web.hits("/news/2") == hits + 1  # downloaded by the run that failed, reused by the next
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_two_runs_started_at_once_one_waits_and_neither_corrupts_the_output(
    work: Path, api: PrefectServer, web: LoopbackServer
):
    output = work / "output"
    before = current_run_id(output)
    _tonight(work, web)
    env = pipeline_env(api.api_url, lock_timeout=600)
    runs = [start_pipeline(work, env=env, log=work / f"run-{i}.log") for i in range(2)]
    codes = [p.wait(timeout=1200) for p in runs]
    logs = [(work / f"run-{i}.log").read_text(encoding="utf-8") for i in range(2)]
    assert codes == [0, 0], logs
    # One published tonight's changes; the other waited for the lock and then found nothing new.
    assert sum("nothing published" in log for log in logs) == 1, logs
    published = [p.name for p in (output / "snapshots").iterdir() if p.name != before]
    assert len(published) == 1
    assert current_run_id(output) == published[0]
    assert_complete_snapshot(output / "current")
    assert set(snapshot_contents(output / "current")["articles"]["article_id"]) == _expected_ids(web)


def test_a_run_that_cannot_get_the_lock_in_time_is_refused_with_a_clear_message(work: Path, api: PrefectServer):
    from tasks.publish import run_lock

    output = work / "output"
    before = current_run_id(output)
    with run_lock(output, timeout=0):
        result = run_pipeline(work, env=pipeline_env(api.api_url, lock_timeout=1))
    assert result.returncode == 75, result.stdout[-4000:]
    assert "another run is using" in result.stdout
    assert current_run_id(output) == before
    assert not any((output / "staging").iterdir())


def test_prefect_api_restart_mid_run_the_run_completes_and_its_state_is_recorded(
    work: Path, api: PrefectServer, web: LoopbackServer
):
    output = work / "output"
    before = current_run_id(output)
    _tonight(work, web)
    log = work / "run.log"
    run = start_pipeline(work, env=pipeline_env(api.api_url), log=log)
    try:
        deadline = time.monotonic() + 600
        while not list((output / "staging").glob("*/articles/*.parquet")) and time.monotonic() < deadline:
            assert run.poll() is None, log.read_text(encoding="utf-8")[-4000:]
            time.sleep(0.2)
        assert run.poll() is None  # mid-run
        api.stop()  # the API goes away while the batches are being processed ...
        time.sleep(5)
        api.start()  # ... and comes back on the same port with the same database
        code = run.wait(timeout=1200)
    finally:
        if run.poll() is None:
            run.kill()
    text = log.read_text(encoding="utf-8")
    assert code == 0, text[-6000:]
    now = current_run_id(output)
    assert now != before
    assert_complete_snapshot(output / "current")
    flow_run_id = _manifest_flow_run(output / "current")
    record = api.flow_run(flow_run_id)
    assert record["state_type"] == "COMPLETED", record


def _manifest_flow_run(folder: Path) -> str:
    import json

    return str(json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["flow_run_id"])


def test_api_down_past_the_client_retries_the_data_outcome_is_atomic_and_a_rerun_is_safe(
    work: Path, api: PrefectServer, web: LoopbackServer
):
    output = work / "output"
    before = current_run_id(output)
    _tonight(work, web)
    env = pipeline_env(api.api_url)
    env["PREFECT_CLIENT_MAX_RETRIES"] = "0"  # an outage longer than the client's whole retry window
    log = work / "run.log"
    run = start_pipeline(work, env=env, log=log)
    try:
        deadline = time.monotonic() + 600
        while not list((output / "staging").glob("*/articles/*.parquet")) and time.monotonic() < deadline:
            assert run.poll() is None, log.read_text(encoding="utf-8")[-4000:]
            time.sleep(0.2)
        assert run.poll() is None  # mid-run
        api.stop()
        # The work goes on (task states travel as buffered events), but the flow run's final state cannot be
        # recorded: the process ends with an error once it gives up on the API.
        code = run.wait(timeout=1200)
    finally:
        if run.poll() is None:
            run.kill()
        api.start()
    assert code != 0
    # Whatever the run got to, `current` is a complete snapshot: the old one or the new one, never a mix.
    assert current_run_id(output) in {before, *(p.name for p in (output / "snapshots").iterdir())}
    assert_complete_snapshot(output / "current")
    # Running again once the API is back is safe: it publishes tonight's changes or finds them already published.
    _check(run_pipeline(work, env=pipeline_env(api.api_url)), 0)
    assert current_run_id(output) != before
    assert_complete_snapshot(output / "current")
    assert set(snapshot_contents(output / "current")["articles"]["article_id"]) == _expected_ids(web)
