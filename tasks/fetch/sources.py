"""The sources file: what to fetch and how politely, parsed as data (TOML or YAML) into typed models."""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_USER_AGENT = "newsgraph/0.1 (+https://example.invalid/newsgraph)"


class HttpPolicy(BaseModel):
    """How HTTP sources are fetched: limits, politeness and which networks may be reached."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_seconds: float = Field(20.0, gt=0, description="Connect/read timeout of one request.")
    max_request_seconds: float = Field(
        120.0, gt=0, description="Wall-clock limit of one request including its body (stops slow drips)."
    )
    max_retries: int = Field(3, ge=0, le=10, description="Retries after 429, 5xx, timeouts and connection errors.")
    backoff_seconds: float = Field(1.0, ge=0, description="First retry delay; doubles on each retry.")
    max_backoff_seconds: float = Field(60.0, ge=0, description="Longest delay between two attempts.")
    max_retry_after_seconds: float = Field(
        120.0, ge=0, description="Longest Retry-After honoured; a longer one gives up on the URL for this run."
    )
    max_bytes: int = Field(20_000_000, gt=0, description="Largest response body kept (after decompression).")
    max_redirects: int = Field(5, ge=0, le=20, description="Redirects followed before giving up.")
    concurrency: int = Field(8, ge=1, le=64, description="Requests in flight over all hosts.")
    per_host_concurrency: int = Field(1, ge=1, le=16, description="Requests in flight to one host.")
    per_host_delay_seconds: float = Field(1.0, ge=0, description="Pause between two request starts to one host.")
    respect_robots: bool = Field(default=True, description="Honour robots.txt (Disallow and Crawl-delay).")
    allow_private_networks: bool = Field(
        default=False, description="Allow private, loopback and link-local addresses (intranets, tests)."
    )
    allowed_networks: tuple[str, ...] = Field(
        (), description="Networks (CIDR) allowed even though private, e.g. ['127.0.0.1/32'] for a local mirror."
    )
    reuse_within_hours: float = Field(
        12.0,
        ge=0,
        description=(
            "Article pages fetched less than this many hours ago are taken from the raw layer without a request "
            "(so a run restarted after a crash does not download them again); 0 always revalidates. Feeds and "
            "sitemaps are always revalidated."
        ),
    )

    @field_validator("allowed_networks")
    @classmethod
    def _valid_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for net in value:
            ipaddress.ip_network(net, strict=False)
        return value


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Unique name of the source; recorded on every article.")
    publisher: str | None = Field(None, description="Publisher to record when the document does not state one.")
    language: str | None = Field(None, description="Language the source publishes in, as a hint (ISO 639-1).")
    utc_offset: str | None = Field(None, description="UTC offset of dates stated without one, e.g. '+09:00'.")

    @field_validator("utc_offset")
    @classmethod
    def _valid_offset(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[+-](0\d|1[0-4]):[0-5]\d", value):
            raise ValueError(f"utc_offset must look like +09:00, got {value!r}")
        return value


class RecordFields(BaseModel):
    """Which JSONL keys / CSV columns hold each field of a record (defaults: the field's own name)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = "url"
    id: str = "id"
    title: str = "title"
    published_at: str = "published_at"
    author: str = "author"
    publisher: str = "publisher"
    language: str = "language"
    text: str = "text"
    html: str = "html"


class DirectorySource(_Source):
    """Local files: a folder or a glob of .txt, .html/.htm, .jsonl and .csv files."""

    kind: Literal["directory"] = "directory"
    path: str = Field(description="Folder (read recursively) or glob, relative to the sources file.")
    encoding: str | None = Field(None, description="Charset of files that do not declare one (e.g. 'euc-kr').")
    fields: RecordFields = Field(default_factory=RecordFields, description="Record field names for JSONL/CSV.")


class _WebSource(_Source):
    include: tuple[str, ...] = Field((), description="Regexes; when given, only URLs matching one are fetched.")
    exclude: tuple[str, ...] = Field((), description="Regexes; URLs matching one are skipped.")
    revalidate_known: bool = Field(
        default=True, description="Ask again (conditionally) for articles already fetched; false skips them entirely."
    )

    @field_validator("include", "exclude")
    @classmethod
    def _valid_regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            re.compile(pattern)
        return value

    def wants(self, url: str) -> bool:
        """Whether the include/exclude filters keep `url`."""
        if self.include and not any(re.search(p, url) for p in self.include):
            return False
        return not any(re.search(p, url) for p in self.exclude)


class UrlsSource(_WebSource):
    """A fixed list of article URLs."""

    kind: Literal["urls"] = "urls"
    urls: tuple[str, ...] = Field(description="Article URLs (http or https).")


class FeedSource(_WebSource):
    """An RSS or Atom feed: every item's link is fetched as an article."""

    kind: Literal["feed"] = "feed"
    url: str = Field(description="Feed URL.")
    lookback_days: float | None = Field(None, gt=0, description="Skip items published longer ago than this.")
    max_items: int = Field(500, ge=1, description="Most items taken from the feed per run.")


class SitemapSource(_WebSource):
    """A sitemap or sitemap index (followed recursively, loop-safe); every page URL is fetched as an article."""

    kind: Literal["sitemap"] = "sitemap"
    url: str = Field(description="Sitemap or sitemap index URL (.xml or .xml.gz).")
    lookback_days: float | None = Field(
        None, gt=0, description="Skip URLs whose lastmod is older than this (URLs without lastmod are kept)."
    )
    max_urls: int = Field(5000, ge=1, description="Most page URLs taken per run.")
    max_sitemaps: int = Field(50, ge=1, description="Most sitemap files read per run (index + children).")
    max_depth: int = Field(3, ge=0, description="How deep nested sitemap indexes are followed.")


Source = Annotated[DirectorySource | UrlsSource | FeedSource | SitemapSource, Field(discriminator="kind")]


class SourcesFile(BaseModel):
    """The whole sources file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=1, description="User-Agent sent with every request.")
    http: HttpPolicy = Field(default_factory=HttpPolicy, description="HTTP limits and politeness.")
    sources: list[Source]
    base_dir: Path = Field(Path(), exclude=True, description="Folder relative paths are resolved against.")

    @model_validator(mode="after")
    def _unique_names(self) -> SourcesFile:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {dupes}")
        return self


def load_sources(path: str | Path) -> SourcesFile:
    """Parse a TOML or YAML sources file (as data only); relative paths in it resolve against its folder."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    data = yaml.safe_load(text) if p.suffix.lower() in {".yaml", ".yml"} else tomllib.loads(text)
    if not isinstance(data, dict):
        raise TypeError(f"{p}: a sources file is a table/mapping with a 'sources' list")
    return SourcesFile.model_validate({**data, "base_dir": p.resolve().parent})
