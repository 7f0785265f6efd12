"""Fetching over real HTTP on 127.0.0.1: pages, feeds, sitemaps, encodings, incremental runs, faults and refusals."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from tasks.fetch import documents_from_raw, fetch_sources, load_sources
from tasks.ids import article_id
from tasks.rawstore import RawStore
from tasks.schemas import FETCH_STATE, RAW_DOCUMENTS, REJECTS
from tests.conftest import SHARED, needs_shared
from tests.httpfixtures import (
    JA_TEXT,
    KO_TEXT,
    ROBOTS,
    LoopbackServer,
    article_html,
    cjk_page,
    gzip_bytes,
    sources_toml,
)

P1 = "Seongnam city opened a new artificial intelligence research centre on Monday together with KAIST."
P2 = "The centre will host two professors and thirty-four graduate students working on machine learning."


@pytest.fixture
def server():
    s = LoopbackServer()
    s.page("/robots.txt", ROBOTS, content_type="text/plain")
    with s.running():
        yield s


def _urls(server: LoopbackServer, *paths: str, name: str = "web") -> str:
    listed = ", ".join(f'"{server.url(p) if p.startswith("/") else p}"' for p in paths)
    return f'[[sources]]\nkind = "urls"\nname = "{name}"\nurls = [{listed}]\n'


def _fetch(tmp_path: Path, server: LoopbackServer, body: str, *, known=None, refetch=False, now=None, **http):
    path = tmp_path / "sources.toml"
    path.write_text(sources_toml(server, body, **http), encoding="utf-8")
    result = fetch_sources(
        load_sources(path), raw_store=RawStore(tmp_path / "raw"), known=known, run_id="run", refetch=refetch, now=now
    )
    assert RAW_DOCUMENTS.check(result.documents) == []
    assert REJECTS.check(result.rejects) == []
    assert FETCH_STATE.check(result.state) == []
    return result


def _reasons(result) -> dict[str, str]:
    return dict(zip(result.rejects["source_uri"], result.rejects["reason"], strict=True))


def test_article_page_gives_main_text_with_line_breaks_and_page_metadata(tmp_path, server):
    server.page("/news/1", article_html("Seongnam opens AI centre", P1, P2))
    result = _fetch(tmp_path, server, _urls(server, "/news/1"))
    doc = result.documents.row(0, named=True)
    assert P1 in doc["text"]
    assert P2 in doc["text"]
    assert f"{P1}\n{P2}" in doc["text"]  # blocks stay on their own lines
    assert "Copyright 2024" not in doc["text"]
    assert "Other story one" not in doc["text"]
    assert doc["meta_title"] == "Seongnam opens AI centre"
    assert doc["meta_published_at"] == "2024-03-05T09:30:00+09:00"
    assert doc["meta_author"] == "Kim Minji"
    assert doc["meta_publisher"] == "Daily Tech"
    assert doc["meta_language"] == "en"
    assert doc["media_type"] == "text/html"
    assert doc["raw_sha256"] in RawStore(tmp_path / "raw")
    assert server.seen("/news/1")[0].headers["User-Agent"].startswith("newsgraph-test/1.0")


def test_configured_publisher_and_language_win_over_the_page(tmp_path, server):
    server.page("/news/1", article_html("Seongnam opens AI centre", P1, P2))
    body = _urls(server, "/news/1") + 'publisher = "Gyeonggi Daily"\nlanguage = "en"\nutc_offset = "+09:00"\n'
    doc = _fetch(tmp_path, server, body).documents.row(0, named=True)
    assert (doc["meta_publisher"], doc["meta_language"], doc["meta_utc_offset"]) == ("Gyeonggi Daily", "en", "+09:00")


def test_second_run_uses_conditional_requests_and_returns_nothing_new(tmp_path, server):
    server.page("/etag", article_html("With etag", P1, P2), etag='"v1"')
    server.page("/lm", article_html("With last modified", P2, P1), last_modified="Tue, 05 Mar 2024 00:00:00 GMT")
    first = _fetch(tmp_path, server, _urls(server, "/etag", "/lm"))
    assert first.documents.height == 2
    second = _fetch(tmp_path, server, _urls(server, "/etag", "/lm"), known=first.state)
    assert second.documents.height == 0
    assert second.rejects.height == 0
    assert server.seen("/etag")[-1].headers["If-None-Match"] == '"v1"'
    assert server.seen("/lm")[-1].headers["If-Modified-Since"] == "Tue, 05 Mar 2024 00:00:00 GMT"
    assert_state_equal(second.state, first.state)


def assert_state_equal(a: pl.DataFrame, b: pl.DataFrame) -> None:
    from polars.testing import assert_frame_equal

    assert_frame_equal(a.sort("article_id"), b.sort("article_id"))


def test_server_without_validators_is_compared_by_content_hash(tmp_path, server):
    server.page("/plain", article_html("No validators", P1, P2))
    first = _fetch(tmp_path, server, _urls(server, "/plain"))
    second = _fetch(tmp_path, server, _urls(server, "/plain"), known=first.state)
    assert second.documents.height == 0
    server.page("/plain", article_html("No validators", P1, P2 + " A correction was added."))
    third = _fetch(tmp_path, server, _urls(server, "/plain"), known=second.state)
    assert third.documents.height == 1
    assert third.documents["article_id"][0] == first.documents["article_id"][0]
    assert "A correction was added." in third.documents["text"][0]
    assert third.state.height == 1


def test_recent_bytes_are_reused_after_a_crash_without_any_request(tmp_path, server):
    server.page("/news/1", article_html("Seongnam opens AI centre", P1, P2))
    body = _urls(server, "/news/1")
    crashed = _fetch(tmp_path, server, body, reuse_within_hours=12)  # its state never got published
    again = _fetch(tmp_path, server, body, reuse_within_hours=12, known=None)
    assert server.hits("/news/1") == 1
    assert again.documents["raw_sha256"].to_list() == crashed.documents["raw_sha256"].to_list()
    refreshed = _fetch(tmp_path, server, body, reuse_within_hours=12, refetch=True)
    assert server.hits("/news/1") == 2
    assert "If-None-Match" not in server.seen("/news/1")[-1].headers
    assert refreshed.documents.height == 1


def test_tracking_parameters_amp_and_mobile_links_give_one_article(tmp_path, server):
    server.page("/news/1", article_html("Seongnam opens AI centre", P1, P2))
    server.page("/story", article_html("Seongnam opens AI centre", P1, P2, canonical=server.url("/news/1")))
    body = _urls(server, "/news/1?utm_source=newsletter&fbclid=abc", "/news/1/amp", "/news/1", "/story")
    result = _fetch(tmp_path, server, body)
    assert result.documents.height == 1
    assert result.rejects.height == 0
    assert server.hits("/news/1/amp") == 0  # recognised as the same URL before any request
    assert result.documents["article_id"][0] == article_id(f"https://127.0.0.1:{server.port}/news/1")


def test_article_republished_unchanged_at_a_new_url_keeps_its_id(tmp_path, server):
    server.page("/2024/old-slug", article_html("Seongnam opens AI centre", P1, P2))
    first = _fetch(tmp_path, server, _urls(server, "/2024/old-slug"))
    server.page("/2025/new-slug", article_html("Seongnam opens AI centre", P1, P2))
    second = _fetch(tmp_path, server, _urls(server, "/2024/old-slug", "/2025/new-slug"), known=first.state)
    assert second.documents.height == 0
    assert _reasons(second) == {server.url("/2025/new-slug"): "duplicate_content"}
    dup = second.state.filter(pl.col("source_uri") == server.url("/2025/new-slug"))
    assert dup["duplicate_of"].to_list() == first.documents["article_id"].to_list()
    third = _fetch(tmp_path, server, _urls(server, "/2024/old-slug", "/2025/new-slug"), known=second.state)
    assert third.documents.height == 0
    assert third.rejects.height == 0


@pytest.mark.parametrize(
    ("text", "charset", "header", "in_meta", "lang"),
    [
        (KO_TEXT, "euc-kr", True, False, "ko"),
        (KO_TEXT, "euc-kr", False, True, "ko"),
        (KO_TEXT, "cp949", False, False, "ko"),
        (JA_TEXT, "shift_jis", True, False, "ja"),
        (JA_TEXT, "shift_jis", False, False, "ja"),
        (JA_TEXT, "euc-jp", False, True, "ja"),
        (KO_TEXT, "utf-16", True, False, "ko"),
    ],
)
def test_korean_and_japanese_pages_decode_without_mojibake(  # noqa: PLR0917 - parametrised cases
    tmp_path, server, text, charset, header, in_meta, lang
):
    content_type = f"text/html; charset={charset}" if header else "text/html"
    server.page("/cjk", cjk_page(text, charset, declare_in_meta=in_meta, lang=lang), content_type=content_type)
    result = _fetch(tmp_path, server, _urls(server, "/cjk"))
    assert result.rejects.height == 0
    doc = result.documents.row(0, named=True)
    assert text in doc["text"]
    assert doc["meta_language"] == lang


def test_latin1_header_on_a_utf8_page_does_not_produce_mojibake(tmp_path, server):
    page = article_html("Café crème in Daejeon", P1 + " Café société naïve.", P2)
    server.page("/fr", page.encode("utf-8"), content_type="text/html; charset=iso-8859-1")
    doc = _fetch(tmp_path, server, _urls(server, "/fr")).documents.row(0, named=True)
    assert "Café société naïve." in doc["text"]
    assert "Ã" not in doc["text"]


def test_gzip_encoded_response_is_decoded(tmp_path, server):
    server.gzipped("/gz", gzip_bytes(article_html("Compressed page", P1, P2).encode("utf-8")))
    doc = _fetch(tmp_path, server, _urls(server, "/gz")).documents.row(0, named=True)
    assert P1 in doc["text"]


def test_server_error_then_success_is_retried(tmp_path, server):
    server.flaky("/flaky", article_html("Flaky", P1, P2), failures=2, status=503)
    result = _fetch(tmp_path, server, _urls(server, "/flaky"), max_retries=2)
    assert result.documents.height == 1
    assert server.hits("/flaky") == 3


def test_429_waits_for_retry_after(tmp_path, server):
    server.flaky("/busy", article_html("Busy", P1, P2), failures=1, status=429, retry_after="1")
    started = time.monotonic()
    result = _fetch(tmp_path, server, _urls(server, "/busy"))
    assert result.documents.height == 1
    assert time.monotonic() - started >= 1.0
    gaps = server.seen("/busy")
    assert len(gaps) == 2


def test_retry_after_longer_than_allowed_gives_up_at_once(tmp_path, server):
    server.flaky("/later", article_html("Later", P1, P2), failures=5, status=429, retry_after="3600")
    result = _fetch(tmp_path, server, _urls(server, "/later"))
    assert _reasons(result) == {server.url("/later"): "http_429"}
    assert server.hits("/later") == 1


def test_retries_are_bounded_and_the_failure_is_a_reject(tmp_path, server):
    server.flaky("/down", "never", failures=100, status=500)
    result = _fetch(tmp_path, server, _urls(server, "/down"), max_retries=2)
    assert _reasons(result) == {server.url("/down"): "http_500"}
    assert server.hits("/down") == 3
    assert result.state.height == 0  # nothing stored: the next run tries again


@pytest.mark.slow
def test_hang_past_the_timeout_becomes_a_timeout_reject(tmp_path, server):
    server.hang("/hang", 4)
    server.page("/ok", article_html("Fine", P1, P2))
    result = _fetch(tmp_path, server, _urls(server, "/hang", "/ok"), timeout_seconds=0.5, max_retries=1)
    assert _reasons(result) == {server.url("/hang"): "timeout"}
    assert result.documents.height == 1


def test_truncated_body_is_a_reject_not_a_partial_document(tmp_path, server):
    server.truncated("/cut")
    result = _fetch(tmp_path, server, _urls(server, "/cut"), max_retries=1)
    assert _reasons(result) == {server.url("/cut"): "truncated_body"}
    assert result.documents.height == 0


@pytest.mark.parametrize("declare_length", [True, False])
def test_huge_body_stops_at_the_size_limit(tmp_path, server, declare_length):
    server.huge("/huge", 5_000_000, declare_length=declare_length)
    result = _fetch(tmp_path, server, _urls(server, "/huge"), max_bytes=200_000)
    assert _reasons(result) == {server.url("/huge"): "too_large"}


def test_gzip_bomb_stops_at_the_size_limit_without_inflating_it(tmp_path, server):
    server.gzip_bomb("/bomb", 200_000_000)
    started = time.monotonic()
    result = _fetch(tmp_path, server, _urls(server, "/bomb"), max_bytes=1_000_000)
    assert _reasons(result) == {server.url("/bomb"): "too_large"}
    assert time.monotonic() - started < 5


def test_redirects_are_followed_capped_and_loops_refused(tmp_path, server):
    server.page("/final", article_html("Moved article", P1, P2))
    server.redirect("/moved", "/final", status=301)
    server.redirect("/loop-a", "/loop-b")
    server.redirect("/loop-b", "/loop-a")
    for i in range(4):
        server.redirect(f"/chain{i}", f"/chain{i + 1}")
    server.page("/chain4", article_html("End of chain", P2, P1))
    result = _fetch(tmp_path, server, _urls(server, "/moved", "/loop-a", "/chain0"), max_redirects=2)
    assert _reasons(result) == {server.url("/loop-a"): "redirect_loop", server.url("/chain0"): "too_many_redirects"}
    doc = result.documents.row(0, named=True)
    assert doc["source_uri"] == server.url("/moved")
    assert doc["canonical_uri"].endswith("/final")


def test_robots_txt_disallow_is_honoured(tmp_path, server):
    server.page("/private/page", article_html("Private", P1, P2))
    result = _fetch(tmp_path, server, _urls(server, "/private/page"))
    assert _reasons(result) == {server.url("/private/page"): "robots_disallowed"}
    assert server.hits("/private/page") == 0
    ignored = _fetch(tmp_path, server, _urls(server, "/private/page"), respect_robots=False)
    assert ignored.documents.height == 1


def test_unreachable_robots_txt_means_fetch_nothing_on_that_host(tmp_path, server):
    server.flaky("/robots.txt", "", failures=100, status=503)
    server.page("/news/1", article_html("Any", P1, P2))
    result = _fetch(tmp_path, server, _urls(server, "/news/1"), max_retries=0)
    assert _reasons(result) == {server.url("/news/1"): "robots_unreachable"}
    assert server.hits("/news/1") == 0


def test_per_host_delay_and_concurrency_limit(tmp_path, server):
    in_flight = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(h, _hit):
        with lock:
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
        time.sleep(0.1)
        with lock:
            in_flight["now"] -= 1
        data = article_html("Slow " + h.path, P1 + h.path, P2).encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    paths = [f"/s{i}" for i in range(4)]
    for p in paths:
        server.routes[p] = slow
    started = time.monotonic()
    result = _fetch(tmp_path, server, _urls(server, *paths), per_host_delay_seconds=0.3, per_host_concurrency=1)
    assert result.documents.height == 4
    assert in_flight["max"] == 1
    # robots.txt + 4 pages, each start at least 0.3 s after the previous one on this host
    assert time.monotonic() - started >= 4 * 0.3


def test_private_and_loopback_addresses_are_refused_unless_allowed(tmp_path, server):
    server.page("/news/1", article_html("Local", P1, P2))
    body = _urls(server, "/news/1", "http://localhost:9/x", "http://169.254.169.254/latest/meta-data/")
    result = _fetch(tmp_path, server, body, allowed_networks=[])
    reasons = _reasons(result)
    assert set(reasons.values()) == {"private_address"}
    assert len(reasons) == 3
    assert server.hits("/news/1") == 0
    assert server.hits("/robots.txt") == 0
    allowed = _fetch(tmp_path, server, _urls(server, "/news/1"), allowed_networks=[], allow_private_networks=True)
    assert allowed.documents.height == 1


def test_redirect_to_a_private_address_or_another_scheme_is_refused(tmp_path, server):
    server.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
    server.redirect("/to-file", "file:///etc/passwd")
    result = _fetch(tmp_path, server, _urls(server, "/to-metadata", "/to-file", "file:///etc/passwd"))
    assert _reasons(result) == {
        server.url("/to-metadata"): "private_address",
        server.url("/to-file"): "unsupported_scheme",
        "file:///etc/passwd": "unsupported_scheme",
    }


def test_url_with_dot_segments_never_becomes_a_path(tmp_path, server):
    server.page("/a/../../../../etc/passwd", article_html("Traversal", P1, P2))
    server.page("/etc/passwd", article_html("Traversal", P1, P2))
    result = _fetch(tmp_path, server, _urls(server, "/a/../../../../etc/passwd"))
    raw = tmp_path / "raw"
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p.is_relative_to(tmp_path) for p in written)
    blobs = [p for p in raw.rglob("*") if p.is_file() and p.parent.name != "_index"]
    assert blobs
    assert all(len(p.name) == 64 and p.parent.name == p.name[:2] for p in blobs)
    assert result.documents["article_id"][0].startswith("a")


def test_binary_and_non_article_responses_become_rejects(tmp_path, server):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
    server.page("/image.html", png, content_type="text/html")
    server.page("/doc.pdf", b"%PDF-1.7\n...", content_type="application/pdf")
    server.page("/empty", b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    result = _fetch(tmp_path, server, _urls(server, "/image.html", "/doc.pdf", "/empty"))
    assert _reasons(result) == {
        server.url("/image.html"): "binary_content",
        server.url("/doc.pdf"): "binary_content",
        server.url("/empty"): "no_main_text",
    }
    # the bytes were kept: a later fix can reprocess them without fetching again
    assert result.rejects["raw_sha256"].is_not_null().all()
    again = _fetch(tmp_path, server, _urls(server, "/image.html", "/doc.pdf", "/empty"), known=result.state)
    assert again.rejects.height == 0
    assert again.documents.height == 0


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Daily Tech</title><language>en</language>
<item><title>Feed title one</title><link>{one}</link><pubDate>Tue, 05 Mar 2024 09:00:00 +0900</pubDate>
<author>desk@example.com (News Desk)</author></item>
<item><title>Old story</title><link>{old}</link><pubDate>Mon, 01 Jan 2018 09:00:00 +0900</pubDate></item>
<item><title>Video</title><link>{video}</link><pubDate>Tue, 05 Mar 2024 10:00:00 +0900</pubDate></item>
</channel></rss>"""


def test_feed_items_are_fetched_with_lookback_and_filters(tmp_path, server):
    server.page("/news/one", "<html><body><article><p>" + P1 + "</p><p>" + P2 + "</p></article></body></html>")
    server.page("/news/old", article_html("Old", P2, P1))
    server.page("/video/1", article_html("Video", P1, P1))
    rss = RSS.format(one=server.url("/news/one"), old=server.url("/news/old"), video=server.url("/video/1"))
    server.page("/feed.xml", rss, content_type="application/rss+xml", etag='"f1"')
    body = (
        f'[[sources]]\nkind = "feed"\nname = "feed"\nurl = "{server.url("/feed.xml")}"\n'
        'lookback_days = 365\nexclude = ["/video/"]\n'
    )
    march_6 = datetime(2024, 3, 6, tzinfo=UTC)
    result = _fetch(tmp_path, server, body, now=march_6)
    assert result.documents["source_uri"].to_list() == [server.url("/news/one")]
    doc = result.documents.row(0, named=True)
    assert doc["meta_title"] == "Feed title one"  # the page has no title; the feed's is used
    assert doc["meta_published_at"] == "Tue, 05 Mar 2024 09:00:00 +0900"
    assert doc["meta_language"] == "en"
    assert server.hits("/news/old") == 0
    assert server.hits("/video/1") == 0
    again = _fetch(tmp_path, server, body, known=result.state, now=march_6)
    assert again.documents.height == 0
    assert server.seen("/feed.xml")[-1].headers.get("If-None-Match") == '"f1"'


def test_malformed_feed_is_a_reject(tmp_path, server):
    server.page("/bad.xml", "<rss><channel><item><title>broken", content_type="application/rss+xml")
    body = f'[[sources]]\nkind = "feed"\nname = "feed"\nurl = "{server.url("/bad.xml")}"\n'
    result = _fetch(tmp_path, server, body)
    assert _reasons(result) == {server.url("/bad.xml"): "malformed_feed"}


def _urlset(*entries: tuple[str, str | None]) -> str:
    items = "".join(
        f"<url><loc>{loc}</loc>" + (f"<lastmod>{mod}</lastmod>" if mod else "") + "</url>" for loc, mod in entries
    )
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'


def test_sitemap_index_with_gzip_child_filters_and_lookback(tmp_path, server):
    for i in range(4):
        server.page(f"/news/{i}", article_html(f"Story {i}", f"{P1} Number {i}.", P2))
    server.page("/tags/ai", article_html("Tag page", P2, P1))
    child1 = _urlset(
        (server.url("/news/0"), "2024-03-01"), (server.url("/news/1"), "2019-01-01"), (server.url("/tags/ai"), None)
    )
    child2 = _urlset((server.url("/news/2"), "2024-03-02T10:00:00+09:00"), (server.url("/news/3"), None))
    server.page("/sm-1.xml", child1, content_type="application/xml")
    server.page("/sm-2.xml.gz", gzip_bytes(child2.encode()), content_type="application/x-gzip")
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{server.url('/sm-1.xml')}</loc></sitemap>"
        f"<sitemap><loc>{server.url('/sm-2.xml.gz')}</loc></sitemap></sitemapindex>"
    )
    server.page("/sitemap.xml", index, content_type="application/xml")
    body = (
        f'[[sources]]\nkind = "sitemap"\nname = "sm"\nurl = "{server.url("/sitemap.xml")}"\n'
        'include = ["/news/"]\nlookback_days = 30\n'
    )
    result = _fetch(tmp_path, server, body, now=datetime(2024, 3, 10, tzinfo=UTC))
    got = sorted(result.documents["source_uri"].to_list())
    assert got == [server.url("/news/0"), server.url("/news/2"), server.url("/news/3")]
    assert result.rejects.height == 0


def test_sitemap_pointing_at_itself_is_a_reject_not_a_loop(tmp_path, server):
    me = server.url("/sitemap.xml")
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{me}</loc></sitemap><sitemap><loc>{server.url('/child.xml')}</loc></sitemap></sitemapindex>"
    )
    server.page("/sitemap.xml", index, content_type="application/xml")
    child = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{me}</loc></sitemap></sitemapindex>"
    )
    server.page("/child.xml", child, content_type="application/xml")
    body = f'[[sources]]\nkind = "sitemap"\nname = "sm"\nurl = "{me}"\n'
    result = _fetch(tmp_path, server, body)
    assert _reasons(result) == {me: "sitemap_loop"}
    assert server.hits("/sitemap.xml") == 1
    assert server.hits("/child.xml") == 1


def test_malformed_sitemap_is_a_reject(tmp_path, server):
    server.page("/sitemap.xml", "<html><body>not a sitemap</body></html>", content_type="text/html")
    body = f'[[sources]]\nkind = "sitemap"\nname = "sm"\nurl = "{server.url("/sitemap.xml")}"\n'
    assert _reasons(_fetch(tmp_path, server, body)) == {server.url("/sitemap.xml"): "malformed_sitemap"}


def test_reprocessing_from_the_raw_layer_needs_no_network(tmp_path):
    server = LoopbackServer()
    server.page("/robots.txt", ROBOTS, content_type="text/plain")
    server.page("/news/1", article_html("Seongnam opens AI centre", P1, P2))
    server.page("/ko", cjk_page(KO_TEXT, "euc-kr"), content_type="text/html; charset=euc-kr")
    with server.running():
        first = _fetch(tmp_path, server, _urls(server, "/news/1", "/ko"))
    rebuilt = documents_from_raw(first.state, raw_store=RawStore(tmp_path / "raw"), run_id="re")
    from polars.testing import assert_frame_equal

    assert_frame_equal(
        rebuilt.documents.drop("fetched_at").sort("article_id"), first.documents.drop("fetched_at").sort("article_id")
    )
    assert rebuilt.rejects.height == 0


@pytest.mark.shared
@pytest.mark.slow
@needs_shared("evaldata", "article-extraction-benchmark", "ground-truth.json")
def test_evaldata_pages_over_loopback_meet_the_extraction_floor(tmp_path, server):
    import importlib.util
    import json

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("fetch_benchmark", root / "bench" / "fetch_benchmark.py")
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    data = SHARED / "evaldata" / "article-extraction-benchmark"
    truth = {k: v["articleBody"] for k, v in json.loads((data / "ground-truth.json").read_text()).items()}
    ids = server.evaldata_pages(data)
    assert sorted(ids) == sorted(truth)
    listed = ", ".join(f'"{server.url(f"/bench/{i}.html")}"' for i in ids)
    body = f'[[sources]]\nkind = "urls"\nname = "bench"\nurls = [{listed}]\n'
    result = _fetch(tmp_path, server, body, per_host_concurrency=4)
    assert result.rejects.height == 0
    by_url = dict(zip(result.documents["source_uri"], result.documents["text"], strict=True))
    got = bench.score(truth, {i: by_url.get(server.url(f"/bench/{i}.html"), "") for i in ids})
    floor = json.loads((root / "bench" / "floors" / "fetch.json").read_text())["article_extraction_benchmark"]
    for metric in ("f1", "precision", "recall"):
        assert got[metric] >= floor[metric] - floor["tolerance"], (metric, got)


@pytest.mark.slow
def test_fetch_killed_midway_loses_nothing_and_refetches_nothing(tmp_path, server):
    import os
    import signal
    import subprocess
    import sys

    paths = [f"/p{i}" for i in range(4)]
    for i, p in enumerate(paths):
        server.page(p, article_html(f"Story {i}", f"{P1} Number {i}.", P2))
    server.hang("/stuck", 60)
    body = _urls(server, *paths, "/stuck")
    sources = tmp_path / "sources.toml"
    sources.write_text(
        sources_toml(server, body, concurrency=1, reuse_within_hours=12, timeout_seconds=30), encoding="utf-8"
    )
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from tasks.fetch import fetch_sources, load_sources\n"
        "from tasks.rawstore import RawStore\n"
        "fetch_sources(load_sources(sys.argv[2]), raw_store=RawStore(sys.argv[3]), known=None, run_id='killed')\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    child = subprocess.Popen([sys.executable, "-c", script, root, str(sources), str(tmp_path / "raw")])
    try:
        deadline = time.monotonic() + 60
        while server.hits("/stuck") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.hits("/stuck") == 1
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    server.page("/stuck", article_html("Unstuck", P2, P1))
    result = fetch_sources(load_sources(sources), raw_store=RawStore(tmp_path / "raw"), known=None, run_id="next")
    assert result.documents.height == 5
    assert result.rejects.height == 0
    assert [server.hits(p) for p in paths] == [1, 1, 1, 1]  # bytes stored before the kill were reused
