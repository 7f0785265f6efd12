"""The translate backlog flow: a later run with a real translator fills pending rows without refetching."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tasks.schemas import PUBLISHED_TABLES, TRANSLATIONS
from tests.test_translate_libretranslate import KEY, KEY_ENV, serve_libretranslate, unwrap

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Flows are imported inside the tests: Prefect reads its settings once, at import, and the session fixture in
# conftest must set PREFECT_HOME and the server start-up timeout before that happens.

ENGLISH_NAMES_SQL = """
select m.article_id, m.surface, e.canonical_name
from read_parquet('{snap}/mentions/*.parquet') m
join read_parquet('{snap}/entities/*.parquet') e using (entity_id)
order by m.mention_id
"""


def _settings(workdir: Path, url: str) -> Path:
    path = workdir / "pipeline.toml"
    path.write_text(
        f'[pipeline]\noutput_dir = "{workdir / "output"}"\n\n'
        "[pipeline.translator_options]\nchunk_chars = 400\n\n"
        f'[pipeline.translator_options.libretranslate]\nurl = "{url}"\nretries = 1\nbackoff = 0.0\n'
        f'api_key_env = "{KEY_ENV}"\n',
        encoding="utf-8",
    )
    return path


def _table(snapshot: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(sorted((snapshot / name).glob("*.parquet"))).sort(list(PUBLISHED_TABLES[name].key))


def test_backlog_run_fills_pending_rows_and_changes_nothing_else(seed_copy, run_flow, monkeypatch, capsys):  # noqa: PLR0915 - one scenario across four runs
    from flows.cli import main
    from flows.translate import translate_backlog

    monkeypatch.setenv(KEY_ENV, KEY)
    first = run_flow(seed_copy)
    output = seed_copy / "output"
    before = output / "snapshots" / first["run_id"]
    pending = _table(before, "translations").filter(pl.col("status") == "pending")
    assert pending.height >= 2, "the seeds have Korean and Japanese articles the placeholder leaves pending"
    assert {"ko", "ja"} <= set(pending["source_language"])

    with serve_libretranslate(api_key=KEY) as fake:
        settings = str(_settings(seed_copy, fake.url))
        # A zero budget sends nothing, so nothing changes and nothing is published.
        assert main(["translate", "--settings", settings, "--translator", "libretranslate", "--char-budget", "0"]) == 0
        assert fake.requests == []
        assert (output / "current").resolve() == before
        # Japanese fails on the server: those rows become failed, the rest of the run goes on.
        fake.fail_when = "光州"
        second = translate_backlog(settings_file=settings, translator="libretranslate")
        after = output / "snapshots" / second["run_id"]
        assert second["published"] is True
        assert (output / "current").resolve() == after
        fake.fail_when = None
        third = translate_backlog(settings_file=settings, translator="libretranslate", include_failed=True)
        sent = len(fake.requests)
        assert main(["translate", "--settings", settings, "--translator", "libretranslate"]) == 0
        assert len(fake.requests) == sent  # nothing left to send
    assert "nothing translated" in capsys.readouterr().out

    # Only translations differ; every other table is the previous snapshot's files, hard-linked.
    for name in PUBLISHED_TABLES:
        if name != TRANSLATIONS.name:
            assert_frame_equal(_table(before, name), _table(after, name))
    assert (before / "articles").iterdir().__next__().stat().st_ino == (
        after / "articles"
    ).iterdir().__next__().stat().st_ino
    manifest = json.loads((after / "manifest.json").read_text())
    assert manifest["kind"] == "translate-backlog"
    assert manifest["previous_run_id"] == first["run_id"]
    assert manifest["validation"]["success"] is True
    assert manifest["row_counts"] == json.loads((before / "manifest.json").read_text())["row_counts"]

    mid = _table(after, "translations")
    assert set(mid.filter(pl.col("status") == "source_is_target")["article_id"]) == set(
        _table(before, "translations").filter(pl.col("status") == "source_is_target")["article_id"]
    )
    failed = mid.filter(pl.col("source_language") == "ja")
    assert set(failed["status"]) == {"failed"}
    assert failed["error"].str.starts_with("HTTP 500").all()
    assert set(mid.filter(pl.col("source_language") == "ko")["status"]) == {"translated"}

    final = output / "snapshots" / third["run_id"]
    done = _table(final, "translations")
    articles = _table(final, "articles").select("article_id", "title", "body")
    filled = done.filter(pl.col("article_id").is_in(pending["article_id"].implode())).join(articles, on="article_id")
    assert set(filled["status"]) == {"translated"}
    assert set(filled["engine"]) == {"libretranslate"}
    assert set(filled["engine_version"]) == {"fake-1.4"}
    for row in filled.iter_rows(named=True):
        assert unwrap(row["body_en"]) == row["body"]  # split on sentences, sent, joined back: nothing lost
        assert row["source_language"] in {"ko", "ja"}
    assert_frame_equal(_table(before, "mentions"), _table(final, "mentions"))

    # Entity names come from entities, so the English-names query answers the same whatever the translations say.
    con = duckdb.connect()
    assert (
        con.execute(ENGLISH_NAMES_SQL.format(snap=before)).fetchall()
        == con.execute(ENGLISH_NAMES_SQL.format(snap=final)).fetchall()
    )

    # The API key went to the server but into no published file.
    for path in output.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_backlog_without_a_snapshot_or_with_an_unknown_translator_fails_clearly(tmp_path):
    from flows.translate import translate_backlog

    with pytest.raises(FileNotFoundError, match="run `newsgraph run` first"):
        translate_backlog(output_dir=str(tmp_path / "empty"), translator="placeholder")
    with pytest.raises(Exception, match="unknown translator 'nope'; available: libretranslate, placeholder"):
        translate_backlog(output_dir=str(tmp_path / "empty"), translator="nope")


def test_api_key_can_come_from_a_prefect_secret_block():
    from prefect.blocks.system import Secret

    Secret(value=KEY).save("newsgraph-test-libretranslate-key", overwrite=True)
    with serve_libretranslate(api_key=KEY) as fake:
        from tasks.translate import get_translator

        translator = get_translator(
            "libretranslate", {"url": fake.url, "api_key_secret": "newsgraph-test-libretranslate-key"}
        )
        assert translator.translate(["광주"], source="ko", target="en") == ["\u27e6ko>en 광주\u27e7"]
    assert fake.requests[0]["api_key"] == KEY
    assert KEY not in repr(translator)


def test_backlog_on_an_object_store_output_moves_the_pointer(seed_copy, run_flow, monkeypatch, tmp_path):
    import fsspec

    from flows.translate import translate_backlog
    from tasks.publish import RemoteSnapshots
    from tasks.publish.reader import read_current

    monkeypatch.setenv(KEY_ENV, KEY)
    url = f"memory://backlog-{tmp_path.name}/out"
    try:
        nightly = _settings(seed_copy, "http://127.0.0.1:9/unused")
        text = nightly.read_text(encoding="utf-8").replace(
            f'output_dir = "{seed_copy / "output"}"', f'output_dir = "{url}"\nwork_dir = "{seed_copy / "work"}"'
        )
        nightly.write_text(text, encoding="utf-8")
        first = run_flow(seed_copy, output_dir=url, settings_file=str(nightly))
        assert first["published"] is True
        assert set(read_current(url, "translations")["status"]) >= {"pending"}

        with serve_libretranslate(api_key=KEY) as fake:
            # A fresh worker: the backlog flow brings the current snapshot down from the store first.
            settings = _settings(seed_copy, fake.url)
            settings.write_text(
                settings.read_text(encoding="utf-8").replace(
                    f'output_dir = "{seed_copy / "output"}"',
                    f'output_dir = "{url}"\nwork_dir = "{seed_copy / "other-work"}"',
                ),
                encoding="utf-8",
            )
            done = translate_backlog(settings_file=str(settings), translator="libretranslate")
        assert done["published"] is True
        assert RemoteSnapshots(url).current_run_id() == done["run_id"]
        filled = read_current(url, "translations").filter(pl.col("source_language").is_in(["ko", "ja"]))
        assert set(filled["status"]) == {"translated"}
    finally:
        fs = fsspec.filesystem("memory")
        if fs.exists(f"/backlog-{tmp_path.name}"):
            fs.rm(f"/backlog-{tmp_path.name}", recursive=True)
