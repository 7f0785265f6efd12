"""Score a published snapshot against the seed gold (`../shared/gold/seeds.yaml`), by the rules in its header.

Run `uv run python -m tests.goldcheck [snapshot_dir] [gold.yaml]` to print the figures.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import yaml

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT.parent / "shared" / "gold" / "seeds.yaml"
SECTIONS = (
    "metadata",
    "body_must_keep",
    "body_must_drop",
    "body_max_count",
    "entities",
    "not_entities",
    "figures",
    "dates",
    "agreements",
    "quotes",
)


def norm(text: object) -> str:
    """NFC, whitespace folded to single spaces, case-folded (the gold's comparison rule)."""
    return " ".join(unicodedata.normalize("NFC", str(text)).split()).casefold()


@dataclass
class Score:
    """found / expected per section, with what was missed."""

    found: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))
    expected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))
    misses: list[str] = field(default_factory=list)

    def add(self, section: str, ok: bool, what: str) -> None:
        """Count one check."""
        self.expected[section] += 1
        self.found[section] += int(ok)
        if not ok:
            self.misses.append(f"{section}: {what}")

    def ratio(self, section: str) -> float:
        """Found / expected (1.0 when nothing is expected)."""
        return self.found[section] / self.expected[section] if self.expected[section] else 1.0

    def table(self) -> str:
        """Printable figures."""
        rows = [f"{s:<15} {self.found[s]:>3} / {self.expected[s]:<3} {self.ratio(s):6.1%}" for s in SECTIONS]
        total_f, total_e = sum(self.found.values()), sum(self.expected.values())
        rows.append(f"{'total':<15} {total_f:>3} / {total_e:<3} {total_f / max(total_e, 1):6.1%}")
        return "\n".join(rows)


def _tables(snapshot: Path) -> dict[str, pl.DataFrame]:
    def read(name: str) -> pl.DataFrame:
        return pl.read_parquet(sorted((snapshot / name).glob("*.parquet")))

    return {n: read(n) for n in ("articles", "entities", "mentions", "figures", "dates", "agreements", "quotes")}


def _names_match(value: object, names: Iterable[object]) -> bool:
    return norm(value) in {norm(n) for n in names}


def _metadata(score: Score, label: str, article: dict[str, Any], gold: dict[str, Any]) -> None:
    for key in ("language", "title", "published_at", "author", "publisher"):
        if key not in gold:
            continue
        want = gold[key]
        got = article.get("published_at_local" if key == "published_at" else key)
        if want is None:
            ok = got is None
        elif key == "published_at":
            ok = got is not None and _same_instant(str(got), str(want))
        elif key == "author":
            wanted = want if isinstance(want, list) else [want]
            ok = got is not None and any(_names_match(part, wanted) for part in str(got).split(";"))
        else:
            ok = got is not None and _names_match(got, want if isinstance(want, list) else [want])
        score.add("metadata", ok, f"{label} {key}: want {want!r}, got {got!r}")


def _same_instant(got: str, want: str) -> bool:
    try:
        a, b = datetime.fromisoformat(got), datetime.fromisoformat(want)
    except ValueError:
        return False
    return a == b and a.utcoffset() == b.utcoffset()


def score_snapshot(snapshot: Path, gold_path: Path = GOLD) -> Score:  # noqa: C901, PLR0912 one branch per gold section reads best
    """Score every gold article found in the snapshot (matched by file name in source_uri)."""
    gold = yaml.safe_load(gold_path.read_text(encoding="utf-8"))
    t = _tables(snapshot)
    entities = t["entities"]
    names_of: dict[str, set[str]] = {
        row["entity_id"]: {norm(row["canonical_name"]), *(norm(a) for a in row["aliases"] or [])}
        for row in entities.iter_rows(named=True)
    }
    score = Score()
    for g in gold["articles"]:
        label = g["file"]
        match = t["articles"].filter(
            pl.col("source_uri").str.ends_with("/" + g["file"]) | (pl.col("source_uri") == g["file"])
        )
        if match.height == 0:
            score.misses.append(f"article {label} not published")
            for s in SECTIONS:
                score.expected[s] += len(g.get(s) or []) if s != "metadata" else 5
            continue
        art = match.row(0, named=True)
        aid, body = art["article_id"], norm(art["body"])
        _metadata(score, label, art, g)
        for s in g.get("body_must_keep") or []:
            score.add("body_must_keep", norm(s) in body, f"{label} lost {s!r}")
        for s in g.get("body_must_drop") or []:
            score.add("body_must_drop", norm(s) not in body, f"{label} kept {s!r}")
        for item in g.get("body_max_count") or []:
            n = body.count(norm(item["text"]))
            score.add("body_max_count", n <= item["max"], f"{label} {item['text']!r} x{n}")
        mentions = t["mentions"].filter(pl.col("article_id") == aid)
        for e in g.get("entities") or []:
            wanted = {norm(n) for n in e["names"]}
            ok = any(
                m["type"] == e["type"] and m["entity_id"] in names_of and names_of[m["entity_id"]] & wanted
                for m in mentions.iter_rows(named=True)
            )
            score.add("entities", ok, f"{label} {e['type']} {e['names'][0]}")
        for ne in g.get("not_entities") or []:
            bad = mentions.filter(pl.col("surface").map_elements(norm, return_dtype=pl.String) == norm(ne["surface"]))
            if ne["type"] != "any":
                bad = bad.filter(pl.col("type") == ne["type"])
            score.add("not_entities", bad.height == 0, f"{label} published {ne['surface']!r} as {ne['type']}")
        figures = t["figures"].filter(pl.col("article_id") == aid)
        for f in g.get("figures") or []:
            ok = any(
                r["kind"] == f["kind"]
                and ("unit" not in f or r["unit"] == f["unit"])
                and abs(r["value"] - float(f["value"])) <= 0.005 * abs(float(f["value"]))
                and (not f.get("approximate") or r["approximate"])
                for r in figures.iter_rows(named=True)
            )
            score.add("figures", ok, f"{label} {f}")
        dates = t["dates"].filter(pl.col("article_id") == aid)
        for d in g.get("dates") or []:
            ok = any(all(r[k] == v for k, v in d.items()) for r in dates.iter_rows(named=True))
            score.add("dates", ok, f"{label} {d}")
        agreements = t["agreements"].filter(pl.col("article_id") == aid)
        for a in g.get("agreements") or []:
            ok = any(_agreement_matches(r, a, names_of) for r in agreements.iter_rows(named=True))
            score.add("agreements", ok, f"{label} {a}")
        quotes = t["quotes"].filter(pl.col("article_id") == aid)
        for q in g.get("quotes") or []:
            ok = any(
                norm(q["fragment"]) in norm(r["text"])
                and (q["speaker"] is None or _speaker_matches(r, q["speaker"], names_of))
                for r in quotes.iter_rows(named=True)
            )
            score.add("quotes", ok, f"{label} {q}")
    return score


def _party_names(row: dict[str, Any], names_of: dict[str, set[str]]) -> list[set[str]]:
    ids = row["party_entity_ids"] or []
    written = row["party_names"] or []
    out = []
    for i, name in enumerate(written):
        names = {norm(name)}
        if i < len(ids) and ids[i] in names_of:
            names |= names_of[ids[i]]
        out.append(names)
    return out


def _agreement_matches(row: dict[str, Any], gold: dict[str, Any], names_of: dict[str, set[str]]) -> bool:
    parties = _party_names(row, names_of)
    for group in gold["parties"]:
        wanted = {norm(n) for n in group}
        if not any(p & wanted for p in parties):
            return False
    return all(row[k] == gold[k] for k in ("year", "month", "day") if k in gold)


def _speaker_matches(row: dict[str, Any], speakers: list[str], names_of: dict[str, set[str]]) -> bool:
    wanted = {norm(s) for s in speakers}
    names = {norm(row["speaker_name"])} if row["speaker_name"] else set()
    names |= names_of.get(row["speaker_entity_id"] or "", set())
    return bool(names & wanted)


def main(argv: list[str]) -> int:
    """Print the figures for a snapshot folder (default: output/current)."""
    snapshot = Path(argv[0]) if argv else ROOT / "output" / "current"
    gold = Path(argv[1]) if len(argv) > 1 else GOLD
    score = score_snapshot(snapshot, gold)
    print(score.table())
    print("\nmissed:\n  " + "\n  ".join(score.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
