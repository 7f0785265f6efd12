"""Page furniture: line-level signals that tell widgets, lists and notices from article text."""

# ruff: noqa: RUF001, RUF003 - Korean and Japanese punctuation (，：（）) is what this module matches.

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from tasks.clean.text import norm_key
from tasks.safe_yaml import load_yaml

WIDGET_PHRASES_FILE = Path(__file__).parent / "data" / "widget_phrases.yaml"
# Decoration a widget line may start with before its phrase: bullets, brackets, arrows.
_LEAD = re.compile(r"^[\s•·∙●○◦◆◇■□▪▫▶▷►▸▲△▼▽‣⁃※☞✓✔➤→・･\-–—*+\[\]【】〔〕<>《》「」『』()（）|/]+")
# Counters and their labels: '댓글 0', '조회수 1,234', 'Comments (3)', 'コメント 0'.
_COUNTER = re.compile(
    r"^(?:댓글|조회수|조회|추천|공감|좋아요|스크랩|comments?|views?|likes?|shares?|reads?|コメント|いいね|閲覧数?|"
    r"シェア)\s*[:：]?\s*[(\[]?\s*\d[\d,]*\s*[)\]]?(?:\s*(?:개|건|회|件|回))?$",
    re.IGNORECASE,
)
_LINK_ONLY = re.compile(r"^(?:https?://|www\.)\S+$|^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$", re.IGNORECASE)
_BREADCRUMB = re.compile(r"^[^>›»]{1,30}(?:\s*[>›»]\s*[^>›»]{1,30}){2,}$|^[^>›»]{1,20}\s[>›»]\s[^>›»]{1,30}$")
# Repeated lines longer than this are text two articles share (quotes, versions of one story), not furniture.
REPEATED_MAX_CHARS = 80
MAX_TRAIL_CHARS = 120


@cache
def widget_phrases() -> dict[str, tuple[str, ...]]:
    """Known widget phrases per language, from tasks/clean/data/widget_phrases.yaml."""
    data = load_yaml(WIDGET_PHRASES_FILE) or {}
    return {lang: tuple(str(p) for p in phrases or []) for lang, phrases in data.items()}


@cache
def _widget_pattern() -> re.Pattern[str]:
    phrases = sorted({p.casefold() for ps in widget_phrases().values() for p in ps}, key=len, reverse=True)
    return re.compile("^(?:" + "|".join(re.escape(p) for p in phrases) + ")", re.IGNORECASE)


def is_widget(line: str) -> bool:
    """Whether the line is a known widget phrase (share, comment, print, related list header, notice)."""
    if _widget_pattern().match(line):
        return True
    bare = _LEAD.sub("", line)
    return bool(bare) and bool(_widget_pattern().match(bare) or _COUNTER.match(bare))


def is_link_only(line: str) -> bool:
    """Whether the line is only a URL or an e-mail address."""
    return bool(_LINK_ONLY.match(line.strip("<>()[] ")))


def is_breadcrumb(line: str) -> bool:
    """Whether the line is a navigation trail ('뉴스 > 경제 > IT')."""
    return len(line) <= MAX_TRAIL_CHARS and bool(_BREADCRUMB.match(line))


def line_keys(text: str) -> set[str]:
    """Keys of the short lines of a document, for counting lines repeated across documents."""
    keys = set()
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped and len(stripped) <= REPEATED_MAX_CHARS:
            key = norm_key(stripped)
            if key:
                keys.add(key)
    return keys


def repeated_lines(texts: Sequence[str], groups: Sequence[str]) -> list[frozenset[str]]:
    """Per document, the keys of its short lines that other documents of the same group (source) also print."""
    keys = [line_keys(t) for t in texts]
    counts: Counter[tuple[str, str]] = Counter()
    # Identical documents in one batch would otherwise mark each other's whole text as furniture.
    seen_texts: set[tuple[str, str]] = set()
    for group, text, ks in zip(groups, texts, keys, strict=True):
        if (group, text) in seen_texts:
            continue
        seen_texts.add((group, text))
        counts.update((group, k) for k in ks)
    return [frozenset(k for k in ks if counts[(g, k)] >= 2) for g, ks in zip(groups, keys, strict=True)]  # noqa: PLR2004
