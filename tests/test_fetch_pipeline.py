"""The nightly flow over HTTP sources on 127.0.0.1: publish, nothing-new runs, and reprocessing from the raw layer."""

from __future__ import annotations

import polars as pl
import pytest

from tests.httpfixtures import ROBOTS, LoopbackServer, article_html, sources_toml

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

P = [
    "Daejeon city signed an agreement with KAIST on Tuesday to build an artificial intelligence hub downtown.",
    "The hub will open in 2026 and host start-ups working on semiconductors and robotics, the city said.",
    "Busan announced a new programme to train five hundred AI engineers over the next three years.",
    "The programme is funded by the Ministry of Science and ICT and the city government together.",
]


def test_http_sources_publish_then_a_run_with_nothing_new_publishes_nothing(tmp_path, run_flow):
    server = LoopbackServer()
    server.page("/robots.txt", ROBOTS, content_type="text/plain")
    server.page("/news/1", article_html("Daejeon AI hub", P[0], P[1]), etag='"a1"')
    server.page("/news/2", article_html("Busan trains AI engineers", P[2], P[3]), etag='"b1"')
    with server.running():
        listed = f'"{server.url("/news/1")}", "{server.url("/news/2")}"'
        body = f'[[sources]]\nkind = "urls"\nname = "web"\nurls = [{listed}]\nutc_offset = "+09:00"\n'
        (tmp_path / "sources.toml").write_text(sources_toml(server, body), encoding="utf-8")
        first = run_flow(tmp_path)
        second = run_flow(tmp_path)
    assert first["published"] is True
    assert second["published"] is False
    assert server.seen("/news/1")[-1].headers.get("If-None-Match") == '"a1"'
    articles = pl.read_parquet(tmp_path / "output" / "current" / "articles" / "*.parquet")
    assert sorted(articles["title"].to_list()) == ["Busan trains AI engineers", "Daejeon AI hub"]
    assert articles["body"].str.contains("Copyright 2024").not_().all()
    # The server is gone: reprocessing rebuilds the tables from the raw layer alone.
    rebuilt = run_flow(tmp_path, reprocess=True)
    assert rebuilt["published"] is True
    again = pl.read_parquet(tmp_path / "output" / "current" / "articles" / "*.parquet")
    assert sorted(again["article_id"].to_list()) == sorted(articles["article_id"].to_list())
