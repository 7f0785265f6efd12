"""Text hygiene: mojibake repair, NFC, whitespace, and the per-line features cleaning decides on."""

# ruff: noqa: RUF001, RUF003 - Korean and Japanese punctuation (，：（）) is what this module matches.

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ftfy

# UTF-8 bytes decoded as Latin-1/cp1252 leave a lead byte (Â..ô) followed by a continuation byte shown as a
# Latin-1 or cp1252 character; checking for that pair first keeps ftfy (about 1 ms per article) off clean text.
# Written as one character class first (a C1 control, or a lead byte that needs a continuation after it) so the regex
# engine skips to those characters instead of trying the pattern at every position.
_MOJIBAKE = re.compile(
    "[\u0080-\u009f\u00c2-\u00f4](?:(?<=[\u0080-\u009f])|"
    "[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122])"
)
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,7}|#[xX][0-9a-fA-F]{2,6});")
# Zero-width and format characters that only get in the way of matching (ZWJ is kept next to emoji, which it joins;
# between two letters it only splits a name: "KA\u200dIST"). One character class first, as _MOJIBAKE; a ZWJ then
# needs a letter on both sides.
_INVISIBLE = re.compile(
    "[\u200b-\u200f\u2060\ufeff\u00ad\u202a-\u202e\u2066-\u2069](?:(?<!\u200d)|(?<=[^\\W\\d_]\u200d)(?=[^\\W\\d_]))"
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
    ascii_only = text.isascii()  # then there is no mojibake, invisible or non-NFC character to look for
    if not ascii_only and _MOJIBAKE.search(text):
        import ftfy

        text = ftfy.fix_text(text, _ftfy_config())
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
        ascii_only = text.isascii()  # entities may stand for any character
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    if not ascii_only:
        text = _INVISIBLE.sub("", text)
    text = _CONTROL_SPACE.sub(" ", _CONTROL.sub("", text))
    if not ascii_only and not unicodedata.is_normalized("NFC", text):
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


@cache
def _script_table() -> list[str]:
    # One class letter per BMP code point: str.translate plus str.count is ~6x faster than a findall per script.
    # Built by marking each script's characters over the letters, lowest priority first (a character in two
    # script classes takes the earlier one of h, k, c, l, y): ~0.02 s once, against ~0.15 s character by character.
    table = ["o" if chr(code).isalpha() else " " for code in range(0x10000)]
    bmp = "".join(map(chr, range(0x10000)))
    for mark, pattern in (("y", CYRILLIC), ("l", LATIN), ("c", HAN), ("k", KANA), ("h", HANGUL)):
        for m in pattern.finditer(bmp):
            table[m.start()] = mark
    return table


@lru_cache(maxsize=8192)
def scripts(text: str) -> Scripts:
    """Letter counts of `text` per script."""
    classes = text.translate(_script_table())
    h, k, c, latin = classes.count("h"), classes.count("k"), classes.count("c"), classes.count("l")
    y, o = classes.count("y"), classes.count("o")
    return Scripts(h, k, c, latin, y, o, dominant=_dominant((h, k, c, latin, y, o)))


def joined_scripts(parts: Sequence[tuple[str, Scripts]], limit: int) -> Scripts:
    """Scripts of the texts joined by line breaks and cut at `limit`, from the parts' (text, scripts(text)).

    Counts add up over a join (a line break is no letter): only a part the limit cuts is counted again, instead of
    the whole joined text.
    """
    totals = [0] * 6
    pos = 0
    for i, (text, s) in enumerate(parts):
        pos += i > 0  # the line break before every part but the first
        if pos >= limit:
            break
        if pos + len(text) > limit:
            s = scripts(text[: limit - pos])  # noqa: PLW2901 - the part as far as the limit
        for j, n in enumerate((s.hangul, s.kana, s.han, s.latin, s.cyrillic, s.other)):
            totals[j] += n
        pos += len(text)
    h, k, c, latin, y, o = totals
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


_WORD_RUN = re.compile(r"[^\W_]+")


def word_characters(text: str) -> str:
    """`text` case-folded, with only its letters and digits (whitespace, punctuation and underscores removed)."""
    return "".join(_WORD_RUN.findall(text.casefold()))  # the same as re.sub(r"[\W_]+", ""), twice as fast


@lru_cache(maxsize=8192)
def norm_key(text: str) -> str:
    """Key for comparing lines: case-folded, whitespace and most punctuation removed."""
    return word_characters(text)
