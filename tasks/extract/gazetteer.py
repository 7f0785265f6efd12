"""Registry names found in text by one compiled trie regex, with per-script word boundaries."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tasks.extract.registry import Registry, load_registry
from tasks.extract.text import KO_PARTICLES, KO_TITLES, script_of

_KO_NEXT = "|".join(re.escape(t) for t in sorted({*KO_PARTICLES, *KO_TITLES}, key=len, reverse=True))
_KO_TITLE = "|".join(re.escape(t) for t in sorted(KO_TITLES, key=len, reverse=True))
_KO_PART = "|".join(re.escape(p) for p in KO_PARTICLES)
# What may follow a name, by the script of its last character. A Korean name may carry a particle or a title
# (광주시는, 광주시장이); a Latin name may not run on into a word or a hyphenated compound; a katakana name may not
# continue in katakana; a kanji name may not be the stem of an administrative or derived word (大田区, 日本語).
_KO_TAIL = re.compile(rf"(?:(?:{_KO_TITLE})?(?:{_KO_PART})?|(?:{_KO_NEXT}))(?![가-힣])")
# What may follow a name, by the script of its last character. A Korean name may carry a particle or a title
# (광주시는, 광주시장이); a Latin name may not run on into a word or a hyphenated compound; a katakana name may not
# continue in katakana; a kanji name may not be the stem of an administrative or derived word (大田区, 日本語).
# Checked in Python after a literal trie match: lookarounds inside the trie would stop the regex engine from
# skipping quickly to positions where a name can start.
_RIGHT_BAD = {
    "latin": re.compile(r"[A-Za-z0-9]|-[A-Za-z0-9]"),
    "kana": re.compile(r"[ァ-ヺー]"),
    "han": re.compile(r"[区市町村県都府道州郡語人製系式風産的]"),
}
_LEFT_BAD = {"hangul": re.compile(r"[가-힣]"), "latin": re.compile(r"[A-Za-z0-9]"), "kana": re.compile(r"[ァ-ヺー・]")}


def _script(ch: str) -> str:
    return script_of(ch) if ch.isalpha() else ("latin" if ch.isascii() and ch.isalnum() else "other")


def _boundaries_ok(text: str, start: int, end: int) -> bool:
    """True when text[start:end] is a whole name in its script (see the rules above)."""
    if start > 0:
        left = _LEFT_BAD.get(_script(text[start]))
        if left is not None and left.match(text, start - 1):
            return False
        if _script(text[start]) == "latin" and start > 1 and text[start - 1] == "-" and text[start - 2].isalnum():
            return False
    if end == len(text):
        return True
    script = _script(text[end - 1])
    if script == "hangul":
        return script_of(text[end]) != "hangul" or _KO_TAIL.match(text, end) is not None
    right = _RIGHT_BAD.get(script)
    return right is None or right.match(text, end) is None


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """A compiled matcher for registry aliases and the entity each alias names.

    The aliases' trie is split by first character into several patterns (see _GROUP): a trie whose root has ~400
    branches makes the regex engine step over every branch at each position where a name could start (~15 % of
    all positions), which cost more than the rest of the gazetteer. Their first characters differ, so at most one
    pattern matches at a position, and merging their leftmost matches gives the single trie's matches.
    """

    patterns: tuple[re.Pattern[str], ...]
    entity_of: dict[str, str]

    def find(self, text: str) -> Iterator[tuple[int, int, str]]:
        """(start, end, entity_id) of each registry name in `text`, longest match first, without overlaps."""
        for m in _leftmost(self.patterns, text):
            start, end = m.span()
            while end > start:
                entity = self.entity_of.get(text[start:end])
                if entity is not None and _boundaries_ok(text, start, end):
                    yield start, end, entity
                    break
                end -= 1


def _leftmost(patterns: Sequence[re.Pattern[str]], text: str) -> Iterator[re.Match[str]]:
    """The matches finditer of the alternation of `patterns` gives, when no two patterns match at one position."""
    ahead = [p.search(text) for p in patterns]
    while True:
        m = min((a for a in ahead if a is not None), key=lambda a: a.start(), default=None)
        if m is None:
            return
        yield m
        # Resume after the match, as finditer does; a pattern whose next match starts before that looks again.
        end = m.end()
        for i, a in enumerate(ahead):
            if a is not None and a.start() < end:
                ahead[i] = patterns[i].search(text, end)


# First characters per pattern: fewer make each pattern cheaper at a position and cost one more scan of the text.
_GROUP = 64


def _trie_pattern(words: Sequence[str]) -> str:
    """Regex matching any of `words`, longest first, as a literal trie so matching costs little per position."""
    trie: dict[str, dict[str, object]] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})  # type: ignore[assignment]
        node[""] = {}

    def render(node: dict[str, object]) -> str:
        branches = [re.escape(ch) + render(node[ch]) for ch in sorted(k for k in node if k)]  # type: ignore[arg-type]
        if not branches:
            return ""
        optional = "" in node
        if len(branches) == 1 and not optional:
            return branches[0]
        return "(?:" + "|".join(branches) + ")" + ("?" if optional else "")

    return render(trie)  # type: ignore[arg-type]


def build_gazetteer(registry: Registry, *, group: int = _GROUP) -> Gazetteer:
    """A Gazetteer over every alias of `registry` (aliases shorter than two characters are left out).

    `group` first characters share a pattern (one pattern for all of them finds the same names, more slowly).
    """
    entity_of = {alias: eid for alias, eid in registry.surface_forms() if len(alias) >= 2}  # noqa: PLR2004
    firsts = sorted({alias[0] for alias in entity_of})
    groups = [set(firsts[i : i + group]) for i in range(0, len(firsts), group)]
    patterns = tuple(re.compile(_trie_pattern(sorted(a for a in entity_of if a[0] in g))) for g in groups)
    return Gazetteer(patterns, entity_of)


@functools.cache
def default_gazetteer() -> Gazetteer:
    """The gazetteer of the packaged registry, compiled once per process."""
    return build_gazetteer(load_registry())
