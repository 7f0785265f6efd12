"""Web sources (urls, feed, sitemap): discover article URLs, fetch them politely, store bytes, parse into the ledger."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from tasks.fetch.canonical import canonical_url, preferred_identity
from tasks.fetch.client import Fetched, FetchFailure, HttpClient
from tasks.fetch.decode import charset_from_content_type, looks_binary
from tasks.fetch.feeds import FeedItem, MalformedFeedError, parse_feed
from tasks.fetch.httpcache import CacheEntry, HttpCache, age_hours
from tasks.fetch.parse import HTML, TEXT, Parsed, Rejected, parse_document
from tasks.fetch.sitemaps import MalformedSitemapError, parse_sitemap
from tasks.fetch.sources import FeedSource, SitemapSource, SourcesFile, UrlsSource
from tasks.fetch.state import Ledger
from tasks.ids import article_id
from tasks.rawstore import RawStore

WebSource = UrlsSource | FeedSource | SitemapSource
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_SNIFF_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "text/xml", "application/xml"})


@dataclass(frozen=True, slots=True)
class Job:
    """One article URL to fetch, the source that listed it and what the listing said about it."""

    url: str
    source: WebSource
    hints: FeedItem | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Got:
    """Bytes for a job (fetched now, revalidated with 304, or reused from the raw layer)."""

    job: Job
    final_url: str
    raw_sha256: str
    data: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None


class WebRun:
    """One run over the web sources of a sources file."""

    def __init__(
        self, sources: SourcesFile, *, raw_store: RawStore, ledger: Ledger, now: datetime, refetch: bool
    ) -> None:
        self.policy = sources.http
        self.user_agent = sources.user_agent
        self.raw_store = raw_store
        self.ledger = ledger
        self.now = now
        self.refetch = refetch

    def run(self, sources: Iterable[WebSource]) -> None:
        """Discover, fetch and parse every web source."""
        with HttpClient(self.policy, self.user_agent) as client, HttpCache(self.raw_store) as cache:
            self.client, self.cache = client, cache
            jobs: list[Job] = []
            for source in sources:
                if isinstance(source, UrlsSource):
                    jobs.extend(Job(u.strip(), source, None, source.language) for u in source.urls if source.wants(u))
                elif isinstance(source, FeedSource):
                    jobs.extend(self._feed_jobs(source))
                else:
                    jobs.extend(self._sitemap_jobs(source))
            self._fetch_all(_interleave(_unique(jobs)))

    def _listing(self, url: str) -> tuple[bytes, Fetched]:
        """Bytes of a feed or sitemap, revalidated every run (new articles appear there); raises FetchFailure."""
        return self._get(url, reuse=False)

    def _get(self, url: str, *, reuse: bool, known: dict[str, Any] | None = None) -> tuple[bytes, Fetched]:
        entry = self.cache.get(url)
        usable = entry if entry is not None and entry.raw_sha256 in self.raw_store else None
        fresh = usable is not None and age_hours(usable, datetime.now(UTC)) < self.policy.reuse_within_hours
        if usable is not None and fresh and reuse and not self.refetch:
            return self.raw_store.get(usable.raw_sha256), _from_cache(usable)
        etag = last_modified = None
        fallback: str | None = None
        if not self.refetch:
            if usable is not None:
                etag, last_modified, fallback = usable.etag, usable.last_modified, usable.raw_sha256
            elif known is not None and known["raw_sha256"] in self.raw_store:
                etag, last_modified, fallback = known["etag"], known["last_modified"], known["raw_sha256"]
        fetched = self.client.get(url, etag=etag, last_modified=last_modified)
        if fetched.status == 304 and fallback is not None:  # noqa: PLR2004
            return self.raw_store.get(fallback), replace(fetched, content_type=usable.content_type if usable else None)
        if fetched.body is None:
            # A 304 we did not ask for (or whose bytes vanished): ask again without validators.
            fetched = self.client.get(url)
        body = fetched.body or b""
        digest = self.raw_store.put(body)
        self.cache.record(
            CacheEntry(
                url=url,
                final_url=fetched.final_url,
                raw_sha256=digest,
                content_type=fetched.content_type,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                fetched_at=datetime.now(UTC).isoformat(),
            )
        )
        return body, fetched

    def _feed_jobs(self, source: FeedSource) -> list[Job]:
        try:
            data, fetched = self._listing(source.url)
            items, language = parse_feed(data, base_url=fetched.final_url, content_type=fetched.content_type)
        except FetchFailure as exc:
            self.ledger.reject(source.url, exc.reason, exc.detail)
            return []
        except MalformedFeedError as exc:
            self.ledger.reject(source.url, "malformed_feed", str(exc))
            return []
        cutoff = self.now - timedelta(days=source.lookback_days) if source.lookback_days else None
        kept = [
            item
            for item in items
            if source.wants(item.url) and not (cutoff and item.published and item.published < cutoff)
        ]
        return [Job(item.url, source, item, source.language or language) for item in kept[: source.max_items]]

    def _sitemap_jobs(self, source: SitemapSource) -> list[Job]:  # noqa: C901 - breadth-first walk with its guards
        cutoff = self.now - timedelta(days=source.lookback_days) if source.lookback_days else None
        queue = deque([(source.url, 0)])
        visited = {canonical_url(source.url)}
        jobs: list[Job] = []
        read = 0
        while queue and len(jobs) < source.max_urls:
            url, depth = queue.popleft()
            if read >= source.max_sitemaps:
                self.ledger.reject(url, "sitemap_limit", f"more than {source.max_sitemaps} sitemaps under {source.url}")
                break
            read += 1
            try:
                data, _ = self._listing(url)
                sitemap = parse_sitemap(data, limit=self.policy.max_bytes)
            except FetchFailure as exc:
                self.ledger.reject(url, exc.reason, exc.detail)
                continue
            except MalformedSitemapError as exc:
                self.ledger.reject(url, "malformed_sitemap", str(exc))
                continue
            for entry in sitemap.entries:
                if cutoff and entry.lastmod and entry.lastmod < cutoff:
                    continue
                key = canonical_url(entry.loc)
                if key in visited:
                    self.ledger.reject(entry.loc, "sitemap_loop", f"{url} lists {entry.loc}, which was already read")
                    continue
                if sitemap.is_index:
                    if depth + 1 > source.max_depth:
                        self.ledger.reject(entry.loc, "sitemap_too_deep", f"nested deeper than {source.max_depth}")
                        continue
                    visited.add(key)
                    queue.append((entry.loc, depth + 1))
                elif source.wants(entry.loc) and len(jobs) < source.max_urls:
                    jobs.append(Job(entry.loc, source, None, source.language))
        return jobs

    def _fetch_one(self, job: Job) -> Got | FetchFailure | None:
        known = self.ledger.known_by_uri.get(job.url) or self.ledger.known_canonical.get(canonical_url(job.url))
        if known is not None and not job.source.revalidate_known and not self.refetch:
            return None
        try:
            data, fetched = self._get(job.url, reuse=True, known=known)
        except FetchFailure as exc:
            return exc
        return Got(
            job,
            fetched.final_url,
            self.raw_store.put(data),
            data,
            fetched.content_type,
            fetched.etag,
            fetched.last_modified,
        )

    def _fetch_all(self, jobs: list[Job]) -> None:
        with ThreadPoolExecutor(max_workers=self.policy.concurrency, thread_name_prefix="fetch") as pool:
            futures = {pool.submit(self._fetch_one, job): job for job in jobs}
            # Parsing happens here, on the main thread, while the workers keep downloading.
            for future in as_completed(futures):
                job = futures[future]
                outcome = future.result()
                if isinstance(outcome, FetchFailure):
                    aid = article_id(canonical_url(job.url))
                    self.ledger.reject(job.url, outcome.reason, outcome.detail, article_id=aid)
                elif outcome is not None:
                    self._accept(outcome)

    def _accept(self, got: Got) -> None:
        job = got.job
        known = self.ledger.known_by_uri.get(job.url)
        if known is not None and known["raw_sha256"] == got.raw_sha256:
            # Same bytes, same outcome (article, duplicate or reject): nothing to parse. --reprocess re-parses.
            self.ledger.claim(known["article_id"])
            return
        parsed: Parsed | Rejected
        try:
            media = media_type_of(got.content_type, got.data)
            parsed = parse_document(
                got.data, media, declared=charset_from_content_type(got.content_type), url=got.final_url
            )
            identity = preferred_identity(got.final_url, parsed.canonical_url)
        except Rejected as exc:
            media, parsed, identity = HTML, exc, canonical_url(got.final_url)
        aid = article_id(identity)
        if not self.ledger.claim(aid) or self.ledger.unchanged(aid, got.raw_sha256):
            return
        source = job.source
        row = {
            "article_id": aid,
            "source_uri": job.url,
            "canonical_uri": identity,
            "source_name": source.name,
            "raw_sha256": got.raw_sha256,
            "media_type": media,
            "meta_publisher": source.publisher,
            "meta_language": job.language,
            "meta_utc_offset": source.utc_offset,
            "fetched_at": self.now,
            "etag": got.etag,
            "last_modified": got.last_modified,
        }
        if isinstance(parsed, Parsed) and job.hints is not None:
            hints = {
                "meta_title": job.hints.title,
                "meta_published_at": job.hints.published_at,
                "meta_author": job.hints.author,
            }
            merged: dict[str, str | None] = {k: v for k, v in hints.items() if v}
            merged.update({k: v for k, v in parsed.meta.items() if v})
            parsed = Parsed(parsed.text, parsed.encoding, merged, parsed.canonical_url)
        self.ledger.add(row, parsed)


def media_type_of(content_type: str | None, data: bytes) -> str:
    """text/html or text/plain for a response; raises Rejected for binary and other media types."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind in _HTML_TYPES:
        return HTML
    if kind == "text/plain":
        return TEXT
    if looks_binary(data):
        raise Rejected("binary_content", f"{kind or 'untyped'} response with binary content")
    if kind in _SNIFF_TYPES:
        head = data[:2048].lower()
        return HTML if b"<html" in head or b"<!doctype html" in head else TEXT
    raise Rejected("unsupported_media_type", f"Content-Type {kind!r} is not an article format")


def _from_cache(entry: CacheEntry) -> Fetched:
    return Fetched(
        entry.url,
        entry.final_url,
        200,
        None,
        content_type=entry.content_type,
        etag=entry.etag,
        last_modified=entry.last_modified,
    )


def _unique(jobs: list[Job]) -> list[Job]:
    seen: set[str] = set()
    out = []
    for job in jobs:
        key = canonical_url(job.url)
        if key not in seen:
            seen.add(key)
            out.append(job)
    return out


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""  # the fetch rejects it as invalid_url


def _interleave(jobs: list[Job]) -> list[Job]:
    """Jobs ordered round-robin over hosts, so workers spread over hosts instead of queueing on one."""
    by_host: dict[str, deque[Job]] = {}
    for job in jobs:
        by_host.setdefault(_host(job.url), deque()).append(job)
    out: list[Job] = []
    while by_host:
        for host in list(by_host):
            out.append(by_host[host].popleft())
            if not by_host[host]:
                del by_host[host]
    return out
