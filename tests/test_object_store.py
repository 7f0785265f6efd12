"""Object-storage outputs: the real pipeline publishing to memory://, file:// and S3 (moto's server on 127.0.0.1).

A URL output is published by uploading the snapshot and then writing `current.json`; readers follow the pointer.
The work happens in a local work directory, which a fresh worker fills from the remote current snapshot.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.cli import main
from tasks.publish import POINTER, RemoteSnapshots, RunLockedError, SnapshotStore
from tasks.publish.reader import current_files, current_pointer, read_current
from tasks.schemas import PUBLISHED_TABLES
from tasks.steps import FAULT_ENV
from tests.snapshots import snapshot_contents
from tests.test_publish import make_candidate

SEED_FILES = sorted(p.name for p in (Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))
ADDED_PARAGRAPH = "\nOn March 3, the city added a second research site in Pangyo, officials said.\n"


def _settings(folder: Path, name: str, **values: Any) -> Path:
    """A settings TOML ([pipeline] table) in `folder`."""
    lines = ["[pipeline]"] + [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _change_a_seed(workdir: Path) -> None:
    changed = workdir / "seeds" / SEED_FILES[0]
    changed.write_text(changed.read_text(encoding="utf-8") + ADDED_PARAGRAPH, encoding="utf-8")


def _assert_pointer_names_a_complete_snapshot(remote: RemoteSnapshots, run_id: str) -> dict[str, Any]:
    pointer = remote.pointer()
    assert pointer is not None
    assert pointer["run_id"] == run_id
    assert pointer["snapshot"] == f"snapshots/{run_id}"
    assert set(pointer["tables"]) == set(PUBLISHED_TABLES)
    listed = [key for keys in pointer["tables"].values() for key in keys] + pointer["state"]
    assert all(key.startswith(f"snapshots/{run_id}/") for key in listed)
    assert all(remote.fs.exists(remote.key(key)) for key in listed)
    assert all(pointer["tables"][name] for name in PUBLISHED_TABLES)  # every table has at least one part
    manifest = remote.fs.cat_file(remote.key(pointer["manifest"]["key"]))
    assert hashlib.sha256(manifest).hexdigest() == pointer["manifest"]["sha256"]
    assert json.loads(manifest)["run_id"] == run_id
    return pointer


def _assert_store_matches_local(output: str, snapshot: Path, storage_options: dict[str, Any] | None = None) -> None:
    """Every table read back from the store through the pointer equals the work directory's copy."""
    remote_tables = {}
    for name, table in PUBLISHED_TABLES.items():
        frame = read_current(output, name, storage_options=storage_options)
        remote_tables[name] = frame.select([c for c in table.names if c in frame.columns]).sort(list(table.key))
    local = snapshot_contents(snapshot)
    for name in PUBLISHED_TABLES:
        assert_frame_equal(remote_tables[name].select(local[name].columns), local[name])


@pytest.fixture
def memory_url() -> Iterator[str]:
    """A fresh prefix on fsspec's in-process memory file system."""
    bucket = f"newsgraph-test-{uuid.uuid4().hex[:8]}"
    yield f"memory://{bucket}/out"
    fs = fsspec.filesystem("memory")
    if fs.exists(f"/{bucket}"):
        fs.rm(f"/{bucket}", recursive=True)


@pytest.mark.e2e
@pytest.mark.slow
def test_memory_output_publishes_a_pointer_that_readers_follow_and_a_fresh_work_dir_catches_up(
    seed_copy: Path, run_flow, memory_url: str, capsys
):
    work_a = _settings(seed_copy, "a", work_dir=str(seed_copy / "work-a"))
    first = run_flow(seed_copy, output_dir=memory_url, settings_file=str(work_a))
    assert first["published"] is True
    remote = RemoteSnapshots(memory_url)
    pointer = _assert_pointer_names_a_complete_snapshot(remote, first["run_id"])
    assert pointer["previous_run_id"] is None
    assert not remote.fs.exists(remote.key("current"))  # no symlink emulation: the pointer object is the switch
    assert not remote.fs.exists(remote.key("lease.json"))  # released at the end of the run
    # The raw layer went to the store too (content addressed), the work directory kept the local files.
    blobs = remote.fs.find(remote.key("raw"))
    assert len(blobs) == len(SEED_FILES)
    assert all(hashlib.sha256(remote.fs.cat_file(b)).hexdigest() == b.rsplit("/", 1)[-1] for b in blobs)
    local = (seed_copy / "work-a" / "current").resolve()
    assert local.name == first["run_id"]

    # Read back from the store: polars through fsspec, DuckDB through a registered fsspec file system.
    _assert_store_matches_local(memory_url, local)
    files = current_files(memory_url, "articles")
    con = duckdb.connect()
    con.register_filesystem(fsspec.filesystem("memory"))
    rows = con.execute("select count(*), count(distinct language) from read_parquet(?)", [files]).fetchone()
    assert rows is not None
    assert rows[0] == json.loads(remote.fs.cat_file(remote.key(pointer["manifest"]["key"])))["row_counts"]["articles"]

    # Nothing new: nothing published, the pointer is untouched.
    again = run_flow(seed_copy, output_dir=memory_url, settings_file=str(work_a))
    assert again["published"] is False
    assert remote.pointer() == pointer

    # A fresh worker (empty work directory) brings the current snapshot down first: its state says nothing is new.
    work_b = _settings(seed_copy, "b", work_dir=str(seed_copy / "work-b"))
    fresh = run_flow(seed_copy, output_dir=memory_url, settings_file=str(work_b))
    assert fresh["published"] is False
    assert fresh["current"] == first["run_id"]
    assert (seed_copy / "work-b" / "current").resolve().name == first["run_id"]
    assert remote.pointer() == pointer

    # A changed article: the new snapshot carries the others forward and the pointer moves.
    _change_a_seed(seed_copy)
    second = run_flow(seed_copy, output_dir=memory_url, settings_file=str(work_b))
    assert second["published"] is True
    moved = _assert_pointer_names_a_complete_snapshot(remote, second["run_id"])
    assert moved["previous_run_id"] == first["run_id"]
    assert read_current(memory_url, "articles")["body"].str.contains("second research site").any()
    _assert_store_matches_local(memory_url, (seed_copy / "work-b" / "current").resolve())

    # Rollback rewrites the pointer; status reads the store.
    assert main(["rollback", "--output", memory_url, "--settings", str(work_b)]) == 0
    assert f"{memory_url}/{POINTER} -> {first['run_id']} (was {second['run_id']})" in capsys.readouterr().out
    assert remote.current_run_id() == first["run_id"]
    assert not read_current(memory_url, "articles")["body"].str.contains("second research site").any()
    assert main(["status", "--output", memory_url, "--settings", str(work_b)]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["current"] == first["run_id"]
    assert status["snapshots"] == [first["run_id"], second["run_id"]]
    assert status["manifest"]["run_id"] == first["run_id"]
    # The next run of either work directory follows the rolled-back pointer: the change is news again.
    third = run_flow(seed_copy, output_dir=memory_url, settings_file=str(work_a))
    assert third["published"] is True
    assert _assert_pointer_names_a_complete_snapshot(remote, third["run_id"])["previous_run_id"] == first["run_id"]


def _publish_candidates(store: SnapshotStore, remote: RemoteSnapshots, runs: list[str]) -> None:
    for run in runs:
        make_candidate(store, run)
        store.publish(run)
        remote.publish(store, run)


def test_remote_prune_keeps_the_newest_never_current_and_drops_unfinished_uploads(tmp_path: Path, memory_url: str):
    store, remote = SnapshotStore(tmp_path / "work"), RemoteSnapshots(memory_url)
    _publish_candidates(store, remote, ["r1", "r2", "r3", "r4"])
    remote.fs.pipe_file(remote.key("snapshots/r5/articles/part-r5.parquet"), b"half an upload")
    assert remote.published_run_ids() == ["r1", "r2", "r3", "r4"]  # r5 has no manifest: not a snapshot
    assert remote.rollback() == "r3"
    assert remote.rollback("r1") == "r1"
    with pytest.raises(ValueError, match="no published snapshot"):
        remote.rollback("r5")
    assert remote.prune(2) == ["r2", "r3", "r5"]
    assert remote.published_run_ids() == ["r1", "r4"]
    _assert_pointer_names_a_complete_snapshot(remote, "r1")


def test_carried_forward_parts_are_copied_inside_the_store_not_uploaded(tmp_path: Path, memory_url: str):
    store, remote = SnapshotStore(tmp_path / "work"), RemoteSnapshots(memory_url)
    _publish_candidates(store, remote, ["r1"])
    folder = make_candidate(store, "r2")
    shutil.rmtree(folder / "figures")
    (folder / "figures").mkdir()
    os.link(store.snapshot("r1") / "figures" / "part-r1.parquet", folder / "figures" / "part-r1.parquet")
    store.publish("r2")
    uploaded: list[str] = []
    put = remote.fs.put

    def spy(lpaths: list[str], rpaths: list[str], **kwargs: Any) -> Any:
        uploaded.extend(lpaths)
        return put(lpaths, rpaths, **kwargs)

    remote.fs.put = spy  # type: ignore[method-assign] # observe which files travel; the store is real
    try:
        remote.publish(store, "r2")
    finally:
        del remote.fs.put
    assert not any("figures" in path for path in uploaded)
    assert any("articles" in path for path in uploaded)
    assert remote.pointer()["tables"]["figures"] == ["snapshots/r2/figures/part-r1.parquet"]  # type: ignore[index]
    same = remote.fs.cat_file(remote.key("snapshots/r2/figures/part-r1.parquet"))
    assert same == (store.snapshot("r1") / "figures" / "part-r1.parquet").read_bytes()


def test_a_fresh_work_dir_follows_the_remote_pointer_not_its_own_leftovers(tmp_path: Path, memory_url: str):
    store, remote = SnapshotStore(tmp_path / "work"), RemoteSnapshots(memory_url)
    assert remote.sync_down(store) is None
    _publish_candidates(store, remote, ["r1", "r2"])
    fresh = SnapshotStore(tmp_path / "fresh")
    assert remote.sync_down(fresh) == "r2"
    assert fresh.current_run_id() == "r2"
    assert remote.manifest("r2") == fresh.manifest(fresh.snapshot("r2"))
    # A local publish whose upload never happened (crash) is not current once the next run syncs.
    make_candidate(store, "r3")
    store.publish("r3")
    assert remote.sync_down(store) == "r2"
    assert store.current_run_id() == "r2"
    # A store emptied by hand: the work directory's pointer goes too, so the next run starts from scratch.
    remote.fs.rm(remote.key(POINTER))
    assert remote.sync_down(store) is None
    assert store.current() is None


def test_lease_is_exclusive_released_and_an_expired_one_is_taken_over(memory_url: str):
    remote = RemoteSnapshots(memory_url)
    with remote.lease(timeout=0) as holder:
        lease = json.loads(remote.fs.cat_file(remote.key("lease.json")))
        assert lease["holder"] == holder
        with pytest.raises(RunLockedError, match=r"lease\.json"), remote.lease(timeout=0):
            pass
    assert not remote.fs.exists(remote.key("lease.json"))
    stale = {"holder": "dead:1:x", "expires_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}
    remote.fs.pipe_file(remote.key("lease.json"), json.dumps(stale).encode())
    with remote.lease(timeout=0) as holder:
        assert holder != "dead:1:x"


def test_publish_command_republishes_a_quarantined_candidate_to_the_store(tmp_path: Path, memory_url: str, capsys):
    settings = _settings(tmp_path, "s", work_dir=str(tmp_path / "work"))
    store, remote = SnapshotStore(tmp_path / "work"), RemoteSnapshots(memory_url)
    _publish_candidates(store, remote, ["r1"])
    make_candidate(store, "r2", previous="r1")
    store.quarantine("r2")
    assert main(["status", "--output", memory_url, "--settings", str(settings)]) == 0
    assert [q["run_id"] for q in json.loads(capsys.readouterr().out)["quarantine"]] == ["r2"]
    assert main(["publish", "r2", "--output", memory_url, "--settings", str(settings)]) == 0
    assert f"named by {memory_url}/{POINTER}" in capsys.readouterr().out
    _assert_pointer_names_a_complete_snapshot(remote, "r2")
    assert remote.manifest("r2")["validation"]["success"] is True


def test_a_url_is_refused_as_a_local_snapshot_root():
    with pytest.raises(ValueError, match="is a URL"):
        SnapshotStore("s3://bucket/prefix")


# -- file:// : a store on disk that outlives the process, so a run can be killed between upload and pointer ---------


@pytest.mark.e2e
@pytest.mark.slow
def test_killed_between_upload_and_pointer_switch_current_json_stays_on_the_old_snapshot(
    seed_copy: Path, run_flow, tmp_path: Path
):
    url = f"file://{tmp_path / 'bucket' / 'newsgraph'}"
    settings = _settings(seed_copy, "s", work_dir=str(seed_copy / "work"))
    first = run_flow(seed_copy, output_dir=url, settings_file=str(settings))
    remote = RemoteSnapshots(url)
    before = _assert_pointer_names_a_complete_snapshot(remote, first["run_id"])
    assert not (tmp_path / "bucket" / "newsgraph" / "current").exists()
    assert current_files(url, "articles") == [f"{url}/{key}" for key in before["tables"]["articles"]]
    old_articles = read_current(url, "articles")

    _change_a_seed(seed_copy)
    env = {k: v for k, v in os.environ.items() if k not in {FAULT_ENV, "PREFECT_API_URL"}}
    env |= {FAULT_ENV: "upload:kill", "PREFECT_HOME": str(tmp_path / "prefect-home"), "TQDM_DISABLE": "1"}
    killed = subprocess.run(
        [
            str(Path(sys.executable).with_name("newsgraph")),
            "run",
            "--sources",
            str(seed_copy / "sources.toml"),
            "--output",
            url,
            "--settings",
            str(settings),
            "--verbose",
        ],
        cwd=seed_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert killed.returncode == -9, killed.stdout[-4000:] + killed.stderr[-4000:]
    # The new snapshot was uploaded completely, but nothing names it: readers still get the old one.
    orphans = [r for r in remote.published_run_ids() if r != first["run_id"]]
    assert len(orphans) == 1
    assert remote.pointer() == before
    assert_frame_equal(read_current(url, "articles"), old_articles)

    # The next run builds on what the pointer names and publishes the change.
    after = run_flow(seed_copy, output_dir=url, settings_file=str(settings))
    assert after["published"] is True
    moved = _assert_pointer_names_a_complete_snapshot(remote, after["run_id"])
    assert moved["previous_run_id"] == first["run_id"]
    assert read_current(url, "articles")["body"].str.contains("second research site").any()
    assert (seed_copy / "work" / "current").resolve().name == after["run_id"]


# -- S3 over HTTP: moto's server on 127.0.0.1, s3fs, polars' native reader and DuckDB ------------------------------


@pytest.fixture(scope="module")
def s3_server() -> Iterator[dict[str, Any]]:
    """The S3 API of moto's server on a free port of 127.0.0.1 and the storage options that reach it."""
    pytest.importorskip("s3fs")
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield {
            "endpoint_url": f"http://{host}:{port}",
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"region_name": "us-east-1"},
        }
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: dict[str, Any]) -> str:
    import boto3

    name = f"newsgraph-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "s3",
        endpoint_url=s3_server["endpoint_url"],
        aws_access_key_id=s3_server["key"],
        aws_secret_access_key=s3_server["secret"],
        region_name="us-east-1",
    ).create_bucket(Bucket=name)
    return name


@pytest.mark.e2e
@pytest.mark.slow
def test_s3_output_over_http_publishes_and_reads_back_with_polars_and_duckdb(
    seed_copy: Path, run_flow, s3_server: dict[str, Any], s3_bucket: str, monkeypatch
):
    url = f"s3://{s3_bucket}/newsgraph"
    monkeypatch.setenv("NEWSGRAPH_STORAGE_OPTIONS", json.dumps(s3_server))
    monkeypatch.setenv("NEWSGRAPH_WORK_DIR", str(seed_copy / "work"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never look for instance credentials
    first = run_flow(seed_copy, output_dir=url)
    assert first["published"] is True
    remote = RemoteSnapshots(url, s3_server)
    pointer = _assert_pointer_names_a_complete_snapshot(remote, first["run_id"])
    assert len(remote.fs.find(f"{s3_bucket}/newsgraph/raw")) == len(SEED_FILES)
    assert current_pointer(url, storage_options=s3_server) == pointer
    _assert_store_matches_local(url, (seed_copy / "work" / "current").resolve(), s3_server)

    # polars' own object-store reader, given the file list from the pointer.
    files = current_files(url, "articles", storage_options=s3_server)
    polars_options = {
        "aws_endpoint_url": s3_server["endpoint_url"],
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "aws_region": "us-east-1",
        "aws_allow_http": "true",
    }
    articles = pl.scan_parquet(files, storage_options=polars_options).collect()
    assert articles.height == remote.manifest(first["run_id"])["row_counts"]["articles"]
    # DuckDB through the registered s3fs file system: no httpfs extension to download.
    con = duckdb.connect()
    con.register_filesystem(fsspec.filesystem("s3", **s3_server))
    dates = current_files(url, "dates", storage_options=s3_server)
    count = con.execute("select count(*) from read_parquet(?)", [dates]).fetchone()
    assert count is not None
    assert count[0] == remote.manifest(first["run_id"])["row_counts"]["dates"]

    # The lease is a real exclusive create (If-None-Match) on this S3 API.
    with remote.lease(timeout=0), pytest.raises(RunLockedError), RemoteSnapshots(url, s3_server).lease(timeout=0):
        pass

    again = run_flow(seed_copy, output_dir=url)
    assert again["published"] is False
    assert remote.pointer() == pointer


def test_raw_layer_on_a_url_is_content_addressed_write_once_and_local_paths_keep_the_local_store(
    tmp_path: Path, memory_url: str
):
    from tasks.config import Settings
    from tasks.rawstore import ObjectRawStore, RawStore, open_raw_store

    raw = open_raw_store(Settings(output_dir=memory_url, work_dir=str(tmp_path / "work")))
    assert isinstance(raw, ObjectRawStore)
    assert raw.index_dir == tmp_path / "work" / "_raw_index"  # the HTTP cache index stays on local disk
    blobs = [f"document {i} 문서 {i}".encode() for i in range(1200)]  # enough to list the layer once
    digests = raw.put_many(blobs[:10])
    assert raw.put_many(blobs) == [hashlib.sha256(b).hexdigest() for b in blobs]
    assert digests == raw.put_many(blobs)[:10]
    assert all(raw.get(d) == b for d, b in zip(digests, blobs, strict=False))
    stored = raw.fs.find(f"{memory_url}/raw")
    assert len(stored) == len(blobs)
    assert all(key.rsplit("/", 2)[-2] == key.rsplit("/", 1)[-1][:2] for key in stored)
    assert digests[0] in raw
    assert "0" * 64 not in raw
    for local in (str(tmp_path / "out"), f"file://{tmp_path / 'out'}"):
        store = open_raw_store(Settings(output_dir=local))
        assert type(store) is RawStore
        assert store.root == tmp_path / "out" / "raw"


def test_reader_resolves_a_local_outputs_symlink_once(tmp_path: Path):
    store = SnapshotStore(tmp_path / "output")
    for run in ("r1", "r2"):
        make_candidate(store, run)
        store.publish(run)
    files = current_files(str(tmp_path / "output"), "articles")
    assert files == [str(store.snapshot("r2") / "articles" / "part-r2.parquet")]
    assert read_current(str(tmp_path / "output"), "articles").height == pl.read_parquet(files).height
