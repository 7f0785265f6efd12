"""The seed snapshot against the gold's extract sections: found items never fall below the stored floors."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import needs_shared
from tests.goldcheck import GOLD, score_snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.shared, needs_shared("gold", "seeds.yaml")]

FLOORS = Path(__file__).with_name("gold_floors_extract.json")
SECTIONS = ("entities", "not_entities", "figures", "dates", "agreements", "quotes")


def test_extract_sections_meet_their_floors(seed_snapshot: Path):
    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    score = score_snapshot(seed_snapshot, GOLD)
    below = {
        s: f"{score.found[s]}/{score.expected[s]} < floor {floors[s]}" for s in SECTIONS if score.found[s] < floors[s]
    }
    misses = [m for m in score.misses if m.split(":")[0] in SECTIONS]
    assert not below, f"{below}\nmissed:\n" + "\n".join(misses)


def test_floors_never_exceed_what_the_gold_asks():
    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    import yaml

    gold = yaml.safe_load(GOLD.read_text(encoding="utf-8"))
    for s in SECTIONS:
        assert floors[s] <= sum(len(a.get(s) or []) for a in gold["articles"]), s


def test_every_linked_entity_of_the_snapshot_is_in_its_entities_table(seed_snapshot: Path):
    def read(name: str) -> pl.DataFrame:
        return pl.read_parquet(sorted((seed_snapshot / name).glob("*.parquet")))

    known = set(read("entities")["entity_id"])
    assert set(read("mentions")["entity_id"].drop_nulls()) <= known
    parties = read("agreements")["party_entity_ids"].explode().drop_nulls()
    assert set(parties) <= known
    assert set(read("quotes")["speaker_entity_id"].drop_nulls()) <= known
