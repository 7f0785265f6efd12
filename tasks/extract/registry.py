"""The curated entity registry (data/registry.yaml): canonical entities with aliases per language, and their lookups."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.extract.text import alias_language, name_key, roman_key, strip_corporate
from tasks.safe_yaml import load_yaml

REGISTRY_FILE = Path(__file__).parent / "data" / "registry.yaml"
TYPES = ("PERSON", "ORG", "LOC")
LANGUAGES = ("en", "ko", "ja")


@dataclass(frozen=True, slots=True)
class RegistryEntity:
    """One canonical real-world thing."""

    entity_id: str
    type: str
    kind: str
    name: str
    aliases: dict[str, tuple[str, ...]]
    qid: str | None = None
    surnames: dict[str, str] = field(default_factory=dict)
    roles: tuple[str, ...] = ()
    of: str | None = None
    term: tuple[int | None, int | None] = (None, None)

    @property
    def all_names(self) -> tuple[str, ...]:
        """Canonical name first, then every alias in every language."""
        names = [self.name]
        for lang in LANGUAGES:
            names.extend(a for a in self.aliases.get(lang, ()) if a not in names)
        return tuple(names)

    def serves(self, year: int | None) -> bool:
        """True when the entity held its role in `year` (or the year is unknown)."""
        first, last = self.term
        if year is None:
            return True
        return (first is None or year >= first) and (last is None or year <= last)


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity, so per-registry indexes can be cached
class Registry:
    """All registry entities with lookups by name key, romanised key and surname."""

    version: str
    entities: dict[str, RegistryEntity]
    by_key: dict[str, str]
    by_roman: dict[str, str]

    def lookup(self, name: str) -> RegistryEntity | None:
        """The entity `name` (or its form without legal affixes) is an alias of."""
        for candidate in (name, strip_corporate(name)):
            hit = self.by_key.get(name_key(candidate))
            if hit:
                return self.entities[hit]
        return None

    def lookup_person(self, name: str) -> RegistryEntity | None:
        """The person whose romanised name matches `name` up to spelling variants and order."""
        hit = self.by_roman.get(roman_key(name))
        return self.entities[hit] if hit else None

    def surface_forms(self) -> list[tuple[str, str]]:
        """(alias, entity_id) for every alias, for the gazetteer."""
        return [(alias, e.entity_id) for e in self.entities.values() for alias in e.all_names]


def _surnames(raw: dict[str, Any], aliases: dict[str, tuple[str, ...]], name: str) -> dict[str, str]:
    given = raw.get("surname") or {}
    out = {k: str(v) for k, v in given.items()}
    out.setdefault("en", name.split(maxsplit=1)[0])
    ko = aliases.get("ko", ())
    if ko and "ko" not in out:
        out["ko"] = ko[0][0]
    ja_dotted = [a for a in aliases.get("ja", ()) if "・" in a]
    if ja_dotted and "ja" not in out:
        out["ja"] = ja_dotted[0].split("・")[0]
    kanji = [a for a in aliases.get("ja", ()) if "・" not in a]
    if kanji:
        out.setdefault("ja_kanji", kanji[0][0])
    return out


def parse_registry(data: dict[str, Any]) -> Registry:
    """A Registry from the parsed YAML document; raises ValueError on duplicate ids or conflicting aliases."""
    entities: dict[str, RegistryEntity] = {}
    by_key: dict[str, str] = {}
    by_roman: dict[str, str] = {}
    for raw in data["entities"]:
        eid, etype = str(raw["id"]), str(raw["type"])
        if eid in entities:
            raise ValueError(f"registry id {eid} declared twice")
        if etype not in TYPES:
            raise ValueError(f"registry {eid}: type {etype!r} not in {TYPES}")
        aliases = {lang: tuple(str(a) for a in raw.get(lang) or ()) for lang in LANGUAGES}
        if not aliases["en"]:
            raise ValueError(f"registry {eid}: an English name is required")
        name = aliases["en"][0]
        term = tuple(raw.get("term") or (None, None))
        entity = RegistryEntity(
            entity_id=eid,
            type=etype,
            kind=str(raw.get("kind", "")),
            name=name,
            aliases=aliases,
            qid=raw.get("qid"),
            surnames=_surnames(raw, aliases, name) if etype == "PERSON" else {},
            roles=tuple(raw.get("role") or ()),
            of=raw.get("of"),
            term=(term[0], term[1]),
        )
        entities[eid] = entity
        for alias in entity.all_names:
            key = name_key(alias)
            if by_key.get(key, eid) != eid:
                raise ValueError(f"registry alias {alias!r} names both {by_key[key]} and {eid}")
            by_key[key] = eid
            if etype == "PERSON" and alias_language(alias) == "en":
                by_roman[roman_key(alias)] = eid
    return Registry(version=str(data.get("version", "0")), entities=entities, by_key=by_key, by_roman=by_roman)


@functools.cache
def load_registry(path: Path = REGISTRY_FILE) -> Registry:
    """The registry from `path`, parsed once per process."""
    return parse_registry(load_yaml(path))
