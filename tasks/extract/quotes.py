"""Quoted statements and their speakers (the person named next to the quote, or the previous speaker for 'he added')."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tasks.extract.linking import Linked
from tasks.extract.mentions import PERSON

_QUOTE = re.compile(
    r"“(?P<a>[^“”]+)”|\"(?P<b>[^\"\n]+)\"|「(?P<c>[^「」]+(?:「[^「」]*」[^「」]*)*)」|『(?P<d>[^『』]+)』"
)
_SPEECH_BEFORE = re.compile(
    r"\b(?:said|says|added|adds|commented|stated|announced|announcement|noted|explained|emphasized|emphasised|"
    r"stressed|told|asked|remarked|declared|proclaimed|continued|expressed|according to|insisted|replied|wrote)\b",
    re.IGNORECASE,
)
_SPEECH_AFTER = re.compile(
    r"^[,.]?\s*(?:(?:he|she|they|it)\s+)?(?:said|says|added|commented|stated|announced|noted|explained|emphasized|"
    r"stressed|told|remarked|declared|wrote)\b"
    r"|^\s*(?:라고|이라고|고\s|라며|이라며|며\s|하고|는\s?말|라는)"
    r"|^\s*(?:と|って)(?:述べ|延べ|語|話|強調|明らか|説明|伝え|し|意向|発表|指摘|訴え|コメント)",
    re.IGNORECASE,
)
_PRONOUN_SPEAKER = re.compile(
    r"\b(?:he|she)\s+(?:added|continued|said|stressed|emphasized)\b|덧붙였|이어|続けて", re.IGNORECASE
)
MIN_CHARS = {"latin": 20, "cjk": 10}


@dataclass(frozen=True, slots=True)
class Quote:
    """A quoted statement: the words (without quote marks) and the speaker when named."""

    start: int
    end: int
    speaker_entity_id: str | None
    speaker_name: str | None


def _long_enough(words: str) -> bool:
    if words.isascii():
        return len(words) >= MIN_CHARS["latin"] and words.count(" ") >= 3  # noqa: PLR2004
    return len(words) >= MIN_CHARS["cjk"]


def find_quotes(text: str, linked: Sequence[Linked]) -> list[Quote]:
    """Quotes introduced or followed by a speech verb, with the nearest person named in the same sentence."""
    persons = [m for m in linked if m.type == PERSON]
    found: list[Quote] = []
    last_speaker: tuple[str | None, str | None, int] | None = None
    for m in _QUOTE.finditer(text):
        group = next(g for g in ("a", "b", "c", "d") if m.group(g) is not None)
        start, end = m.span(group)
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        words = text[start:end]
        if not _long_enough(words):
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        before = text[max(line_start, m.start() - 200) : m.start()]
        after = text[m.end() : min(line_end, m.end() + 60)]
        if not (_SPEECH_BEFORE.search(before) or _SPEECH_AFTER.search(after)):
            continue
        speaker = _nearest(persons, m.start(), m.end(), max(line_start, m.start() - 200), min(line_end, m.end() + 80))
        sid: str | None
        sname: str | None
        if speaker is not None:
            sid, sname = speaker.entity_id, text[speaker.candidate.start : speaker.candidate.end]
        elif last_speaker is not None and _PRONOUN_SPEAKER.search(before[-40:] + after[:40]):
            sid, sname = last_speaker[0], last_speaker[1]
        else:
            sid, sname = None, None
        if sname is not None:
            last_speaker = (sid, sname, m.end())
        found.append(Quote(start, end, sid, sname))
    return found


def _nearest(persons: Sequence[Linked], q_start: int, q_end: int, lo: int, hi: int) -> Linked | None:
    """The person mention closest to the quote within [lo, hi), not inside the quote itself."""
    best: tuple[int, Linked] | None = None
    for p in persons:
        c = p.candidate
        if c.end <= q_start and c.start >= lo:
            distance = q_start - c.end
        elif c.start >= q_end and c.end <= hi:
            distance = c.start - q_end + 20  # the speaker is more often named before the quote
        else:
            continue
        if best is None or distance < best[0]:
            best = (distance, p)
    return best[1] if best else None
