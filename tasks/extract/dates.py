"""Dates written in English, Korean and Japanese text, resolved only as far as the text makes knowable."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date

from tasks.extract.text import finditer_at, word_choice

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS["sept"] = 9
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sept", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
_MONTH = rf"(?:{'|'.join(_MONTH_NAMES)})(?![a-z])"
# The same at a word start, written so the regex engine can skip to the capitals months start with (text.word_choice).
_MONTH_WORD = rf"{word_choice(_MONTH_NAMES, either_case=False)}(?![a-z])"
_YEAR = r"(?:19|20)\d\d"
_DAY_EN = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"

# Each pattern comes with what the character a match starts at looks like, when the pattern does not say so itself
# (a look-behind or an optional part first): scanning then tries the pattern only there (text.finditer_at). Look-behinds
# before a year are written after its first two digits ((?<![\d.]..)), which keeps those digits first.
_PATTERNS: tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...] = (
    # October 4, 2019 / Oct. 28th / August 2017
    (
        re.compile(rf"(?P<mn>{_MONTH_WORD})\.?(?:\s+(?P<d>{_DAY_EN})\b)?(?:,?\s+(?P<y>{_YEAR})\b)?(?<=\w)"),
        None,
    ),
    # 4 October 2019
    (
        re.compile(rf"\b(?P<d>{_DAY_EN})\s+(?P<mn>{_MONTH})\.?(?:,?\s+(?P<y>{_YEAR}))?\b"),
        re.compile(r"\d(?=\d*(?:st|nd|rd|th)?\s)"),
    ),
    # 2019-10-29, 2019.11.06, 2020.6.
    (
        re.compile(
            r"(?P<y>(?:19|20)(?<![\d.]..)\d\d)[-./](?P<m>1[0-2]|0?[1-9])(?:[-./](?P<d>3[01]|[12]\d|0?[1-9]))?(?![\d])"
        ),
        None,
    ),
    # 2017년 8월 3일 / 12월 8일 / 2023년
    (
        re.compile(
            r"(?:(?P<y>(?:19|20)\d\d)\s*년\s*)?(?P<m>1[0-2]|0?[1-9])\s*월(?:\s*(?P<d>3[01]|[12]\d|0?[1-9])\s*일)?"
            r"|(?P<yo>(?:19|20)\d\d)\s*년(?!\s*(?:대|간|도\s*예산|\d))"
        ),
        re.compile(r"\d(?=\d*\s*[년월])"),
    ),
    # 2019年9月23日 / 9月23日 / 2019年
    (
        re.compile(
            r"(?:(?P<y>(?:19|20)\d\d)年)?(?P<m>1[0-2]|0?[1-9])月(?:(?P<d>3[01]|[12]\d|0?[1-9])日)?"
            r"|(?P<yo>(?:19|20)\d\d)年(?![間代])"
        ),
        re.compile(r"\d(?=\d*[年月])"),
    ),
    # in 2017 / the year of 2020 / since 2016 (the word before is checked by _YEAR_CONTEXT: scanning from the
    # digits is much faster than from every word)
    (re.compile(r"(?P<yo>(?:19|20)(?<![\d.,]..)\d\d)\b(?![-./]\d)"), None),
)
_YEAR_ONLY = _PATTERNS[-1][0]
_YEAR_CONTEXT = re.compile(r"\b(?:in|since|by|until|of|from|year|early|late|mid|[Ii]n|[Ss]ince|[Bb]y|[Uu]ntil)\s+$")
_PAST_MARKERS = re.compile(r"(?:지난|去る|去年|昨年|last|Last|past|earlier)\s*$")
_FUTURE_MARKERS = re.compile(r"(?:오는|来る|next|Next|upcoming|coming)\s*$")
# How far from the publication date a year-less date may be and still be placed in a year.
MAX_DISTANCE_DAYS = 150


@dataclass(frozen=True, slots=True)
class Mention:
    """A date written in a text; parts the text leaves open are None."""

    start: int
    end: int
    year: int | None
    month: int | None
    day: int | None


def _valid(year: int | None, month: int | None, day: int | None) -> bool:
    if month is None:
        return day is None
    if day is None:
        return True
    try:
        date(year or 2000, month, day)
    except ValueError:
        return False
    return True


def find_dates(text: str, published: date | None = None) -> list[Mention]:
    """Every date in `text`; a missing year comes from `published` when the date lies near it."""
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for pattern, first in _PATTERNS:
        for m in pattern.finditer(text) if first is None else finditer_at(pattern, first, text):
            groups = m.groupdict()
            start, end = m.span()
            if pattern is _YEAR_ONLY and not _YEAR_CONTEXT.search(text, max(0, start - 8), start):
                continue
            if end <= start or any(a < end and start < b for a, b in taken):
                continue
            year_text = groups.get("y") or groups.get("yo")
            year = int(year_text) if year_text else None
            if groups.get("mn"):
                month: int | None = MONTHS[groups["mn"].lower()]
            else:
                month = int(groups["m"]) if groups.get("m") else None
            day = int(re.sub(r"\D", "", groups["d"])) if groups.get("d") else None
            if year is None and month is None:
                continue
            if groups.get("mn") and groups["mn"] == "May" and day is None and year is None:
                continue  # 'May' alone is mostly the verb
            if not _valid(year, month, day):
                continue
            mention = Mention(start, end, year, month, day)
            if year is None and published is not None:
                mention = replace(mention, year=_infer_year(text[max(0, start - 12) : start], month, day, published))
            taken.append((start, end))
            found.append(mention)
    return sorted(found, key=lambda d: d.start)


def _infer_year(before: str, month: int | None, day: int | None, published: date) -> int | None:
    """Year of a year-less date near `published`: the closest candidate, or the past/future one the text implies."""
    if month is None:
        return None
    past, future = bool(_PAST_MARKERS.search(before)), bool(_FUTURE_MARKERS.search(before))
    best: tuple[int, int] | None = None
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            when = date(year, month, day or 1)
        except ValueError:
            continue
        delta = (when - published).days
        if (past and delta > 0) or (future and delta < 0):
            continue
        if best is None or abs(delta) < best[0]:
            best = (abs(delta), year)
    if best is None or best[0] > MAX_DISTANCE_DAYS:
        return None
    return best[1]
