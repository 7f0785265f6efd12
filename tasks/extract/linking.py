# ruff: noqa: RUF001, RUF003 - Korean and Japanese punctuation (’, 「」, ・) is what this module matches.
"""Entity linking: registry names, then persons by surname within an article, then discovered entities.

Registry look-up tries name variants, romanisation variants and near spellings; a bare surname with a title
(Mayor Lee, イ市長, 이 시장) resolves to the person of that surname named in the article; everything else becomes a
discovered entity keyed by its normalised name.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from tasks.extract.mentions import LOC, PERSON, Candidate
from tasks.extract.registry import Registry, RegistryEntity
from tasks.extract.text import TITLE_ROLES, name_key, script_of, strip_corporate

NEW_PREFIX = "new:"
# Ways a place or organisation is written around its registry name ('City of Gwangju', 'Gwangju city', 'the KAIST').
_VARIANT_RULES = (
    re.compile(r"^(?:the|The)\s+"),
    re.compile(r"^(?:City|Province|County|Republic|State)\s+of\s+"),
    re.compile(r"\s+(?:[Cc]ity|[Pp]rovince|Metropolitan City|Metropolitan Government|[Gg]overnment)$"),
    re.compile(r"(?:’s|'s)$"),
)


@dataclass(frozen=True, slots=True)
class Linked:
    """A mention with the entity it refers to (None when it stays unlinked)."""

    candidate: Candidate
    entity_id: str | None
    type: str


def discovered_id(entity_type: str, name: str) -> str:
    """Stable id of an entity outside the registry, from its type and normalised name."""
    from tasks.ids import sha256_hex

    bare = re.sub(r"^(?:the|The)\s+", "", name)
    return NEW_PREFIX + sha256_hex(f"{entity_type}|{name_key(strip_corporate(bare))}")[:16]


def _variants(name: str) -> list[str]:
    out = [name]
    for rule in _VARIANT_RULES:
        stripped = rule.sub("", out[-1]).strip()
        if stripped and stripped != out[-1]:
            out.append(stripped)
    return out


def _levenshtein_at_most(a: str, b: str, limit: int) -> bool:
    """True when the edit distance of a and b is at most `limit` (banded, stops early)."""
    if abs(len(a) - len(b)) > limit:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        low = i
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            low = min(low, cur[j])
        if low > limit:
            return False
        prev = cur
    return prev[-1] <= limit


@functools.cache
def _fuzzy_index(registry: Registry) -> dict[str, list[tuple[str, str]]]:
    """Latin alias keys of at least 10 characters by first character, for near-spelling look-ups."""
    index: dict[str, list[tuple[str, str]]] = {}
    for alias, eid in registry.surface_forms():
        key = name_key(alias)
        if len(key) >= 10 and key.isascii():  # noqa: PLR2004 - short names are too easily confused
            index.setdefault(key[0], []).append((key, eid))
    return index


@functools.lru_cache(maxsize=65536)
def registry_match(registry: Registry, surface: str, entity_type: str) -> RegistryEntity | None:
    """The registry entity a name refers to: exact variants, romanised person names, then near spellings."""
    for variant in _variants(surface):
        hit = registry.lookup(variant)
        if hit is not None:
            return hit
    if entity_type == PERSON and surface.isascii():
        hit = registry.lookup_person(surface)
        if hit is not None:
            return hit
    key = name_key(surface)
    if len(key) >= 12 and key.isascii():  # noqa: PLR2004
        limit = 1 + len(key) // 20
        for alias_key, eid in _fuzzy_index(registry).get(key[0], ()):
            if abs(len(alias_key) - len(key)) <= limit and _levenshtein_at_most(key, alias_key, limit):
                return registry.entities[eid]
    return None


def _surnames_of(entity: RegistryEntity | None, surface: str) -> set[str]:
    """Family names a person may be called by alone: registry surnames or the first part of the written name."""
    names: set[str] = set()
    if entity is not None:
        names.update(entity.surnames.values())
    if "・" in surface:
        names.add(surface.split("・", maxsplit=1)[0])
    elif " " in surface and surface.isascii():
        # Korean order (Lee Yong-seop) puts the family name first, Western order (Jared Leto) last.
        first, last = surface.split(maxsplit=1)[0], surface.rsplit(maxsplit=1)[-1]
        names.add(first if "-" in surface.split()[1] or entity is not None else last)
    elif len(surface) == 3 and all(script_of(c) == "hangul" for c in surface):  # noqa: PLR2004
        names.add(surface[0])
    return names


def _role_of(title: str | None) -> str | None:
    if not title:
        return None
    for role, titles in TITLE_ROLES.items():
        if any(title.endswith(t) for t in titles):
            return role
    return None


def link_article(
    text: str, candidates: Iterable[Candidate], registry: Registry, *, year: int | None = None
) -> list[Linked]:
    """Link one article's mentions; unresolved bare surnames are dropped, other unknown names become new entities."""
    cands = list(candidates)
    linked: list[Linked] = []
    persons: dict[str, set[str]] = {}
    in_article: set[str] = set()
    for c in cands:
        if c.surname_only:
            continue
        surface = text[c.start : c.end]
        entity = registry.entities.get(c.entity_id) if c.entity_id else registry_match(registry, surface, c.type)
        if entity is not None:
            eid, etype = entity.entity_id, entity.type
        else:
            eid, etype = discovered_id(c.type, surface), c.type
        linked.append(Linked(c, eid, etype))
        in_article.add(eid)
        if etype == PERSON:
            for s in _surnames_of(entity, surface):
                persons.setdefault(s, set()).add(eid)
    for c in cands:
        if not c.surname_only:
            continue
        surname = text[c.start : c.end]
        resolved = _resolve_surname(
            surname, title=c.title, persons=persons, in_article=in_article, registry=registry, year=year
        )
        if resolved is not None:
            linked.append(Linked(c, resolved, PERSON))
    linked.extend(_bare_surnames(text, linked, persons))
    return sorted(linked, key=lambda m: (m.candidate.start, m.candidate.end))


def _resolve_surname(
    surname: str,
    *,
    title: str | None,
    persons: dict[str, set[str]],
    in_article: set[str],
    registry: Registry,
    year: int | None,
) -> str | None:
    known = persons.get(surname, set())
    if len(known) == 1:
        return next(iter(known))
    role = _role_of(title)
    if role is None:
        return None
    fits = [
        e.entity_id
        for e in registry.entities.values()
        if e.type == PERSON
        and role in e.roles
        and surname in e.surnames.values()
        and (e.of in in_article)
        and e.serves(year)
        and (not known or e.entity_id in known)
    ]
    return fits[0] if len(fits) == 1 else None


def _bare_surnames(text: str, linked: list[Linked], persons: dict[str, set[str]]) -> list[Linked]:
    """English bare surnames ('Lee continued') of a person already named in the article, when unambiguous."""
    latin = {s: ids for s, ids in persons.items() if len(ids) == 1 and s.isascii() and s[:1].isupper()}
    if not latin:
        return []
    covered = sorted((m.candidate.start, m.candidate.end) for m in linked)
    starts = [s for s, _ in covered]
    out: list[Linked] = []
    pattern = re.compile(r"\b(" + "|".join(re.escape(s) for s in latin) + r")\b(?![-'’]?[A-Z])(?!\s+[A-Z][a-z])")
    for m in pattern.finditer(text):
        i = bisect.bisect_left(starts, m.end())
        if i and covered[i - 1][1] > m.start():
            continue
        eid = next(iter(latin[m.group(1)]))
        out.append(Linked(Candidate(m.start(), m.end(), PERSON, "coref", surname_only=True), eid, PERSON))
    return out


def retype(linked: Linked, entity_type: str) -> Linked:
    """`linked` with another type (used when the registry knows better)."""
    return replace(linked, type=entity_type)


__all__ = ["LOC", "Linked", "discovered_id", "link_article", "registry_match"]
