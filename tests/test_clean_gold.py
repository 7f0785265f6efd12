"""The seed snapshot against the gold's clean sections (metadata, body keep/drop/max): never below the floors."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from tests.conftest import needs_shared
from tests.goldcheck import GOLD, score_snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.shared, needs_shared("gold", "seeds.yaml")]

FLOORS = Path(__file__).with_name("gold_floors_clean.json")
SECTIONS = ("metadata", "body_must_keep", "body_must_drop", "body_max_count")


def test_clean_sections_meet_their_floors(seed_snapshot: Path):
    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    score = score_snapshot(seed_snapshot, GOLD)
    below = {
        s: f"{score.found[s]}/{score.expected[s]} < floor {floors[s]}" for s in SECTIONS if score.found[s] < floors[s]
    }
    misses = [m for m in score.misses if m.split(":")[0] in SECTIONS]
    assert not below, f"{below}\nmissed:\n" + "\n".join(misses)


def test_floors_never_exceed_what_the_gold_asks():
    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    gold = yaml.safe_load(GOLD.read_text(encoding="utf-8"))
    checks = {s: sum(len(a.get(s) or []) for a in gold["articles"]) for s in SECTIONS if s != "metadata"}
    checks["metadata"] = sum(
        k in a for a in gold["articles"] for k in ("language", "title", "published_at", "author", "publisher")
    )
    for s in SECTIONS:
        assert floors[s] <= checks[s], s


def test_seed_captions_are_published_once_and_never_in_bodies(seed_snapshot: Path):
    def read(name: str) -> pl.DataFrame:
        return pl.read_parquet(sorted((seed_snapshot / name).glob("*.parquet")))

    captions, articles = read("captions"), read("articles")
    assert captions.height > 0
    assert captions.select("article_id", "text").is_duplicated().sum() == 0
    bodies = dict(zip(articles["article_id"], articles["body"], strict=True))
    for row in captions.iter_rows(named=True):
        assert row["text"] not in bodies[row["article_id"]]
    paragraphs = read("paragraphs")
    assert set(paragraphs["article_id"]) == set(articles["article_id"])
