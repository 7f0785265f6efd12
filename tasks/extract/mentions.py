# ruff: noqa: RUF001, RUF003 - Korean and Japanese punctuation (’, 「」, ・) is what this module matches.
"""PERSON / ORG / LOC mention candidates in English, Korean and Japanese text, with exact character offsets.

Three sources, merged per article: registry names (gazetteer), pattern rules per script (capitalised runs and
Korean romanised names in Latin text, suffix and title rules in Hangul text) and, for Japanese, SudachiPy's
proper-noun tags. Kiwi (Korean proper-noun tags) is an optional backend: it is slower than the pipeline's budget.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.extract.text import EN_TITLES, JA_TITLES, KO_TITLES, strip_particle, word_choice

PERSON, ORG, LOC = "PERSON", "ORG", "LOC"
LEXICON_FILE = Path(__file__).parent / "data" / "lexicon.yaml"


def _load_lexicon(path: Path = LEXICON_FILE) -> dict[str, list[str]]:
    """Word lists the rules use (name suffixes, titles, stop words), from data/lexicon.yaml."""
    from tasks.safe_yaml import load_yaml

    data = load_yaml(path)
    return {name: [str(v) for v in values] for name, values in data["lists"].items()}


LEXICON = _load_lexicon()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A name found in a text: span, type, how it was found and, for persons, the title written with it."""

    start: int
    end: int
    type: str
    method: str
    entity_id: str | None = None
    title: str | None = None
    surname_only: bool = False

    @property
    def length(self) -> int:
        """Characters covered."""
        return self.end - self.start


# --- English (and any Latin-script run) ------------------------------------------------------------------------------

KOREAN_SURNAMES_EN = list(LEXICON["korean_surnames_en"])
# A surname as a whole word (text.word_choice: the regex engine then skips to the capitals surnames start with).
_SURNAME_EN = word_choice(set(KOREAN_SURNAMES_EN), either_case=False)
# 'Lee Yong-seop', 'Moon Jae-in', 'Kim Moon-hwan': a Korean surname then a hyphenated given name.
KOREAN_NAME_EN = re.compile(rf"{_SURNAME_EN}\s+[A-Z][a-z]+-[a-z]+\b")
# 'Yongseop Lee', 'Hyesub Park': given name first, only when the text says who it is (title before).
# A final '.' belongs to a word only after an initial or a known abbreviation, so runs stop at a sentence end.
_ABBREV_DOT = r"(?:(?:(?<=\s[A-Z])|(?<=^[A-Z])|(?<=Co)|(?<=Inc)|(?<=Corp)|(?<=Ltd)|(?<=St)|(?<=Jr)|(?<=Mt))\.)?"
CAP_WORD = rf"(?:[A-Z][A-Za-z0-9]*(?:[-'’.][A-Za-z0-9]+)*{_ABBREV_DOT}|[0-9]+(?:st|nd|rd|th)?(?=[-\s][A-Z]))"
CAP_RUN = re.compile(
    rf"{CAP_WORD}(?:(?:[ \t]+|[ \t]*&[ \t]*)(?:(?:of|for|and|the|de|du|von|van|der|la|le)[ \t]+)*{CAP_WORD})*"
)

ORG_WORDS = frozenset(LEXICON["org_words"])
LOC_WORDS = frozenset(LEXICON["loc_words"])
LOC_SUFFIXES = tuple(LEXICON["loc_suffixes"])
VENUE_BEFORE_CENTER = frozenset(LEXICON["venue_before_center"])
STOP_WORDS = frozenset(LEXICON["stop_words"])
# All-caps words that are common nouns in this domain, not organisations.
NOT_ACRONYMS = frozenset(LEXICON["not_acronyms"])
GIVEN_NAMES_EN = frozenset(LEXICON["given_names_en"])
_TITLE_EN = word_choice(EN_TITLES, either_case=False)  # at a word start, as _SURNAME_EN
TITLED_EN = re.compile(
    rf"(?P<title>{_TITLE_EN})\s+(?:of\s+[A-Z][\w&-]*(?:\s+(?:and\s+|&\s+)?[A-Z][\w&-]*)*\s+)?"
    rf"(?P<name>[A-Z][a-z]+(?:[-\s][A-Z][a-z]+(?:-[a-z]+)?){{0,2}})"
)
_TITLE_WORDS = frozenset(w.rstrip(".") for t in EN_TITLES for w in t.split()) | {"Vice", "Deputy", "Chief", "Head"}


_ROMAN_SYLLABLE = (
    r"(?:ch|kk|tt|pp|ss|jj|sh|[bcdghjkmnprstwy])?(?:yae|wae|yeo|ae|ya|eo|ye|wa|oe|yo|wo|we|wi|yu|eu|ui|ee|oo|ou|a|e|o|u|i)"
    r"(?:ng|n|m|l|k|p|t|b|g|r)?"
)
ROMAN_GIVEN = re.compile(rf"(?i:{_ROMAN_SYLLABLE}-?{_ROMAN_SYLLABLE})")
COUNTRY_TAILS = frozenset(LEXICON["country_tails"])


def _en_type(tokens: list[str], *, surface: str) -> str | None:  # noqa: C901, PLR0911 - one rule per line
    """PERSON / ORG / LOC of a capitalised run from its words, or None when nothing tells."""
    last = tokens[-1]
    if KOREAN_NAME_EN.fullmatch(surface):
        return PERSON
    if len(tokens) == 1 and "-" in last and last.rsplit("-", 1)[1] in LOC_WORDS | ORG_WORDS:
        return LOC if last.rsplit("-", 1)[1] in LOC_WORDS else ORG  # 'Pangyo-2-Techno-Valley'
    if len(tokens) == 1 and (last in ORG_WORDS or last in LOC_WORDS):
        return None  # 'City', 'University' alone name nothing
    if len(tokens) == 2 and last in KOREAN_SURNAMES_EN and ROMAN_GIVEN.fullmatch(tokens[0]):  # noqa: PLR2004
        return PERSON  # given name first: 'Hyesub Park', 'Yongseop Lee'
    if len(tokens) >= 2 and last in COUNTRY_TAILS and tokens[0] not in LOC_WORDS:  # noqa: PLR2004
        return ORG  # 'The Vault Korea', 'Samsung Electronics America'

    if last in ORG_WORDS or any(t in ORG_WORDS for t in tokens[:-1] if tokens[tokens.index(t) + 1] in {"of", "for"}):
        if last in {"Center", "Centre"} and len(tokens) > 1 and tokens[-2] in VENUE_BEFORE_CENTER:
            return LOC
        return ORG
    if last in LOC_WORDS or last.endswith(LOC_SUFFIXES) or (tokens[0] in LOC_WORDS and "of" in tokens[:2]):
        return LOC
    if len(tokens) == 1 and 2 <= len(last) <= 6 and last.isupper() and last not in NOT_ACRONYMS:  # noqa: PLR2004
        return ORG
    if tokens[0] in GIVEN_NAMES_EN and 2 <= len(tokens) <= 3 and all(t[:1].isupper() for t in tokens):  # noqa: PLR2004
        return PERSON
    return None


def latin_candidates(text: str) -> Iterator[Candidate]:
    """Names in the Latin-script parts of `text`: Korean romanised names, titled persons and capitalised runs."""
    taken: list[tuple[int, int]] = []
    for m in KOREAN_NAME_EN.finditer(text):
        taken.append(m.span())
        yield Candidate(m.start(), m.end(), PERSON, "pattern")
    for m in TITLED_EN.finditer(text):
        start, end = m.span("name")
        if any(s < end and start < e for s, e in taken):
            continue
        name = m.group("name")
        if name.split()[0] in STOP_WORDS or name.split()[-1] in ORG_WORDS | LOC_WORDS:
            continue
        taken.append((start, end))
        yield Candidate(start, end, PERSON, "pattern", title=m.group("title"), surname_only=" " not in name)
    for m in CAP_RUN.finditer(text):
        for start, end in _split_run(text, m.start(), m.end()):
            spans = [(start, end)]
            if any(s < end and start < e for s, e in taken):
                a, b = _outside(start, end, taken)
                spans = list(_split_run(text, a, b)) if b > a else []  # trim 'of', 'the' again
            for a, b in spans:
                surface = text[a:b]
                kind = _en_type(surface.replace("&", " & ").split(), surface=surface)
                if kind is not None:
                    yield Candidate(a, b, kind, "pattern")


def _outside(start: int, end: int, taken: list[tuple[int, int]]) -> tuple[int, int]:
    """The longest part of [start, end) that overlaps no taken span, trimmed to whole words."""
    pieces = [(start, end)]
    for s, e in taken:
        nxt = []
        for a, b in pieces:
            if e <= a or s >= b:
                nxt.append((a, b))
                continue
            if a < s:
                nxt.append((a, s))
            if e < b:
                nxt.append((e, b))
        pieces = nxt
    if not pieces:
        return start, start
    a, b = max(pieces, key=lambda p: p[1] - p[0])
    return a, b


_WORD = re.compile(r"\S+")


def _mid_sentence(text: str, pos: int) -> bool:
    """True when the word at `pos` does not start a sentence, line or quotation."""
    before = text[max(0, pos - 3) : pos].rstrip(" \t")
    return bool(before) and before[-1] not in ".!?\n“\"'‘(:;▲•"


_RUN_SPLIT = re.compile(r"\s+and\s+|’s\b|'s\b")
_LEADING_NOT_NAME = frozenset({"of", "for", "the", "&", "de"})
_TRAILING_NOT_NAME = frozenset({"of", "for", "the", "&", "and", "de", "du", "la", "le"})


def _split_run(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Name spans inside a capitalised run: stop words and titles trimmed, split at ' and ' and possessives."""
    surface = text[start:end]
    if " " not in surface and "\t" not in surface and "'s" not in surface and "’s" not in surface:
        # One word (most runs: 'The', 'He', 'Seoul'): the steps below, without splitting.
        yield from _one_word(text, start, end)
        return
    parts: list[tuple[int, int]] = []
    cut = start
    for m in _RUN_SPLIT.finditer(surface):
        parts.append((cut, start + m.start()))
        cut = start + m.end()
    parts.append((cut, end))
    for a, b in parts:
        words = [(a + w.start(), a + w.end()) for w in _WORD.finditer(text[a:b])]
        # A capitalised 'The' inside a sentence belongs to the name ('with The Vault Korea').
        keep_the = bool(words) and text[words[0][0] : words[0][1]] == "The" and _mid_sentence(text, words[0][0])
        while (
            words
            and not keep_the
            and (
                text[words[0][0] : words[0][1]] in STOP_WORDS
                or text[words[0][0] : words[0][1]].rstrip(".") in _TITLE_WORDS
                or text[words[0][0] : words[0][1]] in _LEADING_NOT_NAME
            )
        ):
            words.pop(0)
        while words and text[words[-1][0] : words[-1][1]] in _TRAILING_NOT_NAME:
            words.pop()
        if not words:
            continue
        s, e = words[0][0], words[-1][1]
        while e > s and text[e - 1] in ".,;:":
            e -= 1
        if e > s and e - s != 1:
            yield s, e


def _one_word(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """_split_run's answer for a run of one word."""
    word = text[start:end]
    keep_the = word == "The" and _mid_sentence(text, start)
    if not keep_the and (word in STOP_WORDS or word.rstrip(".") in _TITLE_WORDS or word in _LEADING_NOT_NAME):
        return
    if word in _TRAILING_NOT_NAME:
        return
    while end > start and text[end - 1] in ".,;:":
        end -= 1
    if end > start and end - start != 1:
        yield start, end


# --- Korean (Hangul) -----------------------------------------------------------------------------------------------

KOREAN_SURNAMES_KO = frozenset(LEXICON["korean_surnames_ko"])
KO_ORG_SUFFIXES = tuple(LEXICON["ko_org_suffixes"])
KO_LOC_SUFFIXES = tuple(LEXICON["ko_loc_suffixes"])
# Common nouns that end like a place or an organisation (연구 is not a district, 정부 not a ministry).
KO_NOT_NAMES = frozenset(LEXICON["ko_not_names"])
_KO_WORD = re.compile(r"[가-힣A-Za-z0-9&·]+")
_KO_TITLE_AFTER = re.compile(
    r"\s*(?P<place>[가-힣A-Za-z]{1,8}?)?("
    + "|".join(sorted(KO_TITLES, key=len, reverse=True))
    + r")(?:[가-힣]{0,3})?(?![가-힣])"
)
PLACE_TITLES = frozenset(LEXICON["place_titles"])


_KO_SUFFIX_TYPES = {**dict.fromkeys(KO_ORG_SUFFIXES, ORG), **dict.fromkeys(KO_LOC_SUFFIXES, LOC)}
_KO_SUFFIX_LENGTHS = sorted({len(x) for x in _KO_SUFFIX_TYPES}, reverse=True)
_KO_SUFFIX_ENDS = frozenset(x[-1] for x in _KO_SUFFIX_TYPES)  # most words end otherwise (in a particle or an ending)


def _ko_type(stem: str) -> str | None:
    """ORG / LOC of a Korean word by its suffix (…대학교, …연구원, …시), or None."""
    if len(stem) < 2 or stem[-1] not in _KO_SUFFIX_ENDS or stem in KO_NOT_NAMES or not stem.isalpha():  # noqa: PLR2004 - '11시' is a time
        return None
    for n in _KO_SUFFIX_LENGTHS:  # longest suffix first, by set look-up: this runs for every Korean word
        kind = _KO_SUFFIX_TYPES.get(stem[-n:]) if len(stem) > n else None
        if kind is None or len(stem) - n < (2 if n == 1 else 1):
            continue
        if (stem[-2:] in KO_NOT_NAMES and len(stem) <= 3) or (stem[-3:] in KO_NOT_NAMES and len(stem) <= 4):  # noqa: PLR2004
            return None
        if kind == LOC and (stem[-2:] in KO_NOT_NAMES or stem[-3:] in KO_NOT_NAMES):
            return None
        return kind
    return None


def _title_ok(after: re.Match[str]) -> bool:
    """A title after a name may name its place or body first ('광주시장', '과기정통부 장관'), never a common noun."""
    place = after.group("place")
    if not place:
        return True
    if after.group(2) not in PLACE_TITLES:
        return False
    from tasks.extract.registry import load_registry

    return load_registry().lookup(place) is not None or (len(place) >= 2 and place[-1] in "시도군구")  # noqa: PLR2004


@functools.lru_cache(maxsize=1 << 16)
def _ko_word(word: str) -> tuple[bool, str | None, int]:
    """Whether a word may be a name with a title after it, and its ORG/LOC type with the length of the typed form.

    The typed form is the word, else the word without its particle. Cached: this runs for every Korean word, and
    news text repeats its words (half the look-ups in a batch of distinct articles, more with syndicated copies).
    """
    if word.isascii() or _HANGUL.search(word) is None:
        return False, None, 0
    bare = strip_particle(word)
    # Titles: a 2-4 syllable word starting with a surname, followed by a title (a word ending in 시장 counts).
    stem = bare if len(word) > 3 else word  # noqa: PLR2004
    titled = (
        len(word) == len(stem)
        and 2 <= len(stem) <= 4  # noqa: PLR2004
        and stem[0] in KOREAN_SURNAMES_KO
        and stem.isalpha()
        and "가" <= stem[-1] <= "힣"
    )
    for cand in (word, bare):
        kind = _ko_type(cand)
        if kind is not None:
            return titled, kind, len(cand)
    return titled, None, 0


def hangul_candidates(text: str) -> Iterator[Candidate]:
    """Names in the Hangul parts of `text` by suffix (…대학교, …연구원, …시) and by title (이용섭 시장, 문 대통령)."""
    for m in _KO_WORD.finditer(text):
        titled, kind, length = _ko_word(m.group(0))
        start = m.start()
        if titled:
            after = _KO_TITLE_AFTER.match(text, m.end())
            if after and after.start() < after.end() and _title_ok(after):
                yield Candidate(start, m.end(), PERSON, "pattern", title=after.group(2))
                continue
        if kind is not None:
            yield Candidate(start, start + length, kind, "pattern")
    yield from _ko_surname_titles(text)


_KO_SURNAME_TITLE = re.compile(
    r"(?<![가-힣])(["
    + "".join(sorted(KOREAN_SURNAMES_KO))
    + r"])\s?("
    + "|".join(t for t in KO_TITLES if len(t) >= 2)  # noqa: PLR2004
    + r")(?:[가-힣]{0,3})(?![가-힣])"
)


def _ko_surname_titles(text: str) -> Iterator[Candidate]:
    """'문 대통령', '이 시장': a bare surname with a title refers back to a person named earlier."""
    for m in _KO_SURNAME_TITLE.finditer(text):
        if m.group(0)[1] == " ":
            yield Candidate(m.start(1), m.end(1), PERSON, "pattern", title=m.group(2), surname_only=True)


# --- Japanese ---------------------------------------------------------------------------------------------------------

JA_ORG_SUFFIXES = tuple(LEXICON["ja_org_suffixes"])
JA_ORG_HEADS = frozenset(LEXICON["ja_org_heads"])
JA_LOC_HEADS = frozenset(LEXICON["ja_loc_heads"])
JA_ERAS = frozenset(LEXICON["ja_eras"])
JA_LOC_SUFFIXES = tuple(LEXICON["ja_loc_suffixes"])
# Transliterated function words and common nouns: 'ボルチモア・アンド・オハイオ' is a railway, not a person.
JA_NOT_NAME_PARTS = frozenset(LEXICON["ja_not_name_parts"])
_JA_DOT_NAME = re.compile(r"(?<![ァ-ヺー・])[ァ-ヺー]{1,12}(?:・[ァ-ヺー]{1,12})+(?![ァ-ヺー])")
_JA_TITLE = "|".join(sorted(JA_TITLES, key=len, reverse=True))
_JA_SURNAME_TITLE = re.compile(rf"(?<![ァ-ヺー・一-龥])([ァ-ヺー]{{1,5}}|[一-龥]{{1,2}})(?:{_JA_TITLE})")
_JA_COMPANY = re.compile(r"(?:株式会社|有限会社|㈱)\s?[ァ-ヺーA-Za-z0-9一-龥]{1,20}?(?=[ぁ-ん、。（(「」\s]|$)")
JA_GENERIC = frozenset(LEXICON["ja_generic"])
_JA_KATAKANA_ORG = re.compile(
    r"(?<![ァ-ヺー])([ァ-ヺー]{2,}?)(?:キャピタル|ベンチャーズ|テクノロジーズ|ホールディングス|グループ|コーポレーション|カンパニー|ラボ)"
)
_JA_KATAKANA_SHA = re.compile(r"(?<![ァ-ヺー])([ァ-ヺー]{2,}|[A-Z][A-Za-z0-9]+)社")


# Without a dictionary: a kanji/katakana name before an organisation or place word or an honorific.
_JA_KANJI_ORG = re.compile(
    r"(?<![一-龥ァ-ヺー])((?:[一-龥]{1,6}|[ァ-ヺー]{2,10}))(?:大学院|大学|銀行|新聞社|新聞|研究所|研究院|財団|協会|省|庁|党|"
    r"放送|電鉄|鉄道|電力|工業|製作所|商事|物産|自動車|証券|製薬|重工|電機|航空|病院|高校|学園|球団)(?![一-龥])"
)
_JA_KANJI_LOC = re.compile(
    r"(?<![一-龥ァ-ヺー])(?:[一-龥]{2,3}|[ァ-ヺー]{2,8})(?<!都)(?<!地)(?<!各)(?:都|道|府|県|市|区|町|村|州|駅|空港)(?![一-龥])"
)
_JA_HONORIFIC = re.compile(
    r"(?<![一-龥ァ-ヺー・])([一-龥]{3,4}|[ァ-ヺー]{2,8}・[ァ-ヺー]{2,8})(?:さん|氏|選手|監督|容疑者|被告|教授|社長|会長|議員|弁護士|代表)"
)
# Kanji words that end like an organisation but name none ('国立大学', '同社').
JA_GENERIC_KANJI = frozenset(LEXICON["ja_generic_kanji"])


def japanese_pattern_candidates(text: str) -> Iterator[Candidate]:  # noqa: C901, PLR0912 - one pattern per block
    """Japanese names by pattern: katakana names with middle dots, 株式会社…, …社, titles after a surname."""
    for m in _JA_DOT_NAME.finditer(text):
        start, end = m.span()
        if end < len(text) and "一" <= text[end] <= "龥":
            end = text.rfind(
                "・", start, end
            )  # 'ジェームス・ランディムリック・ニューヨーク州立大学': the last part is not the name
        if start > 0 and text[start - 1] in "「『“" and end < len(text) and text[end] in "」』”":
            continue  # a quoted title (「ディープ・ブルー」), not a person
        parts = text[start:end].split("・")
        if len(parts) > 1 and not JA_NOT_NAME_PARTS & set(parts):
            yield Candidate(start, end, PERSON, "pattern")
    for m in _JA_COMPANY.finditer(text):
        yield Candidate(m.start(), m.end(), ORG, "pattern")
    for m in _JA_KATAKANA_ORG.finditer(text):
        if m.group(1) not in JA_GENERIC:
            yield Candidate(m.start(), m.end(), ORG, "pattern")
    for m in _JA_KATAKANA_SHA.finditer(text):
        if m.group(1) not in NOT_ACRONYMS and m.group(1) not in JA_GENERIC:
            yield Candidate(m.start(1), m.end(1), ORG, "pattern")
    for m in _JA_KANJI_ORG.finditer(text):
        if m.group(1) not in JA_GENERIC_KANJI:
            yield Candidate(m.start(), m.end(), ORG, "pattern")
    for m in _JA_KANJI_LOC.finditer(text):
        yield Candidate(m.start(), m.end(), LOC, "pattern")
    for m in _JA_HONORIFIC.finditer(text):
        yield Candidate(m.start(1), m.end(1), PERSON, "pattern")
    for m in _JA_SURNAME_TITLE.finditer(text):
        title = text[m.end(1) : m.end()]
        yield Candidate(m.start(1), m.end(1), PERSON, "pattern", title=title, surname_only=True)


@functools.cache
def _sudachi_dictionary() -> Any:  # noqa: ANN401 - sudachipy ships no type information
    """SudachiPy's core dictionary, loaded once per process."""
    from sudachipy import Dictionary

    return Dictionary(dict="core")


_SUDACHI_LOCAL = threading.local()


def _sudachi() -> tuple[Any, Any]:
    """A tokenizer for this thread (mode C, only the fields we read) and the shared dictionary.

    A Sudachi tokenizer refuses concurrent use ("Tokenizer is already in use"), and batches run in threads.
    """
    from sudachipy import SplitMode

    dictionary = _sudachi_dictionary()
    tokenizer = getattr(_SUDACHI_LOCAL, "tokenizer", None)
    if tokenizer is None:
        tokenizer = dictionary.tokenizer(mode=SplitMode.C, fields={"pos"})
        _SUDACHI_LOCAL.tokenizer = tokenizer
    return tokenizer, dictionary


@functools.cache
def _pos(pos_id: int) -> tuple[str, ...]:
    return tuple(_sudachi()[1].pos_of(pos_id))


def sudachi_candidates(text: str) -> Iterator[Candidate]:  # noqa: C901, PLR0912 - one token walk
    """Japanese names from SudachiPy proper-noun tags (人名 / 地名 / 固有名詞), extended by name suffixes."""
    morphemes = _sudachi()[0].tokenize(text)
    # Reading every morpheme's fields is the cost; look closely only around proper nouns.
    pos_ids = [m.part_of_speech_id() for m in morphemes]
    n = len(pos_ids)
    i = 0
    while i < n:
        pos = _pos(pos_ids[i])
        if pos[0] != "名詞" or pos[1] != "固有名詞":
            i += 1
            continue
        start, end = morphemes[i].begin(), morphemes[i].end()
        surface = text[start:end]
        sub = pos[2]
        j = i + 1

        def adjacent(k: int, end: int = end) -> bool:
            return k < n and morphemes[k].begin() == end

        if sub == "人名":
            while adjacent(j, end) and _pos(pos_ids[j])[1:3] == ("固有名詞", "人名"):
                end = morphemes[j].end()
                j += 1
            kind = PERSON if end - start >= 2 else ""  # noqa: PLR2004 - one kanji is rarely a whole name
        elif sub == "地名":
            while adjacent(j, end) and _pos(pos_ids[j])[2] == "地名":
                end = morphemes[j].end()
                j += 1
            kind = LOC
        elif surface in JA_ERAS:
            kind = ""
        else:
            kind = ORG
            if surface in {"FC", "JR", "AC", "SC", "CF"} and adjacent(j, end) and _pos(pos_ids[j])[1] == "固有名詞":
                end, j = morphemes[j].end(), j + 1  # FC + バルセロナ
        # A proper noun followed by an organisation or place word is that organisation or place
        # (パロアルト + 研究所, 横浜 + FC, 会津川口 + 駅).
        k = j
        while k < n and morphemes[k].begin() == morphemes[k - 1].end() and k - j < 3:  # noqa: PLR2004
            if _pos(pos_ids[k])[0] not in {"名詞", "接尾辞"}:
                break
            head = text[morphemes[k].begin() : morphemes[k].end()]
            k += 1
            if kind != PERSON and (head in JA_ORG_HEADS or head.endswith(JA_ORG_SUFFIXES)):
                end, kind, j = morphemes[k - 1].end(), ORG, k
            elif kind == LOC and head in JA_LOC_HEADS:
                end, j = morphemes[k - 1].end(), k
        if kind:
            yield Candidate(start, end, kind, "sudachi")
        i = j


# --- Korean with Kiwi (optional) ------------------------------------------------------------------------------------


@functools.cache
def _kiwi() -> Any:  # noqa: ANN401 - kiwipiepy ships no type information
    from kiwipiepy import Kiwi

    return Kiwi()


def kiwi_candidates_batch(texts: list[str]) -> list[list[Candidate]]:
    """Korean names from Kiwi NNP (proper noun) runs, typed by suffix, surname shape or title (one batched call)."""
    out: list[list[Candidate]] = []
    for text, tokens in zip(texts, _kiwi().tokenize(texts), strict=True):
        found: list[Candidate] = []
        i, n = 0, len(tokens)
        while i < n:
            t = tokens[i]
            if t.tag != "NNP":
                i += 1
                continue
            start, end = t.start, t.start + t.len
            j = i + 1
            while j < n and tokens[j].tag in {"NNP", "NNG", "SL"} and tokens[j].start == end:
                if tokens[j].tag == "NNG" and _ko_type(text[start : tokens[j].start + tokens[j].len]) is None:
                    break
                end = tokens[j].start + tokens[j].len
                j += 1
            surface = text[start:end]
            kind = _ko_type(surface)
            if kind is None and len(surface) == 3 and surface[0] in KOREAN_SURNAMES_KO and surface.isalpha():  # noqa: PLR2004
                kind = PERSON
            if kind is None and any("가" <= c <= "힣" for c in surface):
                kind = LOC if j < n and tokens[j].form in {"에서", "에", "으로", "로"} else ORG
            if kind:
                found.append(Candidate(start, end, kind, "kiwi"))
            i = j
        out.append(found)
    return out


_HANGUL = re.compile(r"[가-힣]")
_KANA = re.compile(r"[ぁ-ゖァ-ヺ]")


def rule_candidates(text: str, language: str, *, ja_backend: str = "rules") -> list[Candidate]:
    """Every pattern/model candidate of one text (registry matches are added by the caller)."""
    found: list[Candidate] = list(latin_candidates(text))
    if _HANGUL.search(text):
        found.extend(hangul_candidates(text))
    if language == "ja" or _KANA.search(text):
        found.extend(japanese_pattern_candidates(text))
        if ja_backend == "sudachi":
            found.extend(sudachi_candidates(text))
    return found


def resolve_overlaps(registry_hits: Iterable[Candidate], others: Iterable[Candidate]) -> list[Candidate]:
    """Non-overlapping mentions: registry names first, then the longest rule names.

    A rule name that strictly contains a registry name of another type (Gwangju in 'Gwangju Innopolis Center'), or
    that the registry knows as a whole, replaces it.
    """
    regs = sorted(registry_hits, key=lambda c: (c.start, -c.length))
    reg_starts = [g.start for g in regs]
    longest = max((g.length for g in regs), default=0)
    rules = sorted(others, key=lambda c: (-c.length, c.start, c.method != "pattern"))
    dropped: set[int] = set()
    chosen: list[Candidate] = []
    chosen_spans: list[tuple[int, int]] = []  # kept sorted by start
    for r in rules:
        lo = bisect.bisect_left(reg_starts, r.start - longest)
        hi = bisect.bisect_left(reg_starts, r.end)
        near = [k for k in range(lo, hi) if k not in dropped and regs[k].end > r.start]
        inside = [k for k in near if r.start <= regs[k].start and regs[k].end <= r.end]
        if len(inside) != len(near):
            continue  # crosses a registry name
        if inside:
            whole = any(regs[k].start == r.start and regs[k].end == r.end for k in inside)
            # The head of a name is its last part: when that is a registry name of the same type, keep it
            # ('Asian Silicon Valley'); a name the registry knows as a whole ('Gwangju Techo Park') or one of
            # another type ('Gwangju Innopolis Center' around Gwangju) wins.
            same_type = r.entity_id is None and any(regs[k].type == r.type and regs[k].end == r.end for k in inside)
            if whole or same_type or r.surname_only or (r.type == PERSON and r.entity_id is None):
                continue
        i = bisect.bisect_left(chosen_spans, (r.end, -1))
        if i and chosen_spans[i - 1][1] > r.start:
            continue
        dropped.update(inside)
        chosen.append(r)
        chosen_spans.insert(i, (r.start, r.end))
    chosen.extend(g for k, g in enumerate(regs) if k not in dropped)
    return sorted(chosen, key=lambda c: (c.start, c.end))
