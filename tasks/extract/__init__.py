"""Extract: entities, figures, dates, agreements and quotes from article bodies, with exact offsets.

`extract_facts` runs per batch on the original-language bodies; `entity_table` builds the ENTITIES table for the
snapshot from the mentions. Methods per language (chosen by measurement, see docs/extraction.md):
registry gazetteer everywhere; Latin-script pattern rules; Korean suffix/title rules (Kiwi optional); Japanese
SudachiPy proper-noun tags plus pattern rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from tasks.schemas import AGREEMENTS, DATES, ENTITIES, FIGURES, MENTIONS, QUOTES

if TYPE_CHECKING:
    from tasks.extract.registry import Registry

__all__ = ["JA_BACKENDS", "KO_BACKENDS", "Facts", "entity_table", "extract_facts", "extract_mentions"]

KO_BACKENDS = ("rules", "kiwi")
JA_BACKENDS = ("rules", "sudachi")
# Lines that are page furniture (copyright notices, share buttons): nothing in them becomes a fact.
_FURNITURE = re.compile(
    r"©|[Cc]opyright|COPYRIGHT|[Aa]ll [Rr]ights [Rr]eserved|Unauthori[sz]ed reproduction"
    r"|무단\s?전재|재배포\s?금지|無断転載|[Pp]age (?:print|download)"
)
# A piece of every alternative above: a body with none of them needs no scan (most bodies; a scan for the pattern
# tries it at every position).
_FURNITURE_HINTS = (
    "©", "opyright", "OPYRIGHT", "eserved", "nauthori", "무단", "재배포", "無断", "age print", "age download",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Facts:
    """Per-article fact tables produced from a batch of articles."""

    mentions: pl.DataFrame
    figures: pl.DataFrame
    dates: pl.DataFrame
    agreements: pl.DataFrame
    quotes: pl.DataFrame


def _published(row: dict[str, Any]) -> date | None:
    local = row.get("published_at_local")
    if local:
        try:
            return datetime.fromisoformat(str(local)).date()
        except ValueError:
            pass
    utc = row.get("published_at")
    return utc.date() if isinstance(utc, datetime) else None


def _furniture_spans(body: str) -> list[tuple[int, int]]:
    """The lines of `body` that carry a copyright notice or page controls."""
    spans: list[tuple[int, int]] = []
    if not any(hint in body for hint in _FURNITURE_HINTS):
        return spans
    for m in _FURNITURE.finditer(body):
        end = body.find("\n", m.end())
        spans.append((body.rfind("\n", 0, m.start()) + 1, len(body) if end < 0 else end))
    return spans


def _outside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return not any(a <= start and end <= b for a, b in spans)


def extract_mentions(
    body: str,
    language: str,
    *,
    published: date | None = None,
    ko_backend: str = "rules",
    ja_backend: str = "rules",
    kiwi_found: Iterable[Any] = (),
    furniture: list[tuple[int, int]] | None = None,
) -> list[Any]:
    """Linked PERSON/ORG/LOC mentions of one body (tasks.extract.linking.Linked, sorted by offset).

    `furniture` is the body's furniture lines (_furniture_spans) when the caller has them already.
    """
    from tasks.extract.gazetteer import default_gazetteer
    from tasks.extract.linking import link_article
    from tasks.extract.mentions import Candidate, resolve_overlaps, rule_candidates
    from tasks.extract.registry import load_registry

    registry = load_registry()
    hits = [
        Candidate(s, e, registry.entities[eid].type, "registry", entity_id=eid)
        for s, e, eid in default_gazetteer().find(body)
    ]
    rules = rule_candidates(body, language, ja_backend=ja_backend)
    if ko_backend == "kiwi":
        rules.extend(kiwi_found)
    rules = [_prelinked(c, body[c.start : c.end], registry) for c in rules]
    if furniture is None:
        furniture = _furniture_spans(body)
    chosen = [c for c in resolve_overlaps(hits, rules) if _outside(furniture, c.start, c.end)]
    return link_article(body, chosen, registry, year=published.year if published else None)


def _prelinked(c: Any, surface: str, registry: Any) -> Any:  # noqa: ANN401 - Candidate / Registry, imported lazily
    """`c` carrying its registry entity (and the registry's type) when its whole name is a registry name."""
    from dataclasses import replace

    from tasks.extract.linking import registry_match

    if c.surname_only or c.entity_id:
        return c
    hit = registry_match(registry, surface, c.type)
    return replace(c, entity_id=hit.entity_id, type=hit.type) if hit is not None else c


def _article_facts(
    row: dict[str, Any], kiwi: list[Any], registry: Registry, *, ko_backend: str, ja_backend: str
) -> dict[str, list[dict[str, Any]]]:
    """Rows of every fact table for one article."""
    from tasks.extract.agreements import find_agreements
    from tasks.extract.dates import find_dates
    from tasks.extract.figures import find_figures
    from tasks.extract.quotes import find_quotes

    aid, body = row["article_id"], row["body"] or ""
    published = _published(row)
    furniture = _furniture_spans(body)
    linked = extract_mentions(
        body,
        row.get("language") or "und",
        published=published,
        ko_backend=ko_backend,
        ja_backend=ja_backend,
        kiwi_found=kiwi,
        furniture=furniture,
    )
    dates = [d for d in find_dates(body, published) if _outside(furniture, d.start, d.end)]
    return {
        "mentions": [
            {
                "mention_id": f"{aid}:{m.candidate.start}:{m.candidate.end}:{m.type}",
                "article_id": aid,
                "entity_id": m.entity_id,
                "type": m.type,
                "surface": body[m.candidate.start : m.candidate.end],
                "start": m.candidate.start,
                "end": m.candidate.end,
                "method": m.candidate.method,
            }
            for m in linked
        ],
        "figures": [
            {
                "figure_id": f"{aid}:{f.start}:{f.end}",
                "article_id": aid,
                "kind": f.kind,
                "value": f.value,
                "unit": f.unit,
                "counted": f.counted,
                "approximate": f.approximate,
                "surface": body[f.start : f.end],
                "start": f.start,
                "end": f.end,
            }
            for f in find_figures(body)
            if _outside(furniture, f.start, f.end)
        ],
        "dates": [
            {
                "date_id": f"{aid}:{d.start}:{d.end}",
                "article_id": aid,
                "surface": body[d.start : d.end],
                "start": d.start,
                "end": d.end,
                "year": d.year,
                "month": d.month,
                "day": d.day,
            }
            for d in dates
        ],
        "agreements": [
            {
                "agreement_id": f"{aid}:{a.start}:{a.end}",
                "article_id": aid,
                "kind": a.kind,
                "party_entity_ids": a.party_entity_ids,
                "party_names": a.party_names,
                "year": a.year,
                "month": a.month,
                "day": a.day,
                "surface": body[a.start : a.end],
                "start": a.start,
                "end": a.end,
            }
            for a in find_agreements(body, linked, dates, registry)
        ],
        "quotes": [
            {
                "quote_id": f"{aid}:{q.start}:{q.end}",
                "article_id": aid,
                "speaker_entity_id": q.speaker_entity_id,
                "speaker_name": q.speaker_name,
                "text": body[q.start : q.end],
                "start": q.start,
                "end": q.end,
            }
            for q in find_quotes(body, linked)
        ],
    }


def extract_facts(articles: pl.DataFrame, *, ko_backend: str = "rules", ja_backend: str = "rules") -> Facts:
    """Facts found in the bodies of ARTICLES rows (mentions linked to entities, figures, dates, events)."""
    from tasks.extract.registry import load_registry

    if ko_backend not in KO_BACKENDS or ja_backend not in JA_BACKENDS:
        raise ValueError(f"unknown backend: ko={ko_backend!r} (from {KO_BACKENDS}), ja={ja_backend!r} ({JA_BACKENDS})")
    registry = load_registry()
    rows = articles.select(
        [c for c in ("article_id", "body", "language", "published_at", "published_at_local") if c in articles.columns]
    ).to_dicts()
    kiwi_found: list[list[Any]] = [[] for _ in rows]
    if ko_backend == "kiwi":
        from tasks.extract.mentions import kiwi_candidates_batch

        ko_rows = [i for i, r in enumerate(rows) if r.get("language") == "ko"]
        for i, found in zip(ko_rows, kiwi_candidates_batch([rows[i]["body"] for i in ko_rows]), strict=True):
            kiwi_found[i] = found
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in ("mentions", "figures", "dates", "agreements", "quotes")}
    for row, kiwi in zip(rows, kiwi_found, strict=True):
        facts = _article_facts(row, kiwi, registry, ko_backend=ko_backend, ja_backend=ja_backend)
        for name, table_rows in facts.items():
            out[name].extend(table_rows)
    tables = {"mentions": MENTIONS, "figures": FIGURES, "dates": DATES, "agreements": AGREEMENTS, "quotes": QUOTES}
    frames = {
        name: table.conform(pl.DataFrame(out[name], schema=table.schema)) if out[name] else table.empty()
        for name, table in tables.items()
    }
    return Facts(**frames)


def entity_table(mentions: pl.LazyFrame) -> pl.DataFrame:
    """ENTITIES rows for every entity the mentions link to.

    Registry entries come as curated; a discovered entity is named by its most frequent surface form (ties: the
    longest), with its other surface forms as aliases.
    """
    from tasks.extract.linking import NEW_PREFIX
    from tasks.extract.registry import load_registry

    registry = load_registry()
    linked = mentions.filter(pl.col("entity_id").is_not_null()).select("entity_id", "type", "surface").collect()
    rows: list[dict[str, Any]] = []
    for eid in sorted(set(linked["entity_id"].to_list())):
        entity = registry.entities.get(eid)
        if entity is not None:
            rows.append(
                {
                    "entity_id": eid,
                    "type": entity.type,
                    "canonical_name": entity.name,
                    "aliases": [a for a in entity.all_names if a != entity.name],
                    "wikidata_qid": entity.qid,
                    "origin": "registry",
                }
            )
    discovered = (
        linked.filter(pl.col("entity_id").str.starts_with(NEW_PREFIX))
        .group_by("entity_id", "type", "surface")
        .agg(pl.len().alias("n"))
        .sort(["entity_id", "n", "surface"], descending=[False, True, False])
        .with_columns(pl.col("surface").str.len_chars().alias("chars"))
    )
    for (eid,), group in discovered.group_by(["entity_id"], maintain_order=True):
        ranked = group.sort(["n", "chars", "surface"], descending=[True, True, False])
        surfaces = ranked["surface"].to_list()
        rows.append(
            {
                "entity_id": eid,
                "type": ranked["type"][0],
                "canonical_name": surfaces[0],
                "aliases": surfaces[1:20],
                "wikidata_qid": None,
                "origin": "discovered",
            }
        )
    if not rows:
        return ENTITIES.empty()
    return ENTITIES.conform(pl.DataFrame(rows, schema=ENTITIES.schema)).sort("entity_id")
