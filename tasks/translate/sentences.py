"""Sentence splitting for English, Korean and Japanese that keeps every character, so chunks join back exactly."""

# Full-width and typographic punctuation is what this module is about, not a look-alike typo.
# ruff: noqa: RUF001

from __future__ import annotations

import itertools
import re

# Sentence ends: western punctuation needs whitespace after it (so 3.5, U.S.A and URLs stay whole); full-width
# Japanese/Chinese marks end a sentence even when the next one follows without a space; Korean endings
# (다. 요. 죠. 까? 니다. ...) also end one when scraped text runs the next Hangul sentence on without a space.
_END = re.compile(
    r"[.!?…]+[\"'”’)\]」』]*(?=\s)"
    r"|[。！？]+[」』”’）)\]]*"
    r"|(?<=[다요죠까네니])[.?!]+(?=[가-힣\"'“‘])"
)
_LINE_BREAK = re.compile(r"[^\S\n]*\n\s*")
_TRAILING_WORD = re.compile(r"([A-Za-z]+)$")
# A full stop after these is not a sentence end ("Mr. Lee", "No. 3", "Gov. Kim"); single capitals are initials.
_ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "no", "vs", "etc", "inc", "co", "corp", "ltd"),
        *("gov", "gen", "rep", "sen", "dept", "univ", "approx", "fig", "e.g", "i.e"),
        *("jan", "feb", "mar", "apr", "aug", "sep", "sept", "oct", "nov", "dec"),
    }
)
# Where an over-long sentence may be cut when it has no sentence end inside: after a space or a comma.
_SOFT_BREAK = re.compile(r"[\s、，,;；:：]")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, each with the whitespace after it; `"".join(...)` gives `text` back exactly."""
    cuts: set[int] = set()
    for m in _END.finditer(text):
        if m.group(0).startswith(".") and _is_abbreviation(text, m.start()):
            continue
        end = m.end()
        while end < len(text) and text[end].isspace():
            end += 1
        cuts.add(end)
    cuts.update(m.end() for m in _LINE_BREAK.finditer(text))
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(text)), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def _is_abbreviation(text: str, dot: int) -> bool:
    # A short look-back window: searching from 0 would make splitting quadratic in the text length.
    word = _TRAILING_WORD.search(text, max(0, dot - 16), dot)
    if word is None:
        return False
    token = word.group(1)
    return (len(token) == 1 and token.isupper()) or token.lower() in _ABBREVIATIONS


def chunk_text(text: str, max_chars: int) -> list[str]:
    """`text` in chunks of whole sentences of at most `max_chars` characters; `"".join(...)` gives `text` back.

    A chunk never spans a line break, so paragraph layout survives translation; a sentence longer than
    `max_chars` is cut after a space or comma, or hard at `max_chars` as a last resort (never dropped).
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    chunks: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        for part in _cut_long(sentence, max_chars):
            if current and (len(current) + len(part) > max_chars or "\n" in current):
                chunks.append(current)
                current = ""
            current += part
    if current:
        chunks.append(current)
    return chunks


def _cut_long(sentence: str, max_chars: int) -> list[str]:
    parts: list[str] = []
    start = 0
    while len(sentence) - start > max_chars:
        soft = [m.end() for m in _SOFT_BREAK.finditer(sentence, start + max_chars // 2, start + max_chars)]
        cut = soft[-1] if soft else start + max_chars
        parts.append(sentence[start:cut])
        start = cut
    if start < len(sentence):
        parts.append(sentence[start:])
    return parts


def core(chunk: str) -> tuple[str, str, str]:
    """Leading whitespace, text to translate, trailing whitespace of a chunk."""
    stripped = chunk.strip()
    if not stripped:
        return chunk, "", ""
    start = chunk.index(stripped[0])
    end = start + len(stripped)
    return chunk[:start], stripped, chunk[end:]
