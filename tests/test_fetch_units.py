"""Pure parts of fetch: canonical URLs, charset decoding, sitemap/feed parsing, address guard, size caps."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime

import pytest

from tasks.fetch.canonical import canonical_url, preferred_identity
from tasks.fetch.client import AddressGuard, FetchFailure, _Inflater, retry_after_seconds
from tasks.fetch.decode import BinaryContentError, UndecodableError, decode_bytes, looks_binary
from tasks.fetch.feeds import MalformedFeedError, parse_feed
from tasks.fetch.sitemaps import MalformedSitemapError, parse_datetime, parse_sitemap
from tests.httpfixtures import JA_TEXT, KO_TEXT


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.com/news/1?utm_source=x&utm_medium=y", "https://example.com/news/1"),
        ("http://example.com/news/1?fbclid=abc&gclid=1#comments", "https://example.com/news/1"),
        ("https://m.example.com/news/1", "https://example.com/news/1"),
        ("https://mobile.example.co.kr/news/1", "https://example.co.kr/news/1"),
        ("https://example.com/news/1/amp", "https://example.com/news/1"),
        ("https://example.com/amp/news/1", "https://example.com/news/1"),
        ("https://example.com/news/1.amp.html", "https://example.com/news/1.html"),
        ("https://example.com/news/1?amp=1", "https://example.com/news/1"),
        ("https://example.com/view?idxno=42&page=2", "https://example.com/view?idxno=42&page=2"),
        ("https://example.com/view?page=2&idxno=42", "https://example.com/view?idxno=42&page=2"),
        ("HTTPS://EXAMPLE.com:443/a/./b/../c/", "https://example.com/a/c"),
        ("https://example.com/%7euser/%e3%81%82", "https://example.com/~user/%E3%81%82"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
    ],
)
def test_canonical_url_strips_what_does_not_identify_the_article(url, expected):
    assert canonical_url(url) == expected


def test_canonical_url_keeps_distinct_articles_distinct():
    assert canonical_url("https://example.com/view?idxno=1") != canonical_url("https://example.com/view?idxno=2")
    assert canonical_url("https://m.example.com/a") == canonical_url("https://example.com/a")
    assert canonical_url("https://mail.example.com/a") != canonical_url("https://example.com/a")


def test_declared_canonical_is_trusted_only_on_the_same_site_and_not_the_home_page():
    page = "https://news.example.com/2024/03/story?utm_source=x"
    assert preferred_identity(page, "https://news.example.com/story-123") == "https://news.example.com/story-123"
    assert preferred_identity(page, "https://evil.example.org/story") == "https://news.example.com/2024/03/story"
    assert preferred_identity(page, "https://news.example.com/") == "https://news.example.com/2024/03/story"
    assert preferred_identity(page, "javascript:alert(1)") == "https://news.example.com/2024/03/story"


@pytest.mark.parametrize(
    ("data", "declared", "text"),
    [
        (KO_TEXT.encode("euc-kr"), None, KO_TEXT),
        (KO_TEXT.encode("cp949"), "euc-kr", KO_TEXT),
        (JA_TEXT.encode("shift_jis"), None, JA_TEXT),
        ((JA_TEXT + "①").encode("cp932"), "shift_jis", JA_TEXT + "①"),
        (JA_TEXT.encode("euc-jp"), "euc-jp", JA_TEXT),
        (KO_TEXT.encode("utf-16-be"), "utf-16be", KO_TEXT),
        (b"\xff\xfe" + KO_TEXT.encode("utf-16-le"), None, KO_TEXT),
        ("Café crème".encode(), "iso-8859-1", "Café crème"),  # wrong header: latin-1 would be mojibake
        ("Café crème déjà vu naïve".encode("latin-1"), None, "Café crème déjà vu naïve"),
    ],
)
def test_decode_bytes_reads_declared_and_undeclared_charsets(data, declared, text):
    assert decode_bytes(data, declared).text == text


def test_meta_charset_is_read_from_the_document():
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=EUC-KR"></head>'
    decoded = decode_bytes((html + f"<body>{KO_TEXT}</body></html>").encode("euc-kr"))
    assert KO_TEXT in decoded.text
    assert decoded.encoding == "cp949"


@pytest.mark.parametrize(
    "data", [b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n\0\0", b"GIF89a\0\0", b"\xff\xd8\xff\xe0\0\x10JFIF", b"PK\x03\x04\0"]
)
def test_binary_formats_are_recognised(data):
    assert looks_binary(data)
    with pytest.raises(BinaryContentError):
        decode_bytes(data)


def test_text_is_not_mistaken_for_binary():
    assert not looks_binary("plain text".encode("utf-16"))
    assert not looks_binary(("Seoul " + KO_TEXT).encode("utf-16-le"))
    assert not looks_binary(KO_TEXT.encode("utf-8"))


def test_undecodable_bytes_raise():
    with pytest.raises(UndecodableError):
        decode_bytes(b"\xef\xbb\xbf" + b"\xff\xfe\xfd\xfc" * 10)


def test_inflater_caps_output_of_a_gzip_bomb():
    bomb = gzip.compress(b"\0" * 50_000_000)
    inflater = _Inflater("gzip", 1_000_000)

    def feed_all():
        for i in range(0, len(bomb), 16384):
            inflater.feed(bomb[i : i + 16384])

    with pytest.raises(FetchFailure, match="too_large"):
        feed_all()
    assert inflater.size <= 1_000_001  # never more than one byte past the cap was inflated


def test_inflater_decodes_gzip_and_deflate():
    assert _Inflater("gzip", 100).feed(gzip.compress(b"hello")) == b"hello"
    assert _Inflater("deflate", 100).feed(zlib.compress(b"hello")) == b"hello"
    with pytest.raises(FetchFailure, match="unsupported_encoding"):
        _Inflater("br", 100)


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("7") == 7.0
    now = datetime(2024, 3, 5, 12, 0, tzinfo=UTC).timestamp()
    assert retry_after_seconds("Tue, 05 Mar 2024 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("soon") is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fc00::1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "100.64.0.1",
        "224.0.0.1",
    ],
)
def test_address_guard_refuses_non_public_addresses(address):
    assert not AddressGuard().permits(address)


def test_address_guard_allows_public_and_explicitly_allowed_addresses():
    import ipaddress

    assert AddressGuard().permits("93.184.216.34")
    assert AddressGuard().permits("2606:2800:220:1::1")
    assert AddressGuard(allowed=(ipaddress.ip_network("127.0.0.1/32"),)).permits("127.0.0.1")
    assert not AddressGuard(allowed=(ipaddress.ip_network("127.0.0.1/32"),)).permits("127.0.0.2")
    assert AddressGuard(allow_private=True).permits("10.0.0.1")
    assert not AddressGuard(allow_private=True).permits("0.0.0.0")


def test_sitemap_parser_reads_urlset_index_and_text():
    urlset = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        b"<url><loc> https://e.com/a </loc><lastmod>2024-03-01T09:00:00+09:00</lastmod></url>"
        b"<url><loc>https://e.com/b</loc><news:news><news:publication_date>2024-03-02</news:publication_date>"
        b"</news:news></url></urlset>"
    )
    parsed = parse_sitemap(urlset, limit=10**6)
    assert not parsed.is_index
    assert [(e.loc, e.lastmod) for e in parsed.entries] == [
        ("https://e.com/a", datetime(2024, 3, 1, 0, 0, tzinfo=UTC)),
        ("https://e.com/b", datetime(2024, 3, 2, tzinfo=UTC)),
    ]
    index = b"<sitemapindex><sitemap><loc>https://e.com/s1.xml</loc></sitemap></sitemapindex>"
    assert parse_sitemap(gzip.compress(index), limit=10**6).is_index
    assert [e.loc for e in parse_sitemap(b"https://e.com/x\nnot a url\n", limit=100).entries] == ["https://e.com/x"]


def test_sitemap_parser_refuses_entities_bombs_and_non_sitemaps():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<urlset><url><loc>https://e.com/&x;</loc></url></urlset>"
    )
    entries = parse_sitemap(xxe, limit=10**6).entries
    assert all("root:" not in e.loc for e in entries)
    with pytest.raises(MalformedSitemapError):
        parse_sitemap(gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>"), limit=1_000_000)
    with pytest.raises(MalformedSitemapError):
        parse_sitemap(b"<html><body>hi</body></html>", limit=10**6)


def test_parse_datetime_handles_w3c_forms():
    assert parse_datetime("2024-03-01") == datetime(2024, 3, 1, tzinfo=UTC)
    assert parse_datetime("2024-03-01T10:00:00Z") == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert parse_datetime("yesterday") is None


def test_feed_parser_reads_rss_and_atom_and_refuses_garbage():
    atom = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
        b'<entry><title>One</title><link href="/news/1"/><updated>2024-03-05T09:00:00+09:00</updated></entry></feed>'
    )
    items, _ = parse_feed(atom, base_url="https://e.com/feed")
    assert [(i.url, i.title) for i in items] == [("https://e.com/news/1", "One")]
    assert items[0].published == datetime(2024, 3, 5, 0, 0, tzinfo=UTC)
    with pytest.raises(MalformedFeedError):
        parse_feed(b"this is not xml <<<", base_url="https://e.com/feed")
    assert (
        parse_feed(b'<rss version="2.0"><channel><title>empty</title></channel></rss>', base_url="https://e.com")[0]
        == []
    )
