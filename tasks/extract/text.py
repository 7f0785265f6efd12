# ruff: noqa: RUF001, RUF003 - Korean and Japanese punctuation (’, 「」, ・) is what this module matches.
"""Text helpers shared by the extractors: name keys, Korean particles, titles, sentences and scripts."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

# Korean case particles and their common stacks, longest first so '에서는' is stripped whole, not as '는'.
KO_PARTICLES = tuple(
    sorted(
        {
            *["은", "는", "이", "가", "을", "를", "의", "에", "와", "과", "도", "로", "만", "께", "랑"],
            *[
                "에서",
                "에게",
                "으로",
                "까지",
                "부터",
                "께서",
                "이나",
                "하고",
                "처럼",
                "보다",
                "이랑",
                "에는",
                "에서는",
                "에서도",
                "으로는",
                "으로도",
                "에도",
                "와의",
                "과의",
                "에게서",
                "한테",
                "이며",
                "이고",
                "이다",
                "이었다",
                "였다",
                "이라는",
                "라는",
                "이란",
                "란",
                "와는",
                "과는",
                "와도",
                "과도",
                "로서",
                "으로서",
                "로써",
                "으로써",
                "에서의",
                "으로의",
                "로의",
                "에의",
                "만의",
                "측은",
                "측이",
                "측과",
                "측의",
                "측",
                "등",
                "등은",
                "등이",
                "등과",
                "등의",
                "등을",
                "등에",
                "및",
            ],
        },
        key=len,
        reverse=True,
    )
)

# Titles that follow a Korean or Japanese name (이용섭 시장, イ市長) or precede an English one (Mayor Lee).
KO_TITLES = (
    "대통령",
    "국무총리",
    "총리",
    "부총리",
    "장관",
    "차관",
    "시장",
    "부시장",
    "도지사",
    "지사",
    "구청장",
    "군수",
    "의원",
    "의장",
    "교수",
    "총장",
    "원장",
    "소장",
    "대표",
    "회장",
    "부회장",
    "사장",
    "이사장",
    "위원장",
    "본부장",
    "센터장",
    "청장",
    "실장",
    "국장",
    "단장",
    "처장",
    "박사",
    "기자",
    "씨",
    "대변인",
    "감독",
    "선수",
    "후보",
    "전 대통령",
)
JA_TITLES = (
    "大統領",
    "首相",
    "総理",
    "長官",
    "次官",
    "市長",
    "知事",
    "区長",
    "議員",
    "教授",
    "総長",
    "学長",
    "院長",
    "所長",
    "社長",
    "会長",
    "代表",
    "委員長",
    "氏",
    "さん",
    "博士",
    "監督",
    "選手",
)
EN_TITLES = (
    "President",
    "Prime Minister",
    "Vice Minister",
    "Minister",
    "Vice Mayor",
    "Mayor",
    "Governor",
    "Mr.",
    "Ms.",
    "Mrs.",
    "Dr.",
    "Prof.",
    "Professor",
    "Chairman",
    "Chairwoman",
    "Chair",
    "CEO",
    "Director",
    "Rep.",
    "Sen.",
    "Senator",
    "Lawmaker",
    "Commissioner",
)
# Which registry role a title refers to, for resolving 'Mayor Lee' to the mayor of a city the article mentions.
TITLE_ROLES = {
    "mayor": ("Mayor", "Vice Mayor", "시장", "市長"),
    "governor": ("Governor", "도지사", "지사", "知事"),
    "president": ("President", "대통령", "大統領"),
    "minister": ("Minister", "장관", "長官"),
    "vice_minister": ("Vice Minister", "차관", "次官"),
}

CORPORATE_AFFIXES = re.compile(
    r"^(?:株式会社|有限会社|\(株\)|㈱|주식회사|\(주\)|㈜)\s*|\s*(?:株式会社|有限会社|\(株\)|㈱|\(주\)|㈜|社)$"
    r"|,?\s+(?:Inc\.?|Co\.,?\s*Ltd\.?|Co\.?|Ltd\.?|Corp\.?|Corporation|LLC|PLC)$",
)
_ROMAN_FOLDS = (("eo", "u"), ("oo", "u"), ("eu", "u"), ("ou", "u"), ("ee", "i"), ("wo", "o"), ("ae", "e"))
_CONSONANT_FOLDS = str.maketrans({"g": "k", "b": "p", "d": "t", "r": "l", "j": "c"})
_NON_KEY = re.compile(r"[^\w]+")
# A sentence ends at 。！？ or at . ! ? followed by space, and at every line break; not after abbreviations.
SENTENCE_END = re.compile(r"[。！？]+[」』”’)]*|[.!?]+[\"'”’)]*(?=\s)|\n+")
ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "mt",
        "no",
        "co",
        "corp",
        "inc",
        "ltd",
        "vs",
        "etc",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "e.g",
        "i.e",
        "gov",
        "rep",
        "sen",
        "gen",
        "col",
        "lt",
        "jr",
        "sr",
        "dept",
        "univ",
        "approx",
        "est",
        "fig",
    ]
)
_LAST_WORD = re.compile(r"([A-Za-z.]+)\.$")


def name_key(name: str) -> str:
    """Comparison key of a name: NFKC, case-folded, '&' as 'and', spaces and punctuation (hyphens, middle dots) gone."""
    text = unicodedata.normalize("NFKC", name).casefold().replace("&", "and")
    return _NON_KEY.sub("", text).replace("_", "")


def roman_key(name: str) -> str:
    """Key of a romanised Korean name that ignores common spelling variants (seop/sup, Gi/Ki) and token order."""
    tokens = sorted(_fold(t) for t in re.split(r"\s+", unicodedata.normalize("NFKC", name).casefold().strip()) if t)
    return "".join(tokens)


def _fold(token: str) -> str:
    token = _NON_KEY.sub("", token)
    for a, b in _ROMAN_FOLDS:
        token = token.replace(a, b)
    return token.translate(_CONSONANT_FOLDS)


def strip_corporate(name: str) -> str:
    """`name` without legal-form affixes (株式会社, ㈜, Inc., Corporation)."""
    stripped = CORPORATE_AFFIXES.sub("", name).strip()
    return stripped or name


_PARTICLE_SET = frozenset(KO_PARTICLES)
_PARTICLE_LENGTHS = sorted({len(p) for p in KO_PARTICLES}, reverse=True)


def strip_particle(word: str) -> str:
    """Korean word without a trailing case particle (광주시는 -> 광주시), keeping at least two syllables."""
    for n in _PARTICLE_LENGTHS:  # longest particle first, by set look-up: this runs for every Korean word
        if len(word) - n >= 2 and word[-n:] in _PARTICLE_SET:  # noqa: PLR2004 - shorter stems are not names
            return word[:-n]
    return word


def finditer_at(pattern: re.Pattern[str], first: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)`, trying `pattern` only where `first` finds a character a match can start with.

    The regex engine skips quickly only to a pattern's known first character; a pattern that opens with a
    look-behind, an optional part or alternatives of different shapes is tried at every position (~30 ns each).
    The matches are finditer's as long as `first` matches the first character of every match and `pattern` never
    matches the empty string.
    """
    pos = 0
    search, match = first.search, pattern.match
    while (hit := search(text, pos)) is not None:
        m = match(text, hit.start())
        if m is None:
            pos = hit.start() + 1
        else:
            yield m
            pos = max(m.end(), hit.start() + 1)


def word_choice(words: Iterable[str], *, either_case: bool = True) -> str:
    r"""Regex for any of `words` (each starting with a letter) at a word start: '\b(?:[Oo]ne|[Tt]wo|...)'.

    With `either_case` the first letter may be written in either case ('One', 'one'); the rest is as given.
    Written as one character class of first letters, a look-behind for the word start, then each letter's rests, so
    the regex engine skips quickly to where a word can start (~4x faster than the \b and alternation above). Put a
    closing \b (or a look-ahead for a non-letter) after it: then at most one word matches at a position, so their
    order does not matter.
    """
    rests: dict[str, list[str]] = {}
    for w in sorted(words, key=len, reverse=True):
        rests.setdefault(w[0], []).append(re.escape(w[1:]))
    cases = {c: f"{c.upper()}{c.lower()}" if either_case else c for c in rests}
    if either_case and len(set(map(str.lower, rests))) < len(rests):
        raise ValueError("words differ only in the case of their first letter")
    firsts = "".join(sorted(cases.values()))
    branches = "|".join(f"(?<=[{cases[c]}])(?:{'|'.join(r)})" for c, r in sorted(rests.items()))
    return rf"[{firsts}](?<!\w.)(?:{branches})"


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence of `text` (end mark included), trimmed of surrounding whitespace."""
    start = 0
    for m in SENTENCE_END.finditer(text):
        if m.group(0)[0] == ".":
            word = _LAST_WORD.search(text, max(start, m.start() - 12), m.start() + 1)
            if word and (word.group(1).lower() in ABBREVIATIONS or len(word.group(1)) == 1):
                continue
        end = m.start() if m.group(0)[0] == "\n" else m.end()
        yield from _trimmed(text, start, end)
        start = m.end()
    yield from _trimmed(text, start, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


# Code point ranges of the scripts names are written in.
_SCRIPT_RANGES = (
    ("hangul", 0xAC00, 0xD7A3),
    ("hangul", 0x1100, 0x11FF),
    ("hangul", 0x3130, 0x318F),
    ("kana", 0x3040, 0x30FF),
    ("kana", 0x31F0, 0x31FF),
    ("kana", 0xFF66, 0xFF9F),
    ("han", 0x4E00, 0x9FFF),
    ("han", 0x3400, 0x4DBF),
    ("han", 0xF900, 0xFAFF),
)


def script_of(ch: str) -> str:
    """'hangul' | 'kana' | 'han' | 'latin' | 'other' for one character."""
    o = ord(ch)
    for script, low, high in _SCRIPT_RANGES:
        if low <= o <= high:
            return script
    if ch.isascii() and ch.isalpha():
        return "latin"
    return "other"


def alias_language(alias: str) -> str:
    """'ko' | 'ja' | 'en' by the script of an alias (Latin-only aliases are English)."""
    scripts = {script_of(c) for c in alias}
    if "hangul" in scripts:
        return "ko"
    if scripts & {"kana", "han"}:
        return "ja"
    return "en"
