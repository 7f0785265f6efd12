"""For consumers: the files of the current snapshot of an output, local or on object storage.

A URL output (s3://, gs://, file://, memory://, ...) names its current snapshot in `current.json`; read the pointer
once and then exactly the files it lists, never "whatever is under a prefix" (a snapshot being uploaded would show
through). A local output's `current` symlink is resolved once, which pins one snapshot the same way.

    files = current_files("s3://bucket/newsgraph", "articles", storage_options={"endpoint_url": ...})
    pl.scan_parquet(files, storage_options={"aws_endpoint_url": ...})    # polars reads S3/GCS/Azure natively
    duckdb.register_filesystem(fsspec.filesystem("s3", ...))              # DuckDB through fsspec, no httpfs
    duckdb.sql(f"SELECT count(*) FROM read_parquet({files!r})")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from tasks.config import is_url
from tasks.publish.remote import POINTER, RemoteSnapshots


def current_pointer(output: str, *, storage_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `current.json` of a URL output (run id, snapshot prefix, files per table, manifest digest)."""
    pointer = RemoteSnapshots(output, storage_options).pointer()
    if pointer is None:
        raise FileNotFoundError(f"{output} has no {POINTER}: nothing published there yet")
    return pointer


def current_files(output: str, table: str, *, storage_options: dict[str, Any] | None = None) -> list[str]:
    """The Parquet files of `table` in the current snapshot: URLs for a URL output, absolute paths for a local one.

    Call it once per snapshot you want to read: two calls may straddle a publish. For several tables of one
    snapshot, use `current_pointer` once and join its keys to the output URL.
    """
    if not is_url(output):
        folder = (Path(output) / "current").resolve(strict=True) / table
        return [str(p) for p in sorted(folder.glob("*.parquet"))]
    pointer = current_pointer(output, storage_options=storage_options)
    if table not in pointer["tables"]:
        raise KeyError(f"no table {table!r} in {output}/{POINTER}; tables: {', '.join(pointer['tables'])}")
    return [f"{output.rstrip('/')}/{key}" for key in pointer["tables"][table]]


def read_current(output: str, table: str, *, storage_options: dict[str, Any] | None = None) -> pl.DataFrame:
    """One table of the current snapshot, read through fsspec (any file system fsspec knows, memory:// included)."""
    files = current_files(output, table, storage_options=storage_options)
    if not is_url(output):
        return pl.read_parquet(files)
    fs = RemoteSnapshots(output, storage_options).fs
    frames = []
    for url in files:
        with fs.open(url, "rb") as fh:
            frames.append(pl.read_parquet(fh))
    return pl.concat(frames, how="vertical") if frames else pl.DataFrame()
