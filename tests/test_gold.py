"""The seed snapshot scored against the gold (../shared/gold/seeds.yaml): no section may fall below its floor."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from tests.conftest import needs_shared
from tests.goldcheck import GOLD, SECTIONS, score_snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.shared, needs_shared("gold", "seeds.yaml")]

FLOORS = Path(__file__).with_name("gold_floors.json")


def _floors() -> dict[str, int]:
    return {k: v for k, v in json.loads(FLOORS.read_text(encoding="utf-8")).items() if not k.startswith("_")}


def test_every_gold_section_meets_its_floor(seed_snapshot: Path):
    floors = _floors()
    score = score_snapshot(seed_snapshot, GOLD)
    print(score.table())  # the figures, visible with -s and in the CI log on failure
    below = {
        s: f"{score.found[s]}/{score.expected[s]} < floor {floors[s]}" for s in SECTIONS if score.found[s] < floors[s]
    }
    assert not below, f"{below}\nmissed:\n" + "\n".join(score.misses)


def test_floors_cover_every_section_and_never_exceed_what_the_gold_asks():
    floors = _floors()
    gold = yaml.safe_load(GOLD.read_text(encoding="utf-8"))
    assert set(floors) == set(SECTIONS)
    asked = {s: sum(len(a.get(s) or []) for a in gold["articles"]) for s in SECTIONS if s != "metadata"}
    asked["metadata"] = sum(
        k in a for a in gold["articles"] for k in ("language", "title", "published_at", "author", "publisher")
    )
    for s in SECTIONS:
        assert 0 <= floors[s] <= asked[s], s


def _read(snapshot: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(sorted((snapshot / name).glob("*.parquet")))


def test_seed_captions_are_published_once_and_never_in_bodies(seed_snapshot: Path):
    captions, articles = _read(seed_snapshot, "captions"), _read(seed_snapshot, "articles")
    assert captions.height > 0
    assert captions.select("article_id", "text").is_duplicated().sum() == 0
    bodies = dict(zip(articles["article_id"], articles["body"], strict=True))
    for row in captions.iter_rows(named=True):
        assert row["text"] not in bodies[row["article_id"]]
    assert set(_read(seed_snapshot, "paragraphs")["article_id"]) == set(articles["article_id"])


def test_every_linked_entity_of_the_snapshot_is_in_its_entities_table(seed_snapshot: Path):
    known = set(_read(seed_snapshot, "entities")["entity_id"])
    assert set(_read(seed_snapshot, "mentions")["entity_id"].drop_nulls()) <= known
    assert set(_read(seed_snapshot, "agreements")["party_entity_ids"].explode().drop_nulls()) <= known
    assert set(_read(seed_snapshot, "quotes")["speaker_entity_id"].drop_nulls()) <= known
