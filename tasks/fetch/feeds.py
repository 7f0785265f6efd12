"""RSS/Atom feeds to article links with the item metadata the feed states (feedparser does the parsing)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One feed entry: the article link and what the feed says about it."""

    url: str
    title: str | None = None
    published_at: str | None = None
    author: str | None = None
    published: datetime | None = None


class MalformedFeedError(ValueError):
    """The bytes are not a feed feedparser can read any entry from."""


def _when(entry: Any) -> datetime | None:  # noqa: ANN401 - feedparser entries are untyped
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None


def parse_feed(data: bytes, *, base_url: str, content_type: str | None = None) -> tuple[list[FeedItem], str | None]:
    """Entries with a link, in feed order, and the feed's language; raises MalformedFeedError."""
    import feedparser  # lazy: only feed sources pay for it

    headers = {"content-location": base_url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(data, response_headers=headers)
    if not parsed.entries and parsed.get("bozo"):
        raise MalformedFeedError(f"not a feed ({parsed.get('bozo_exception')})")
    items = []
    for entry in parsed.entries:
        link = entry.get("link") or next(
            (lk.get("href") for lk in entry.get("links", []) if lk.get("rel") in {None, "alternate"}), None
        )
        if not link:
            continue
        items.append(
            FeedItem(
                url=urljoin(base_url, link.strip()),
                title=(entry.get("title") or "").strip() or None,
                published_at=entry.get("published") or entry.get("updated") or None,
                author=(entry.get("author") or "").strip() or None,
                published=_when(entry),
            )
        )
    if not items and parsed.get("bozo"):
        raise MalformedFeedError(f"no usable feed entries ({parsed.get('bozo_exception')})")
    language = parsed.feed.get("language") if parsed.get("feed") else None
    return items, (language or None)
