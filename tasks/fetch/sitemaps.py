"""Sitemaps (urlset, sitemap index, plain-text lists, gzip) to page URLs with their lastmod."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    """One <url> or <sitemap> entry."""

    loc: str
    lastmod: datetime | None = None


@dataclass(frozen=True, slots=True)
class Sitemap:
    """A parsed sitemap: page entries, or child sitemaps when it is an index."""

    is_index: bool
    entries: list[SitemapEntry]


class MalformedSitemapError(ValueError):
    """The bytes are neither a sitemap XML nor a plain list of URLs."""


def parse_datetime(value: str | None) -> datetime | None:
    """A W3C datetime (2024-03-01, 2024-03-01T09:00:00+09:00, ...Z) as an aware UTC datetime."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def gunzip_capped(data: bytes, limit: int) -> bytes:
    """Decompress gzip bytes, refusing output larger than `limit` (sitemap .gz files can be bombs too)."""
    z = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = z.decompress(data, limit + 1)
    if len(out) > limit or z.unconsumed_tail:
        raise MalformedSitemapError(f"gzip sitemap expands past {limit} bytes")
    return out


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def parse_sitemap(data: bytes, *, limit: int) -> Sitemap:  # noqa: C901 - three formats, one entry point
    """Entries of a sitemap or sitemap index; raises MalformedSitemapError."""
    if data[:2] == b"\x1f\x8b":
        data = gunzip_capped(data, limit)
    stripped = data.lstrip()
    if not stripped.startswith(b"<"):
        # Plain-text sitemaps: one absolute URL per line.
        lines = [ln.strip() for ln in data.decode("utf-8", "replace").splitlines()]
        urls = [SitemapEntry(ln) for ln in lines if ln.startswith(("http://", "https://"))]
        if not urls:
            raise MalformedSitemapError("neither sitemap XML nor a list of URLs")
        return Sitemap(is_index=False, entries=urls)
    from lxml import etree  # type: ignore[import-untyped]  # no stubs installed; used for parsing only

    # Data from the web: no entity expansion, no network, no DTD loading.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise MalformedSitemapError(f"not XML: {exc}") from exc
    if root is None:
        raise MalformedSitemapError("empty XML document")
    kind = _local(root.tag)
    if kind not in {"urlset", "sitemapindex"}:
        raise MalformedSitemapError(f"root element <{kind}> is not urlset or sitemapindex")
    entries = []
    for node in root:
        if _local(node.tag) not in {"url", "sitemap"}:
            continue
        loc = lastmod = None
        for child in node.iter():
            name = _local(child.tag)
            if name == "loc" and child.text:
                loc = child.text.strip()
            elif name in {"lastmod", "publication_date"} and child.text and lastmod is None:
                lastmod = parse_datetime(child.text)
        if loc:
            entries.append(SitemapEntry(loc, lastmod))
    return Sitemap(is_index=kind == "sitemapindex", entries=entries)
