"""HTML to main text and metadata: trafilatura for the article body, the page's own declarations for metadata."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

# Meta tags where publishers state the publication time, most specific first.
_DATE_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "parsely-pub-date",
    "sailthru.date",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date.issued",
    "dcterms.created",
    "date",
)
_LANG = re.compile(r"^[A-Za-z]{2,3}(?=$|[-_])")


@dataclass(frozen=True, slots=True)
class Extracted:
    """Main text (blocks separated by line breaks) and the metadata the page states."""

    text: str
    title: str | None = None
    published_at: str | None = None
    author: str | None = None
    publisher: str | None = None
    language: str | None = None
    canonical_url: str | None = None


@cache
def _trafilatura() -> Any:  # noqa: ANN401 - the module itself
    import trafilatura  # lazy: heavy import, only HTML input pays for it

    return trafilatura


def _meta_dates(tree: Any) -> str | None:  # noqa: ANN401 - lxml trees are untyped
    found: dict[str, str] = {}
    for node in tree.iterfind(".//meta"):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").strip().lower()
        value = (node.get("content") or "").strip()
        if key in _DATE_META and value and key not in found:
            found[key] = value
    for key in _DATE_META:
        if key in found:
            return found[key]
    for node in tree.iterfind(".//time[@itemprop='datePublished']"):
        value = (node.get("datetime") or "").strip()
        if value:
            return value
    return _json_ld_date(tree)


def _json_ld_date(tree: Any) -> str | None:  # noqa: ANN401 - lxml trees are untyped
    for node in tree.iterfind(".//script[@type='application/ld+json']"):
        try:
            data = json.loads(node.text or "")
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                value = item.get("datePublished")
                if isinstance(value, str) and value.strip():
                    return value.strip()
                stack.extend(v for v in item.values() if isinstance(v, list | dict))
    return None


def _language(tree: Any) -> str | None:  # noqa: ANN401 - lxml trees are untyped
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    candidates += [
        n.get("content")
        for n in tree.iterfind(".//meta[@http-equiv]")
        if n.get("http-equiv", "").lower() == "content-language"
    ]
    for value in candidates:
        match = _LANG.match((value or "").strip())
        if match:
            return match.group(0).lower()
    return None


def _without_leading_title(text: str, title: str | None) -> str:
    # The headline belongs in meta_title; repeated as the body's first line it is a duplicate, not article text.
    first, _, rest = text.partition("\n")
    if title and " ".join(first.split()).casefold() == " ".join(title.split()).casefold():
        return rest
    return text


def extract_html(html: str, *, url: str | None = None) -> Extracted:
    """The main text of an HTML page (empty when it holds no article) with title, date, author, site and language."""
    traf = _trafilatura()
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:
        return Extracted("")
    published = _meta_dates(tree)
    language = _language(tree)
    # favor_precision scores higher on the extraction benchmark (bench/fetch_benchmark.py) and keeps
    # related-article lists and widgets out of bodies, which cleaning would otherwise have to remove.
    doc = traf.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=True,
        deduplicate=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None:
        return Extracted("", published_at=published, language=language)
    return Extracted(
        text=_without_leading_title(doc.text or "", doc.title),
        title=doc.title or None,
        published_at=published or doc.date or None,
        author=doc.author or None,
        publisher=doc.sitename or None,
        language=language,
        canonical_url=doc.url or None,
    )
