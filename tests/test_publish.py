"""Snapshot store and publishing: atomic switch, retention, rollback, re-publishing a quarantined candidate."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import polars as pl
import pytest

from flows.cli import main
from tasks.publish import SnapshotStore, StaleCandidateError, republish, write_part
from tasks.schemas import PUBLISHED_TABLES
from tasks.steps import write_json
from tests.test_validate import valid_tables


def make_candidate(store: SnapshotStore, run_id: str, *, copies: int = 1, previous: str | None = None) -> Path:
    """A candidate folder with valid tables (articles repeated `copies` times under new ids) and a manifest."""
    folder = store.candidate(run_id)
    tables = valid_tables()
    extra = [
        tables["articles"].with_columns(pl.col("article_id") + f"_{i}", pl.lit(run_id).alias("run_id"))
        for i in range(1, copies)
    ]
    tables["articles"] = pl.concat([tables["articles"], *extra])
    for name, frame in tables.items():
        write_part(frame, folder / name, f"part-{run_id}")
    state = pl.DataFrame({"source_uri": ["docs/a_en.txt"], "raw_sha256": ["b" * 64]})
    write_part(state, folder / "_state", "fetch_state")
    write_json(
        folder / "manifest.json",
        {
            "run_id": run_id,
            "previous_run_id": previous,
            "row_counts": {name: frame.height for name, frame in tables.items()},
            "validation": {"success": False},
        },
    )
    return folder


def test_publish_switches_current_and_keeps_the_old_snapshot(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    make_candidate(store, "r1")
    store.publish("r1")
    make_candidate(store, "r2", copies=2, previous="r1")
    store.publish("r2")
    assert store.current_run_id() == "r2"
    assert (tmp_path / "current").is_symlink()
    assert str((tmp_path / "current").readlink()) == "snapshots/r2"  # relative: the output folder can move
    assert store.published_run_ids() == ["r1", "r2"]
    assert not store.candidate("r2").exists()


def _inconsistencies(snap: Path) -> list[str]:
    """What is wrong with one pinned snapshot: missing tables, parts of another run, counts unlike the manifest."""
    out = []
    manifest = json.loads((snap / "manifest.json").read_text())
    for name in PUBLISHED_TABLES:
        parts = sorted((snap / name).glob("*.parquet"))
        if not parts:
            out.append(f"{snap.name}: {name} missing")
            continue
        if {p.stem for p in parts} != {f"part-{manifest['run_id']}"}:
            out.append(f"{snap.name}: {name} has parts of another run: {parts}")
        height = pl.read_parquet(parts).height
        if height != manifest["row_counts"][name]:
            out.append(f"{snap.name}: {name} has {height} rows, manifest says {manifest['row_counts'][name]}")
    return out


def test_reader_polling_current_never_sees_a_mix_or_a_missing_table(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    runs = [f"r{i:03d}" for i in range(12)]
    for i, run in enumerate(runs):
        make_candidate(store, run, copies=1 + i % 3)
    store.publish(runs[0])
    problems: list[str] = []
    reads = 0
    stop = threading.Event()

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            # Pin one snapshot, then read everything from it: the documented way to read several tables.
            problems.extend(_inconsistencies((tmp_path / "current").resolve(strict=True)))
            reads += 1

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for run in runs[1:]:
            store.publish(run)
            assert (tmp_path / "current").exists()  # never a moment without current
        for i in range(300):
            # Keep switching while the readers read, so many reads straddle a switch.
            store.point_current(runs[i % len(runs)])
        for run in reversed(runs[:-1]):
            store.rollback(run)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not problems, problems[:5]
    assert reads > 10


def test_prune_keeps_the_newest_and_never_current(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    for run in ("r1", "r2", "r3", "r4"):
        make_candidate(store, run)
        store.publish(run)
    store.rollback("r1")
    removed = store.prune(2)
    assert removed == ["r2", "r3"]
    assert store.published_run_ids() == ["r1", "r4"]
    assert store.current_run_id() == "r1"


def test_prune_quarantine_keeps_the_newest(tmp_path: Path):
    store = SnapshotStore(tmp_path)
    for run in ("q1", "q2", "q3"):
        make_candidate(store, run)
        store.quarantine(run)
    assert store.prune_quarantine(2) == ["q1"]
    assert store.quarantined_run_ids() == ["q2", "q3"]


def test_rollback_command_points_current_at_an_earlier_snapshot(tmp_path: Path, capsys):
    store = SnapshotStore(tmp_path)
    for run in ("r1", "r2", "r3"):
        make_candidate(store, run)
        store.publish(run)
    assert main(["rollback", "--output", str(tmp_path)]) == 0
    assert store.current_run_id() == "r2"
    assert main(["rollback", "r1", "--output", str(tmp_path)]) == 0
    assert store.current_run_id() == "r1"
    assert "current -> r1 (was r2)" in capsys.readouterr().out
    assert main(["rollback", "nope", "--output", str(tmp_path)]) == 2
    assert main(["rollback", "--output", str(tmp_path)]) == 2  # nothing older than r1
    assert store.current_run_id() == "r1"


def test_republish_revalidates_and_publishes_a_quarantined_candidate(tmp_path: Path):
    from tasks.config import Settings

    store = SnapshotStore(tmp_path)
    make_candidate(store, "r1")
    store.publish("r1")
    make_candidate(store, "r2", previous="r1")
    store.quarantine("r2")
    done = republish(store, "r2", Settings(output_dir=str(tmp_path)))
    assert done.published
    assert store.current_run_id() == "r2"
    manifest = store.manifest(store.snapshot("r2"))
    assert manifest["validation"]["success"] is True
    assert manifest["republished"][0]["current_before"] == "r1"
    assert (store.snapshot("r2") / manifest["data_docs"]).is_file()
    assert json.loads((store.snapshot("r2") / "validation" / "result.json").read_text())["success"] is True


def test_republish_refuses_a_candidate_built_on_an_older_snapshot(tmp_path: Path):
    from tasks.config import Settings

    store = SnapshotStore(tmp_path)
    make_candidate(store, "r1")
    store.publish("r1")
    make_candidate(store, "r2", previous="r1")
    store.quarantine("r2")
    make_candidate(store, "r3", previous="r1")
    store.publish("r3")
    with pytest.raises(StaleCandidateError, match="current is now r3"):
        republish(store, "r2", Settings(output_dir=str(tmp_path)))
    assert store.current_run_id() == "r3"
    assert republish(store, "r2", Settings(output_dir=str(tmp_path)), force=True).published


def test_publish_command_keeps_a_still_failing_candidate_in_quarantine(tmp_path: Path, capsys):
    store = SnapshotStore(tmp_path)
    make_candidate(store, "r1")
    store.publish("r1")
    folder = make_candidate(store, "r2", previous="r1")
    bad = valid_tables()["figures"].with_columns(pl.lit("WON").alias("unit"))
    write_part(bad, folder / "figures", "part-r2")
    store.quarantine("r2")
    assert main(["publish", "r2", "--output", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "figures.unit expect_column_values_to_be_in_set if kind==money" in out
    assert "unit='WON'" in out
    assert store.current_run_id() == "r1"
    assert store.quarantined_run_ids() == ["r2"]
    status = json.loads(_status(tmp_path, capsys))
    assert status["quarantine"][0]["validation"]["success"] is False


def _status(root: Path, capsys) -> str:
    assert main(["status", "--output", str(root)]) == 0
    return capsys.readouterr().out
