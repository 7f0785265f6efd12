# ruff: noqa: RUF001, RUF003 - Korean and Japanese punctuation (’, 「」, ・) is what this module matches.
"""Agreements (MOUs, agreements, investments) per sentence, with every party linked and the date when stated."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tasks.extract.dates import Mention as DateMention
from tasks.extract.linking import Linked
from tasks.extract.mentions import LOC, ORG, PERSON
from tasks.extract.registry import Registry
from tasks.extract.text import sentences

_TRIGGER = re.compile(
    r"\b(?:MOUs?|MoUs?|[Mm]emorand(?:um|a) of [Uu]nderstanding|[Aa]greements?|[Pp]acts?|[Tt]reat(?:y|ies))\b"
    r"|\b(?:signed|reached|made|struck|inked|sealed|concluded|entered into)\b[^.]{0,40}\b(?:deal|partnership)s?\b"
    r"|업무\s?협약|투자\s?협약|협약|양해각서|협정|MOU|業務協約|協約|覚書|提携|協定"
)
# A piece of every trigger above: a text with none of them reports no agreement (most texts), and needs no scan.
_TRIGGER_HINTS = (
    "MOU", "MoU", "emorand", "greement", "Pact", "pact", "reaty", "reaties", "deal", "partnership",
    "협약", "양해각서", "협정", "協約", "覚書", "提携", "協定",
)  # fmt: skip
_MOU = re.compile(r"MOU|MoU|[Mm]emorand|업무\s?협약|양해각서|業務協約|覚書")
_INVEST = re.compile(r"[Ii]nvest|투자|投資")
# The sentence's subject is the city the article is about, written as an anaphor.
_ANAPHOR = re.compile(
    r"(?<!in )(?<!of )(?<!for )(?<!to )(?<!across )(?<!around )"
    r"\b(?:[Tt]he (?:city|municipal(?:ity| government)|provinc(?:e|ial government)|mayor)|[Cc]ity (?:of|signs))\b"
    r"|(?<![가-힣])(?:시|도|시장)(?:는|가|와|도|측)(?![가-힣])|同市|本市|市は|市が|市長|(?<![가-힣])시는"
)
_SAME_DAY = re.compile(r"\b(?:[Oo]n )?(?:this|that|the same) day\b|이날|당일|같은 날|同日|当日|この日")
# A name right after 'at'/'in' (or before 에서/で) is where the signing happened, not a party.
_VENUE_BEFORE = re.compile(
    r"(?:\b(?:at|in|from|near|into|across|throughout|within)\s+(?:the\s+)?(?:[\w-]+\s+){0,3}(?:of\s+)?)$"
)
_VENUE_AFTER = re.compile(r"^[’'”」』)\]]?\s*(?:에서|에서의|에(?![가-힣])|으로|로(?![가-힣])|で|にて|に(?!よ)|へ|から)")
_QUOTED = re.compile(r"“[^“”]*”|\"[^\"\n]*\"|「[^「」]*」|『[^『』]*』|‘[^‘’]*’")
PARTY_LOC_KINDS = frozenset({"city", "province", "country", "district"})


@dataclass(frozen=True, slots=True)
class Agreement:
    """One agreement event as reported in one sentence."""

    kind: str
    party_entity_ids: list[str | None]
    party_names: list[str]
    year: int | None
    month: int | None
    day: int | None
    start: int
    end: int


def _main_actor(linked: Sequence[Linked], registry: Registry) -> Linked | None:
    """The place the article is about: its most often named city or province (first named on a tie)."""
    places = [m for m in linked if m.type == LOC and _party_kind_ok(m, registry)]
    if not places:
        return None
    counts = Counter(m.entity_id for m in places)
    top = max(counts.values())
    return next(m for m in places if counts[m.entity_id] == top)


def _party_kind_ok(m: Linked, registry: Registry) -> bool:
    if m.type == ORG:
        return True
    if m.type != LOC:
        return False
    entity = registry.entities.get(m.entity_id or "")
    return entity is None or entity.kind in PARTY_LOC_KINDS


def _add(parties: list[tuple[str | None, str]], entity_id: str | None, name: str) -> None:
    """Append a party unless the same entity (or, unlinked, the same name) is already there."""
    if all(entity_id != p[0] or (entity_id is None and name != p[1]) for p in parties):
        parties.append((entity_id, name))


def _parties(
    text: str, s: int, e: int, *, linked: Sequence[Linked], registry: Registry, written: dict[str | None, str]
) -> list[tuple[str | None, str]]:
    """Parties named in the sentence [s, e): organisations and places that are not venues or inside quotes."""
    parties: list[tuple[str | None, str]] = []
    quoted = [q.span() for q in _QUOTED.finditer(text, s, e)]
    for m in linked:
        c = m.candidate
        if c.start < s or c.end > e:
            continue
        if m.type == PERSON:
            entity = registry.entities.get(m.entity_id or "")
            # An official stands for the body they lead when the article names it ('イ市長' signs for 光州).
            if entity is not None and entity.of in written and "mayor" in entity.roles:
                _add(parties, entity.of, written[entity.of])
            continue
        if not _party_kind_ok(m, registry) or any(a <= c.start and c.end <= b for a, b in quoted):
            continue
        if _VENUE_BEFORE.search(text[max(s, c.start - 40) : c.start]) or _VENUE_AFTER.match(text[c.end : c.end + 6]):
            continue
        _add(parties, m.entity_id, text[c.start : c.end])
    return parties


def find_agreements(
    text: str, linked: Sequence[Linked], dates: Sequence[DateMention], registry: Registry
) -> list[Agreement]:
    """Agreements reported in `text`: one per sentence with a trigger word and at least two parties."""
    if not any(hint in text for hint in _TRIGGER_HINTS) or _TRIGGER.search(text) is None:
        return []
    actor = _main_actor(linked, registry)
    written: dict[str | None, str] = {}
    for m in linked:
        written.setdefault(m.entity_id, text[m.candidate.start : m.candidate.end])
    found: list[Agreement] = []
    for s, e in sentences(text):
        sentence = text[s:e]
        if _TRIGGER.search(sentence) is None:
            continue
        parties = _parties(text, s, e, linked=linked, registry=registry, written=written)
        if actor is not None and (len(parties) == 1 or _ANAPHOR.search(sentence)):
            _add(parties, actor.entity_id, text[actor.candidate.start : actor.candidate.end])
        if len(parties) < 2:  # noqa: PLR2004 - an agreement needs two sides
            continue
        when = _date_for(s, e, dates)
        if when is None and _SAME_DAY.search(sentence):
            earlier = [d for d in dates if d.end <= s and d.day is not None]
            when = earlier[-1] if earlier else None
        kind = "mou" if _MOU.search(sentence) else "investment" if _INVEST.search(sentence) else "agreement"
        found.append(
            Agreement(
                kind,
                [p[0] for p in parties],
                [p[1] for p in parties],
                when.year if when else None,
                when.month if when else None,
                when.day if when else None,
                s,
                e,
            )
        )
    return _without_repeats(found)


def _date_for(s: int, e: int, dates: Sequence[DateMention]) -> DateMention | None:
    inside = [d for d in dates if s <= d.start and d.end <= e and (d.month is not None or d.year is not None)]
    return max(inside, key=lambda d: (d.day is not None, d.month is not None)) if inside else None


def _without_repeats(found: list[Agreement]) -> list[Agreement]:
    """Drop undated re-mentions of an agreement whose parties another (dated or earlier) report already covers."""
    kept: list[Agreement] = []
    for i, a in enumerate(found):
        mine = set(a.party_entity_ids)
        dated = a.year is not None or a.month is not None
        covered = any(
            j != i and mine <= set(b.party_entity_ids) and (b.year is not None or b.month is not None or j < i)
            for j, b in enumerate(found)
        )
        if covered and not dated:
            continue
        kept.append(a)
    return kept
