"""Text hygiene: mojibake repair, NFC, whitespace, and the per-line features cleaning decides on."""

# ruff: noqa: RUF001, RUF003 - Korean and Japanese punctuation (，：（）) is what this module matches.

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ftfy

# UTF-8 bytes decoded as Latin-1/cp1252 leave a lead byte (Â..ô) followed by a continuation byte shown as a
# Latin-1 or cp1252 character; checking for that pair first keeps ftfy (about 1 ms per article) off clean text.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
    "|[\u0080-\u009f]"
)
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,7}|#[xX][0-9a-fA-F]{2,6});")
# Zero-width and format characters that only get in the way of matching (ZWJ is kept next to emoji, which it joins;
# between two letters it only splits a name: "KA\u200dIST").
_INVISIBLE = re.compile(
    "[\u200b\u200c\u200e\u200f\u2060\ufeff\u00ad\u202a-\u202e\u2066-\u2069]|(?<=[^\\W\\d_])\u200d(?=[^\\W\\d_])"
)
# Control characters: the separators among them read as spaces, the others are dropped so a name stays whole.
_CONTROL_SPACE = re.compile("[\u000b\u000c\u001c-\u001f]")
_CONTROL = re.compile("[\u0000-\u0008\u000e-\u001b\u007f]")
_SPACES = re.compile(r"[^\S\n]+")

HANGUL = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
KANA = re.compile("[\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
HAN = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")
LATIN = re.compile("[A-Za-z\u00c0-\u024f]")
CYRILLIC = re.compile("[\u0400-\u04ff]")

# Sentence-final punctuation, optionally followed by closing quotes or brackets.
_SENTENCE_END = re.compile(
    # A short bracketed credit may follow the last sentence: '... かもしれない。 (オフィスエムツー／佐枝せつこ)'.
    r"(?:[.!?。！？…‥][\"'”’」』)）\]】〕》〉]*|다)\s*(?:[(（][^()（）]{1,30}[)）]\s*)?$"
)
_BULLET = re.compile(r"^\s*(?:[•·∙●○◦◆◇■□▪▫▶▷►▸▲△▼▽‣⁃※☞✓✔➤→・･\-–—*+]|\d{1,2}[.)]\s)\s*")
_BULLET_STARTS = frozenset("•·∙●○◦◆◇■□▪▫▶▷►▸▲△▼▽‣⁃※☞✓✔➤→・･-–—*+")
# One CJK character carries about as much text as two or three Latin letters; weight them when comparing scripts.
CJK_WEIGHT = 2.5


@cache
def _ftfy_config() -> ftfy.TextFixerConfig:
    import ftfy

    # No NFKC, no width folding (it rewrites Japanese full-width punctuation), keep curly quotes and ligatures.
    return ftfy.TextFixerConfig(
        uncurl_quotes=False,
        fix_character_width=False,
        fix_latin_ligatures=False,
        normalization="NFC",
        unescape_html=False,
        explain=False,
    )


def fix_text(text: str) -> str:
    """Text with mojibake repaired, entities unescaped, NFC, invisible and control characters removed."""
    if _MOJIBAKE.search(text):
        import ftfy

        text = ftfy.fix_text(text, _ftfy_config())
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _INVISIBLE.sub("", text)
    text = _CONTROL_SPACE.sub(" ", _CONTROL.sub("", text))
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def fold_spaces(line: str) -> str:
    """`line` with runs of whitespace (NBSP, ideographic space, tabs) folded to one space and trimmed."""
    if "  " in line or "\t" in line or "\u3000" in line or "\xa0" in line or "\u2009" in line:
        return _SPACES.sub(" ", line).strip()
    return line.strip()


@dataclass(frozen=True, slots=True)
class Scripts:
    """Letter counts per script of a piece of text, and the script carrying most of it."""

    hangul: int
    kana: int
    han: int
    latin: int
    cyrillic: int
    other: int
    dominant: str  # hangul, cjk (kana/han), latin, cyrillic, other or none

    @property
    def letters(self) -> int:
        """All letters."""
        return self.hangul + self.kana + self.han + self.latin + self.cyrillic + self.other


_SCRIPT_NAMES = ("hangul", "cjk", "latin", "cyrillic", "other")


def _dominant(counts: tuple[int, ...]) -> str:
    hangul, kana, han, latin, cyrillic, other = counts
    weights = (hangul * CJK_WEIGHT, (kana + han) * CJK_WEIGHT, latin, cyrillic, other)
    best = max(weights)
    return _SCRIPT_NAMES[weights.index(best)] if best > 0 else "none"


def _script_class(code: int) -> str:
    ch = chr(code)
    for mark, pattern in (("h", HANGUL), ("k", KANA), ("c", HAN), ("l", LATIN), ("y", CYRILLIC)):
        if pattern.match(ch):
            return mark
    return "o" if ch.isalpha() else " "


@cache
def _script_table() -> list[str]:
    # One class letter per BMP code point: str.translate plus str.count is ~6x faster than a findall per script.
    return [_script_class(code) for code in range(0x10000)]


@lru_cache(maxsize=8192)
def scripts(text: str) -> Scripts:
    """Letter counts of `text` per script."""
    classes = text.translate(_script_table())
    h, k, c, latin, y, o = (classes.count(mark) for mark in "hkclyo")
    return Scripts(h, k, c, latin, y, o, dominant=_dominant((h, k, c, latin, y, o)))


# The script each language is written in, for the "language switch" signal.
LANGUAGE_SCRIPT = {"ko": "hangul", "ja": "cjk", "zh": "cjk", "ru": "cyrillic", "uk": "cyrillic"}


def language_script(language: str) -> str:
    """Script family of an ISO 639-1 language ('latin' unless known otherwise, 'none' for und)."""
    if language == "und":
        return "none"
    return LANGUAGE_SCRIPT.get(language, "latin" if language.isascii() else "other")


def ends_sentence(line: str) -> bool:
    """Whether `line` ends like a sentence (final punctuation, or a Korean declarative ending)."""
    # The pattern is anchored at the end: searching only the tail spares a scan of every position of the line.
    return bool(_SENTENCE_END.search(line[-48:]))


def strip_bullet(line: str) -> tuple[str, bool]:
    """`line` without a leading list bullet, and whether it had one."""
    if not line or (line[0] not in _BULLET_STARTS and not line[0].isspace() and not line[0].isdigit()):
        return line, False
    m = _BULLET.match(line)
    if not m or m.end() >= len(line):
        return line, False
    return line[m.end() :], True


def is_cjk_heavy(s: Scripts) -> bool:
    """Whether the text is mostly Hangul, kana or Han (lengths then count in characters, not words)."""
    return s.dominant in {"hangul", "cjk"}


def text_units(line: str, s: Scripts) -> int:
    """Length in comparable units: characters for CJK-heavy text, characters / 2 for alphabetic text."""
    return len(line) if is_cjk_heavy(s) else len(line) // 2


@lru_cache(maxsize=8192)
def norm_key(text: str) -> str:
    """Key for comparing lines: case-folded, whitespace and most punctuation removed."""
    return re.sub(r"[\W_]+", "", text.casefold())
