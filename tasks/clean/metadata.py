"""Metadata stated in a document: publication time, bylines (author, outlet) and copyright lines (publisher)."""

# ruff: noqa: RUF001, RUF002, RUF003 - Korean and Japanese punctuation (，：（）) is what this module matches.

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from tasks.clean.text import HANGUL, KANA

# Labels in front of a date: which ones state publication and which a later revision.
_PUBLISHED_LABELS = (
    "기사입력|최초입력|입력일시|입력일|입력|승인|등록일시|등록일자|등록일|등록|작성일시|작성일자|작성일|게재일|게재|발행일|발행|"
    "송고|보도일|일시|날짜|"
    "公開日時|公開日|公開|掲載日時|掲載日|掲載|配信日時|配信日|配信|投稿日時|投稿日|作成日|発行日|日付|"
    "first published|published on|published|posted on|posted|date|created|issued|released"
)
_MODIFIED_LABELS = (
    "최종수정|최종 수정|수정일시|수정일|수정|업데이트|갱신|更新日時|更新日|最終更新|更新|"
    "last updated|last modified|updated on|updated|modified"
)
_LABEL = re.compile(
    rf"(?P<label>{_MODIFIED_LABELS}|{_PUBLISHED_LABELS})\s*(?:[:：]|\s)\s*$",
    re.IGNORECASE,
)
_MODIFIED = re.compile(rf"^(?:{_MODIFIED_LABELS})$", re.IGNORECASE)

_TIME = (
    r"(?:\s*(?:T|\s|,)\s*|\s*)"
    r"(?:(?P<ampm1>오전|오후|午前|午後|[AaPp]\.?[Mm]\.?)\s*)?"
    r"(?:(?P<H>[01]?\d|2[0-3])\s*(?::\s*(?P<M>[0-5]\d)|시\s*(?P<Mk>[0-5]?\d)\s*분?|時\s*(?P<Mj>[0-5]?\d)\s*分?)"
    # Seconds only after an explicit separator: '13:278' is 13:27 followed by a view counter, not 13:27:8.
    r"(?::(?P<S>[0-5]\d)(?:\.\d+)?)?)"
    r"(?:\s*(?P<ampm2>[AaPp]\.?[Mm]\.?)(?![a-z]))?"
)
_TZ = r"(?:\s*(?P<tz>Z(?![a-z])|[+-](?:0\d|1[0-4]):?[0-5]\d|KST|JST|UTC|GMT(?:[+-]\d{1,2}(?::?\d{2})?)?))?"
_YMD = (
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?:[-./]|년|年)\s*(?P<m>1[0-2]|0?[1-9])\s*(?:[-./]|월|月)\s*"
    r"(?P<d>3[01]|[12]\d|0?[1-9])(?!\d)\s*(?:일|日)?\.?(?:\s*[(（][^)）\d]{1,4}[)）])?"
)
_NUMERIC_DATE = re.compile(_YMD + rf"(?:{_TIME})?" + _TZ)
# Textual English dates ("Nov. 6, 2019 6:31 PM", "6 November 2019") go to dateparser.
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_EN_TIME = (
    r"(?:,?\s+(?:at\s+)?(?P<H>[01]?\d|2[0-3]):(?P<M>[0-5]\d)(?::(?P<S>[0-5]\d))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
    r"(?:\s*(?P<tz>KST|JST|UTC|GMT|[+-]\d{2}:?\d{2})\b)?"
)
# English dates with a month name: "Nov. 6, 2019 6:31 PM", "6 November 2019", "Wednesday, November 6, 2019".
_TEXT_DATE = re.compile(
    rf"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?"
    rf"(?:(?P<mon1>{_MONTHS})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y1>(?:19|20)\d{{2}})"
    rf"|(?P<d2>\d{{1,2}})\s+(?P<mon2>{_MONTHS}),?\s+(?P<y2>(?:19|20)\d{{2}}))" + _EN_TIME,
    re.IGNORECASE,
)
_NAMED_ZONES = {"KST": "+09:00", "JST": "+09:00", "UTC": "+00:00", "GMT": "+00:00", "Z": "+00:00"}
# Sources in Korea and Japan state local time; +09:00 unless the document or the source configuration says otherwise.
EAST_ASIA_OFFSET = "+09:00"
MAX_OFFSET_HOURS = 14
NOON = 12
MAX_BYLINE_CHARS = 80  # a byline line is short (an e-mail address may come on top)
MAX_BYLINE_LINE = 160
# Notices are short; a paragraph that merely mentions copyright is not one.
MAX_NOTICE_CHARS = 250
SHORT_NOTICE_CHARS = 80
RIGHTS_LINE_CHARS = 120


@dataclass(frozen=True, slots=True)
class StatedTime:
    """A publication time as the document states it."""

    local: datetime  # naive, as written
    has_time: bool
    offset: str | None  # '+09:00' when the text states a zone
    modified: bool  # stated as a revision time (수정, updated), not the publication time
    start: int
    end: int

    def resolve(self, fallback_offset: str | None) -> tuple[datetime | None, str]:
        """The UTC instant (None when no offset is knowable) and the ISO 8601 local string."""
        offset = self.offset or fallback_offset
        if not self.has_time:
            stamp = self.local.date().isoformat()
            if offset is None:
                return None, stamp
            # A date without a time is published at local midnight; the local string keeps just the date.
            return self.local.replace(tzinfo=_zone(offset)).astimezone(UTC), stamp
        if offset is None:
            return None, self.local.isoformat()
        aware = self.local.replace(tzinfo=_zone(offset))
        return aware.astimezone(UTC), aware.isoformat()


def _zone(offset: str) -> timezone:
    sign = -1 if offset.startswith("-") else 1
    digits = offset.lstrip("+-").replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def normalise_offset(raw: str | None) -> str | None:
    """'+09:00' style offset from '+0900', '+09:00', 'KST', 'GMT+9' or 'Z'; None when unparseable."""
    if not raw:
        return None
    raw = raw.strip().upper()
    if raw in _NAMED_ZONES:
        return _NAMED_ZONES[raw]
    m = re.fullmatch(r"(?:GMT|UTC)?([+-])(\d{1,2}):?(\d{2})?", raw)
    if not m:
        return None
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    if hours > MAX_OFFSET_HOURS or minutes >= 60:  # noqa: PLR2004 - minutes in an hour
        return None
    return f"{m.group(1)}{hours:02d}:{minutes:02d}"


def _hour(hour: int, ampm: str | None) -> int:
    if not ampm:
        return hour
    pm = ampm.lower().startswith("p") or ampm in {"오후", "午後"}
    if pm and hour < NOON:
        return hour + NOON
    if not pm and hour == NOON:
        return 0
    return hour


def _numeric(m: re.Match[str]) -> tuple[datetime, bool, str | None] | None:
    try:
        day = datetime(int(m["y"]), int(m["m"]), int(m["d"]))  # noqa: DTZ001 - local time as written
    except ValueError:
        return None
    if m["H"] is None:
        return day, False, normalise_offset(m["tz"])
    minute = m["M"] or m["Mk"] or m["Mj"] or "0"
    hour = _hour(int(m["H"]), m["ampm1"] or m["ampm2"])
    if hour > 23:  # noqa: PLR2004 - hours of a day
        return None
    stamp = day.replace(hour=hour, minute=int(minute), second=int(m["S"] or 0))
    return stamp, True, normalise_offset(m["tz"])


def _month_name(m: re.Match[str]) -> tuple[datetime, bool, str | None] | None:
    month = _MONTH_NAMES.index((m["mon1"] or m["mon2"])[:3].lower()) + 1
    try:
        day = datetime(int(m["y1"] or m["y2"]), month, int(m["d1"] or m["d2"]))  # noqa: DTZ001 - as written
    except ValueError:
        return None
    if m["H"] is None:
        return day, False, normalise_offset(m["tz"])
    hour = _hour(int(m["H"]), m["ampm"])
    stamp = day.replace(hour=hour, minute=int(m["M"]), second=int(m["S"] or 0))
    return stamp, True, normalise_offset(m["tz"])


def _textual(fragment: str) -> tuple[datetime, bool, str | None] | None:
    import dateparser  # lazy: slow to import, needed only for dates written with month names

    parsed = dateparser.parse(
        fragment,
        languages=["en", "ko", "ja"],
        settings={"REQUIRE_PARTS": ["day", "month", "year"], "RETURN_AS_TIMEZONE_AWARE": False},
    )
    if parsed is None:
        return None
    has_time = bool(re.search(r"\d:\d{2}", fragment))
    zone = re.search(r"(?:[+-]\d{2}:?\d{2}|\b(?:KST|JST|UTC|GMT)\b)\s*$", fragment)
    return parsed.replace(tzinfo=None), has_time, normalise_offset(zone.group(0)) if zone else None


_YEAR = re.compile(r"(?:19|20)\d\d")


def find_times(line: str) -> list[StatedTime]:
    """Every full date (year, month, day; time when stated) in `line`, with its label's kind."""
    found: list[StatedTime] = []
    if not _YEAR.search(line):
        return found
    for pattern, parse in ((_NUMERIC_DATE, _numeric), (_TEXT_DATE, _month_name)):
        for m in pattern.finditer(line):
            if any(m.start() < t.end and t.start < m.end() for t in found):
                continue
            value = parse(m)
            if value is None:
                continue
            label = _LABEL.search(line[max(0, m.start() - 16) : m.start()])
            modified = bool(label and _MODIFIED.match(label["label"]))
            found.append(StatedTime(value[0], value[1], value[2], modified, m.start(), m.end()))
    return sorted(found, key=lambda t: t.start)


def label_before(line: str, start: int) -> str | None:
    """The date label (입력, 승인, Published, 公開日 ...) written just before position `start`, if any."""
    m = _LABEL.search(line[max(0, start - 16) : start])
    return m["label"] if m else None


def parse_stated(raw: str | None) -> StatedTime | None:
    """A source-stated publication time (HTML metadata, feed field), in any common format."""
    if not raw or not raw.strip():
        return None
    times = find_times(raw.strip())
    if times:
        return times[0]
    value = _textual(raw.strip())
    return StatedTime(value[0], value[1], value[2], modified=False, start=0, end=len(raw)) if value else None


def locale_offset(text: str) -> str | None:
    """+09:00 when `text` (a date line, or the article) is Korean or Japanese, else None."""
    return EAST_ASIA_OFFSET if HANGUL.search(text) or KANA.search(text) else None


# --- bylines --------------------------------------------------------------------------------------------------

_KO_NAME = r"[가-힣]{2,4}"
_KO_TITLES = r"(?:기자|특파원|선임기자|객원기자|수습기자|인턴기자|전문기자|편집위원|논설위원|통신원|리포터)"
_KO_NAMES = rf"(?P<names>{_KO_NAME}(?:\s*[·ㆍ,/]\s*{_KO_NAME})*)"
_JA_NAME = r"[\u4e00-\u9fff\u3040-\u30ff]{2,8}"
_EN_NAME = r"[A-Z][a-zA-Z'’.-]+(?:\s+[A-Z][a-zA-Z'’.-]+){0,3}"
_EN_NAMES = rf"(?P<names>{_EN_NAME}(?:\s*(?:,|and|&)\s*{_EN_NAME}){{0,3}})"
# "(AI타임스=박혜섭 기자)", "(서울=연합뉴스) 홍길동 기자 =", "【서울=뉴시스】홍길동 기자 =": outlet and reporter.
_KO_BRACKET_BYLINE = re.compile(
    r"^\s*[(\[【〔]\s*(?P<left>[^=()\[\]【】〔〕]{1,30}?)\s*=\s*(?P<right>[^=()\[\]【】〔〕]{1,40}?)\s*[)\]】〕]"
    rf"\s*(?:{_KO_NAMES}\s*{_KO_TITLES}\s*=\s*)?"
)
_KO_NAME_TITLE = re.compile(rf"^{_KO_NAMES}\s*{_KO_TITLES}(?![가-힣])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A line that is only a byline: labels and "name 기자" forms in ko/ja/en, optionally with an e-mail address.
_BYLINE_LINES = (
    re.compile(
        rf"^(?:/\s*)?(?:written\s+by|reported\s+by|posted\s+by|by|reporter|author|writer)\s*[:：]?\s+{_EN_NAMES}$",
        re.IGNORECASE,
    ),
    re.compile(rf"^(?:/\s*)?{_KO_NAMES}\s*{_KO_TITLES}$"),
    re.compile(
        r"^(?:글|글·사진|사진·글|취재|작성자|글쓴이|기자명|기자)\s*[:：=]\s*(?P<names>[^\s:：=]{1,20}(?:\s[가-힣]{2,4})?)$"
    ),
    re.compile(
        rf"^(?:文|文・写真|写真・文|取材・文|記事執筆|執筆者|執筆|著者|記者|投稿者|作成者)\s*[:：=／/]\s*(?P<names>[^\s:：=／/]{{2,20}}(?:\s{_JA_NAME})?)$"
    ),
    re.compile(rf"^(?P<names>{_JA_NAME})\s*記者$"),
)
# Every byline form above contains one of these words: a cheap test before the full patterns.
_BYLINE_HINT = re.compile(
    rf"{_KO_TITLES}|\bby\b|reporter|author|writer|글|취재|작성자|글쓴이|기자명|文|執筆|著者|記者|投稿者|作成者",
    re.IGNORECASE,
)
# "작성자 : admin" inside a header line that also holds a date.
_INLINE_AUTHOR = re.compile(
    r"(?:작성자|글쓴이|기자명|投稿者|作成者|執筆者|Author|Posted by|Written by)\s*[:：]\s*"
    r"(?P<names>[^\s:：|]+?(?:\s[A-Z][a-z]+)?)(?=작성일|등록일|입력|승인|\s|\||$)",
    re.IGNORECASE,
)
# Account names content systems print where no author was entered: they are not authors.
PLACEHOLDER_AUTHORS = frozenset(
    {
        "admin", "administrator", "root", "webmaster", "master", "user", "guest", "unknown", "anonymous", "none",
        "null", "editor", "staff", "관리자", "운영자", "최고관리자", "管理者", "管理人",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Byline:
    """Names (and the outlet) a byline states, and how much of the line it covers."""

    names: tuple[str, ...]
    outlet: str | None
    end: int  # end of the byline prefix in the line


_NOT_NAMES = re.compile(
    r"^(?:mon|tues|wednes|thurs|fri|satur|sun)day$|^(?:january|february|march|april|may|june|july|august|september|"
    r"october|november|december|today|yesterday|the|this|that)$",
    re.IGNORECASE,
)


def real_names(names: list[str]) -> tuple[str, ...]:
    """`names` without placeholders, weekdays and duplicates, in order."""
    out: list[str] = []
    for raw in names:
        name = raw.strip(" ,/·")
        if name and name.casefold() not in PLACEHOLDER_AUTHORS and not _NOT_NAMES.match(name) and name not in out:
            out.append(name)
    return tuple(out)


def _split_names(names: str) -> list[str]:
    return [n for n in re.split(r"\s*(?:[·ㆍ,/&]|\band\b)\s*", names) if n]


def byline_prefix(line: str) -> Byline | None:
    """The Korean agency-style byline opening a paragraph ('(AI타임스=박혜섭 기자) ...'), if any."""
    m = _KO_BRACKET_BYLINE.match(line)
    if not m:
        return None
    left, right = m["left"].strip(), m["right"].strip()
    names: list[str] = _split_names(m["names"]) if m["names"] else []
    titled = _KO_NAME_TITLE.match(right)
    if titled:
        outlet = left
        names = _split_names(titled["names"]) + names
    else:
        outlet = right  # "(서울=연합뉴스)": place = outlet
    return Byline(real_names(names), outlet or None, m.end())


def byline_line(line: str) -> Byline | None:
    """The names when the whole line is a byline ('/written by Hyesub Park', '박혜섭 기자', '文：山田太郎')."""
    if len(line) > MAX_BYLINE_LINE or not _BYLINE_HINT.search(line):
        return None
    bare = (_EMAIL.sub("", line) if "@" in line else line).strip(" •·-–—|/()[]")
    bare = re.sub(r"\s+", " ", bare)
    if not bare or len(bare) > MAX_BYLINE_CHARS:
        return None
    for pattern in _BYLINE_LINES:
        m = pattern.match(bare)
        if m:
            return Byline(real_names(_split_names(m["names"])), None, len(line))
    return None


def inline_authors(line: str) -> tuple[str, ...]:
    """Author names stated with a label inside a metadata line ('작성자 : admin작성일 : ...' gives none)."""
    return real_names([m["names"] for m in _INLINE_AUTHOR.finditer(line)])


def has_inline_author_label(line: str) -> bool:
    """Whether the line carries an author label such as '작성자 :' or 'Posted by:'."""
    return bool(_INLINE_AUTHOR.search(line))


def inline_author_spans(line: str) -> list[tuple[int, int]]:
    """Character spans of labelled author statements in `line`."""
    return [m.span() for m in _INLINE_AUTHOR.finditer(line)]


# --- copyright -------------------------------------------------------------------------------------------------

_RIGHTS = re.compile(
    r"all rights reserved|unauthori[sz]ed (?:reproduction|copying|use)|reproduction[^.]{0,30}prohibited|"
    r"redistribution prohibited|무단\s?전재|재배포\s?금지|무단\s?복제|無断(?:転載|複製|転用)|転載(?:を)?禁|版权所有|"
    r"저작권자",
    re.IGNORECASE,
)
_COPYRIGHT_START = re.compile(r"^\s*(?:copyrights?\b|\(c\)|[©ⓒ]|저작권자|版权所有)", re.IGNORECASE)
_COPYRIGHT_OWNER = re.compile(
    r"(?:copyrights?\s*(?:\(c\)|[©ⓒ])?|저작권자\s*(?:\(c\)|[©ⓒ])?|\(c\)|[©ⓒ])\s*"
    r"(?:(?:19|20)\d{2}(?:\s*[-–~]\s*(?:19|20)\d{2})?\s*[,.]?\s*)?"
    r"(?P<owner>.+?)\s*"
    r"(?=(?:19|20)\d{2}|all rights|unauthori|무단|재배포|無断|転載|\.\s|,|\||$)",
    re.IGNORECASE,
)


# '엔터미디어(www.entermedia.co.kr)': the site's address beside its name is not part of the name.
_DOMAIN_IN_BRACKETS = re.compile(r"\s*[(\[（]\s*(?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)+/?\s*[)\]）]")


def is_copyright_line(line: str) -> bool:
    """Whether the line is a copyright or reproduction notice (short, and naming rights or starting with ©)."""
    if len(line) > MAX_NOTICE_CHARS:
        return False
    if _COPYRIGHT_START.match(line):
        return len(line) < SHORT_NOTICE_CHARS or bool(_RIGHTS.search(line))
    return len(line) < RIGHTS_LINE_CHARS and bool(_RIGHTS.search(line))


def copyright_owner(line: str) -> str | None:
    """The publisher a copyright line names ('Copyright © The Herald. All rights reserved.' -> 'The Herald')."""
    m = _COPYRIGHT_OWNER.search(line)
    if not m:
        return None
    owner = _DOMAIN_IN_BRACKETS.sub("", m["owner"]).strip(" .,:;-–|([（")
    if not owner or len(owner) > 60 or _RIGHTS.search(owner) or not re.search(r"[^\W\d_]", owner):  # noqa: PLR2004
        return None
    return owner
