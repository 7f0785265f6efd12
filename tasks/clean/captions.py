"""Photo captions: recognised by their credit, separated from the body, each caption kept once."""

# ruff: noqa: RUF001, RUF003 - Korean and Japanese punctuation (，：（）) is what this module matches.

from __future__ import annotations

import re
from dataclasses import dataclass

from tasks.clean.text import norm_key

# A credit closing the line: '... ©AI타임스', '... ⓒ연합뉴스', '... (c) Reuters'.
_END_CREDIT = re.compile(r"\s*(?P<credit>(?:[©ⓒ]|\([cC]\))\s*[^©ⓒ\s][^©ⓒ]{0,30})\s*$")
_PHOTO_WORDS = (
    r"사진|사진제공|사진 제공|자료사진|그래픽|이미지|写真|画像|図|写真提供|提供|"
    r"Photo|Photos|Photo credit|Image|Picture|Credit|Courtesy(?: of)?|Illustration|Graphic"
)
# A bracketed credit at either end: '(사진=광주시 제공)', '[사진=연합뉴스]', '（写真：ロイター）', '(Photo: Reuters)'.
_BRACKET_CREDIT = re.compile(
    rf"[(\[（【〔]\s*(?P<credit>(?:{_PHOTO_WORDS})\s*(?:[:=：＝/]|by\b)?\s*[^)\]）】〕]{{0,40}})[)\]）】〕]",
    re.IGNORECASE,
)
# An unbracketed credit at the end: '... 사진=광주시', '... Photo: Reuters', '... / 사진제공=KAIST'.
_TRAILING_CREDIT = re.compile(
    rf"(?:^|\s|/)(?P<credit>(?:{_PHOTO_WORDS})\s*(?:[:=：＝]|by\b)\s*[^:=：＝]{{1,40}})$", re.IGNORECASE
)
MAX_CAPTION_CHARS = 300
CREDIT_EDGE = 20  # credits stand at the start or the end of a caption line
# Two caption lines this similar (character-trigram Jaccard) are one caption printed twice (alt text and
# figcaption, or a corrected second version).
SAME_CAPTION = 0.6


@dataclass(frozen=True, slots=True)
class Caption:
    """Caption text without its credit, and the credit."""

    text: str
    credit: str | None


_ANY_CREDIT = re.compile(rf"[©ⓒ]|\([cC]\)|{_PHOTO_WORDS}", re.IGNORECASE)
# Pieces every match of _ANY_CREDIT contains: as written (signs, Korean and Japanese words; Ⓒ is ⓒ in upper case),
# and lower-cased for the English words (letters whose only case partners are ASCII, so the test holds under
# re.IGNORECASE: no i, s, k). A line without them is no caption; finding them costs a fifth of the search below.
_CREDIT_PIECES = re.compile("©|ⓒ|Ⓒ|사진|그래픽|이미지|写真|画像|図|提供")
_CREDIT_PIECES_LOWER = re.compile(r"\(c\)|hoto|mage|ctur|cred|ourte|llu|raph")


def _may_credit(window: str) -> bool:
    """False when `window` certainly holds no match of _ANY_CREDIT."""
    return _CREDIT_PIECES.search(window) is not None or _CREDIT_PIECES_LOWER.search(window.lower()) is not None


def parse_caption(line: str) -> Caption | None:
    """The caption in `line` when the line carries a photo credit, else None."""
    from tasks.clean.metadata import is_copyright_line

    if len(line) > MAX_CAPTION_CHARS:
        return None
    window = line[:CREDIT_EDGE] + " " + line[-CREDIT_EDGE * 3 :]
    if not _may_credit(window) or not _ANY_CREDIT.search(window):
        return None
    if is_copyright_line(line):
        return None
    # Credits at the end are at most ~50 characters long: search only the line's tail (the patterns end in $).
    offset = max(0, len(line) - 3 * CREDIT_EDGE)
    for pattern in (_END_CREDIT, _TRAILING_CREDIT):
        m = pattern.search(line, offset)
        if m and m.start() > 0:
            text = line[: m.start()].strip(" /-–—|")
            return Caption(text, m["credit"].strip()) if text else None
    m = _BRACKET_CREDIT.search(line)
    if m and (m.end() >= len(line.rstrip(" .")) or m.start() == 0 or line[: m.start()].strip() in {"▲", "△", "▶"}):
        text = (line[: m.start()] + " " + line[m.end() :]).strip(" /-–—|▲△▶")
        return Caption(text, m["credit"].strip()) if text else None
    return None


def _trigrams(text: str) -> set[str]:
    key = norm_key(text)
    return {key[i : i + 3] for i in range(max(1, len(key) - 2))}


def similar(a: str, b: str) -> bool:
    """Whether two captions are the same caption (equal after folding, or nearly equal)."""
    if norm_key(a) == norm_key(b):
        return True
    ta, tb = _trigrams(a), _trigrams(b)
    return len(ta & tb) / max(1, len(ta | tb)) >= SAME_CAPTION


def collapse(captions: list[Caption]) -> list[Caption]:
    """Captions with repeats removed: a caption similar to an earlier one is kept once (the longer wording)."""
    kept: list[Caption] = []
    for cap in captions:
        for i, other in enumerate(kept):
            if similar(cap.text, other.text):
                if len(cap.text) > len(other.text):
                    kept[i] = Caption(cap.text, cap.credit or other.credit)
                break
        else:
            kept.append(cap)
    return kept
