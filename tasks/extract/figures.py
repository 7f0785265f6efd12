# ruff: noqa: RUF001, RUF003 - Korean and Japanese punctuation (’, 「」, ・) is what this module matches.
"""Money, counts, areas, durations and percentages in English, Korean and Japanese, with normalised values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tasks.extract.text import finditer_at, strip_particle, word_choice

# '1,234.5' or '1234.5'. The first digit stands alone (\d{1,3}... | \d+... with the digit moved out) so a pattern that
# opens with a number has a known first character, which the regex engine skips to quickly (5x faster scans).
_NUM_REST = r"(?:\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d*(?:\.\d+)?)"
NUM = rf"\d{_NUM_REST}"
WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    "dozens": 24,
}
# A whole word (close it with \b); the first letter in either case.
_WORD_NUM = word_choice(WORD_NUMBERS)
EN_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "mn": 1e6, "m": 1e6, "k": 1e3}
CJK_SCALE = {"조": 1e12, "억": 1e8, "만": 1e4, "兆": 1e12, "億": 1e8, "万": 1e4}
CJK_SUB = {"천": 1e3, "백": 1e2, "십": 1e1, "千": 1e3, "百": 1e2, "十": 1e1}
CURRENCY_WORDS = {
    "won": "KRW",
    "KRW": "KRW",
    "원": "KRW",
    "ウォン": "KRW",
    "dollars": "USD",
    "dollar": "USD",
    "USD": "USD",
    "US dollars": "USD",
    "달러": "USD",
    "ドル": "USD",
    "yen": "JPY",
    "JPY": "JPY",
    "엔": "JPY",
    "円": "JPY",
    "euros": "EUR",
    "euro": "EUR",
    "EUR": "EUR",
    "유로": "EUR",
    "ユーロ": "EUR",
    "yuan": "CNY",
    "위안": "CNY",
    "pounds": "GBP",
}
CURRENCY_SIGNS = {"$": "USD", "US$": "USD", "₩": "KRW", "¥": "JPY", "￥": "JPY", "€": "EUR", "£": "GBP"}
AREA_UNITS = {
    "㎡": 1.0,
    "m2": 1.0,
    "m²": 1.0,
    "제곱미터": 1.0,
    "平方メートル": 1.0,
    "平米": 1.0,
    "square meters": 1.0,
    "square metres": 1.0,
    "sq m": 1.0,
    "㎢": 1e6,
    "km2": 1e6,
    "km²": 1e6,
    "제곱킬로미터": 1e6,
    "平方キロメートル": 1e6,
    "square kilometers": 1e6,
    "square kilometres": 1e6,
    "hectares": 1e4,
    "ha": 1e4,
    "헥타르": 1e4,
    "ヘクタール": 1e4,
    "평": 3.305785,
    "坪": 3.305785,
    "acres": 4046.856,
}
DURATION_UNITS = {
    "years": "year",
    "year": "year",
    "months": "month",
    "month": "month",
    "weeks": "week",
    "week": "week",
    "days": "day",
    "day": "day",
    "hours": "hour",
    "년": "year",
    "개월": "month",
    "달": "month",
    "주": "week",
    "일": "day",
    "시간": "hour",
    "年": "year",
    "年間": "year",
    "カ月": "month",
    "ヶ月": "month",
    "か月": "month",
    "ヵ月": "month",
    "週間": "week",
    "日間": "day",
    "時間": "hour",
}
# Figures are matched from their first digit (fast to scan for); an approximation word before it is looked up after.
APPROX_BEFORE = (
    r"(?:(?:about|around|approximately|nearly|almost|over|more than|some|roughly|up to|at least|an estimated)\s+"
    r"|약\s*|대략\s*|約|およそ|最大)"
)
_APPROX_TAIL = re.compile(rf"{APPROX_BEFORE}$", re.IGNORECASE)
APPROX_AFTER_KO = r"(?:여|가량|정도|이상|남짓|안팎|餘)"
APPROX_AFTER_JA = r"(?:余り|余|超|以上|程度|ほど)"

_EN_MONEY = re.compile(
    rf"(?:(?P<sign>US\$|\$|₩|¥|￥|€|£)\s?(?P<n1>{NUM})(?:\s*(?P<s1>thousand|million|billion|trillion|bn|mn)\b)?"
    rf"|(?P<n2>{NUM})\s*(?P<s2>thousand|million|billion|trillion)?\s+"
    r"(?P<cur>US dollars|dollars|won|yen|euros|yuan|pounds|KRW|USD|JPY|EUR)\b)"
)
_EN_MONEY_FIRST = re.compile(r"[U$₩¥￥€£\d]")  # what an English amount starts with (see text.finditer_at)
# An English amount has a currency sign or word; most texts have neither, and need no scan for one.
_EN_MONEY_HINTS = (
    "$", "₩", "¥", "￥", "€", "£", "dollars", "won", "yen", "euros", "yuan", "pounds", "KRW", "USD", "JPY", "EUR",
)  # fmt: skip
# '1조 2천억', '400억', '5,000'. (a b)+ is written a b (a b)*: both alternatives then open with NUM's first digit, which
# the regex compiler moves in front of them, so the pattern has a known first character (see NUM).
_CJK_SCALE = r"\s*[천백십千百十]?\s*[조억만兆億万]\s*"
_CJK_AMOUNT = rf"{NUM}{_CJK_SCALE}(?:(?:{NUM}){_CJK_SCALE})*(?:(?:{NUM})\s*[천백십千百十]?)?|{NUM}\s*[천백千百]?"
_CJK_MONEY = re.compile(
    rf"(?P<amount>{_CJK_AMOUNT})\s*(?P<after>{APPROX_AFTER_KO}|{APPROX_AFTER_JA})?\s*"
    r"(?:(?P<cur>원|달러|엔|유로|위안)(?:(?![가-힣])|(?=[을를은는이가의에과와도로만씩]))|(?P<jcur>円|ドル|ウォン|ユーロ))"
)
# A particle may follow a Korean counter or currency (개가, 원을); any other syllable makes another word (개발, 원장).
KO_PARTICLE_NEXT = r"(?:(?![가-힣])|(?=[을를은는이가의에과와도로만씩]))"
_AREA = re.compile(
    rf"(?P<n>{NUM})\s*(?P<after>{APPROX_AFTER_KO})?\s*"
    r"(?P<unit>㎡|㎢|m2|m²|km2|km²|제곱미터|제곱킬로미터|平方メートル|平方キロメートル|平米|square met(?:er|re)s|"
    r"square kilomet(?:er|re)s|sq m|hectares|ha\b|헥타르|ヘクタール|평(?![가-힣])|坪|acres)"
)
_PERCENT = re.compile(rf"(?P<n>{NUM})\s*(?P<after>{APPROX_AFTER_KO})?\s*(?:%|％|percent\b|per cent\b|퍼센트)")
_EN_DURATION_UNIT = r"\s+(?P<unit>[Yy]ears?|[Mm]onths?|[Ww]eeks?|[Dd]ays|[Hh]ours)\b"
_EN_DURATIONS = (
    re.compile(rf"(?P<n>{NUM}){_EN_DURATION_UNIT}"),
    re.compile(rf"(?P<n>{_WORD_NUM})\b{_EN_DURATION_UNIT}"),
)
_KO_DURATION = re.compile(
    rf"(?P<n>{NUM})\s*(?P<after>{APPROX_AFTER_KO})?\s*(?P<unit>년|개월|달|주|일|시간)\s*(?:간|동안|만에|째)"
)
_JA_DURATION = re.compile(rf"(?P<n>{NUM})\s*(?P<unit>年間|カ月|ヶ月|か月|ヵ月|週間|日間|時間)")
_EN_FUNCTION = r"(?:the|and|of|in|to|for|with|from|by|on|at|as|is|was|are|were|a|an|or|than|per|this|that|its)"
_EN_COUNTED = (
    rf"[ \t]+(?P<what>(?:(?!{_EN_FUNCTION}\b)[A-Za-z][\w&+-]*[ \t]+){{0,2}}"
    r"(?:[a-z][a-z-]*[a-rt-z]s|people|staff|personnel|children|men|women|police|faculty|alumni|media))\b"
)
_EN_COUNTS = (
    # Not after a word, $ or a number (the look-behind follows the first digit, which keeps that digit first).
    re.compile(rf"(?P<n>\d(?<![\w$.,]\d){_NUM_REST}){_EN_COUNTED}"),
    re.compile(rf"(?P<n>{_WORD_NUM})\b{_EN_COUNTED}"),
)
KO_COUNTERS = (
    "개사",
    "개소",
    "개국",
    "개교",
    "개팀",
    "가지",
    "개",
    "명",
    "곳",
    "건",
    "편",
    "종",
    "대",
    "팀",
    "채",
    "척",
    "마리",
    "그루",
    "권",
)
_KO_COUNT = re.compile(
    rf"(?P<n>{NUM})\s*(?P<after>{APPROX_AFTER_KO})?\s*"
    rf"(?P<counter>{'|'.join(KO_COUNTERS)})(?:(?P<of>의\s+(?P<what>[A-Za-z가-힣]+(?:\s[A-Za-z가-힣]+)?))|{KO_PARTICLE_NEXT})"
)
JA_COUNTERS = (
    "機関",
    "団体",
    "カ国",
    "か国",
    "ヶ国",
    "カ所",
    "か所",
    "ヶ所",
    "社",
    "人",
    "名",
    "件",
    "校",
    "店",
    "台",
    "個",
    "チーム",
)
_JA_COUNT = re.compile(
    rf"(?P<n>{NUM})\s*"
    rf"(?P<counter>{'|'.join(JA_COUNTERS)})(?P<after>{APPROX_AFTER_JA})?"
)


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure found in a text."""

    kind: str
    value: float
    unit: str | None
    counted: str | None
    approximate: bool
    start: int
    end: int


def parse_number(text: str) -> float:
    """Value of '1,234.5' or an English number word."""
    lowered = text.lower()
    if lowered in WORD_NUMBERS:
        return float(WORD_NUMBERS[lowered])
    return float(text.replace(",", ""))


def parse_cjk_amount(text: str) -> float:
    """Value of a Korean/Japanese amount: '1조 2천억' -> 1.2e12, '400억' -> 4e10, '3億' -> 3e8, '5,000' -> 5e3."""
    total, found = 0.0, False
    for m in re.finditer(rf"({NUM})\s*([천백십千百十])?\s*([조억만兆億万])?", text):
        found = True
        value = float(m.group(1).replace(",", "")) * CJK_SUB.get(m.group(2) or "", 1.0)
        total += value * CJK_SCALE.get(m.group(3) or "", 1.0)
    if not found:
        raise ValueError(f"no amount in {text!r}")
    return total


_KO_BEFORE = re.compile(r"([가-힣A-Za-z]+)\s?$")
_JA_BEFORE = re.compile(r"([一-龥ァ-ヺーA-Za-z]{1,10})$")


def _approx_start(text: str, start: int) -> int:
    """Start of an approximation word ('about', '약', '約') right before `start`, or `start`."""
    m = _APPROX_TAIL.search(text, max(0, start - 16), start)
    return m.start() if m else start


def _is_year(n: str) -> bool:
    return bool(re.fullmatch(r"(?:19|20)\d\d", n))


def find_figures(text: str) -> list[Figure]:
    """Every figure in `text`, without overlaps (money, areas and percentages before counts and durations)."""
    found: list[Figure] = []
    taken: list[tuple[int, int]] = []

    def add(fig: Figure) -> None:
        if not any(a < fig.end and fig.start < b for a, b in taken):
            found.append(fig)
            taken.append((fig.start, fig.end))

    has_digit = _DIGIT.search(text) is not None
    # Korean figures need Hangul and Japanese ones kanji or kana (units, counters, currencies): a text without
    # them skips those scans.
    korean = has_digit and _HANGUL.search(text) is not None
    japanese = has_digit and _KANA_HAN.search(text) is not None
    if has_digit:
        for fig in _money(text, cjk=korean or japanese):
            # "0원"/"$0" reads as "free", not an amount; money values are positive by contract.
            if fig.value > 0:
                add(fig)
        for m in _AREA.finditer(text):
            add(_figure(text, m, "area", parse_number(m.group("n")) * AREA_UNITS[m.group("unit")], "m2"))
        for m in _PERCENT.finditer(text):
            add(_figure(text, m, "percent", parse_number(m.group("n")), "%"))
    for fig in _durations(text, has_digit=has_digit, korean=korean, japanese=japanese):
        add(fig)
    for fig in _counts(text, has_digit=has_digit, korean=korean, japanese=japanese):
        add(fig)
    return sorted(found, key=lambda f: (f.start, f.end))


_DIGIT = re.compile(r"\d")
_HANGUL = re.compile(r"[가-힣]")
_KANA_HAN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _figure(
    text: str, m: re.Match[str], kind: str, value: float, unit: str | None, *, counted: str | None = None
) -> Figure:
    """A Figure for match `m`, its start moved back over an approximation word ('about', '약', '約')."""
    start = _approx_start(text, m.start())
    after = m.groupdict().get("after")
    return Figure(kind, value, unit, counted, start < m.start() or bool(after), start, m.end())


def _money(text: str, *, cjk: bool) -> Iterator[Figure]:
    hinted = any(hint in text for hint in _EN_MONEY_HINTS)
    for m in finditer_at(_EN_MONEY, _EN_MONEY_FIRST, text) if hinted else ():
        if m.group("sign"):
            currency = CURRENCY_SIGNS[m.group("sign")]
            value = parse_number(m.group("n1")) * EN_SCALE.get((m.group("s1") or "").lower(), 1.0)
        else:
            currency = CURRENCY_WORDS[m.group("cur")]
            value = parse_number(m.group("n2")) * EN_SCALE.get((m.group("s2") or "").lower(), 1.0)
        yield _figure(text, m, "money", value, currency)
    for m in _CJK_MONEY.finditer(text) if cjk else ():
        currency = CURRENCY_WORDS[m.group("cur") or m.group("jcur")]
        yield _figure(text, m, "money", parse_cjk_amount(m.group("amount")), currency)


def _durations(text: str, *, has_digit: bool, korean: bool, japanese: bool) -> Iterator[Figure]:
    patterns = [*(_EN_DURATIONS if has_digit else _EN_DURATIONS[1:])]
    if korean:
        patterns.append(_KO_DURATION)
    if japanese:
        patterns.append(_JA_DURATION)
    for pattern in patterns:
        for m in pattern.finditer(text):
            n = m.group("n")
            if _is_year(n):
                continue
            unit = DURATION_UNITS[m.group("unit").lower() if m.group("unit").isascii() else m.group("unit")]
            yield _figure(text, m, "duration", parse_number(n), unit)


def _counts(text: str, *, has_digit: bool, korean: bool, japanese: bool) -> Iterator[Figure]:
    for pattern in _EN_COUNTS if has_digit else _EN_COUNTS[1:]:
        for m in pattern.finditer(text):
            n = m.group("n")
            if _is_year(n) or (m.start() > 0 and text[m.start() - 1] in "$#"):
                continue
            yield _figure(text, m, "count", parse_number(n), None, counted=m.group("what"))
    for m in _KO_COUNT.finditer(text) if korean else ():
        what = strip_particle(m.group("what")) if m.group("what") else None
        fig = _figure(text, m, "count", parse_number(m.group("n")), None)
        before = _KO_BEFORE.search(text, max(0, fig.start - 12), fig.start)
        word = before.group(1) if before else ""
        counted = what or (word if word and not word.endswith(("는", "은", "이", "가", "을", "를", "에")) else None)
        end = m.start("what") + len(what) if what else m.end("counter")
        yield Figure(fig.kind, fig.value, None, counted or m.group("counter"), fig.approximate, fig.start, end)
    for m in _JA_COUNT.finditer(text) if japanese else ():
        fig = _figure(text, m, "count", parse_number(m.group("n")), None)
        before = _JA_BEFORE.search(text, max(0, fig.start - 10), fig.start)
        yield Figure(
            fig.kind,
            fig.value,
            None,
            before.group(1) if before else m.group("counter"),
            fig.approximate,
            fig.start,
            fig.end,
        )
