"""Clean-step benchmark: seed gold sections, language ID, metadata on eval sets, body retention, speed.

Run `.venv/bin/python bench/clean_benchmark.py` from the project root; it prints a table and writes
bench/results/clean.json. Needs ../shared (seeds, gold, evaldata); timings are wall-clock on a shared machine.
"""

from __future__ import annotations

import csv
import gzip
import html
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tasks.clean import assign_duplicates, clean_documents  # noqa: E402
from tasks.clean.dedupe import signature  # noqa: E402
from tasks.clean.language import detect_language, warm_up  # noqa: E402
from tasks.clean.text import norm_key  # noqa: E402
from tasks.schemas import ARTICLES, PUBLISHED_TABLES, RAW_DOCUMENTS  # noqa: E402

SHARED = ROOT.parent / "shared"
EVAL = SHARED / "evaldata"
RESULTS = ROOT / "bench" / "results" / "clean.json"
AEB_LANGUAGES = ROOT / "bench" / "data" / "aeb_languages.json"
FETCHED = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 500
csv.field_size_limit(10**8)


def raw_docs(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """RAW_DOCUMENTS frame from dicts with article_id, text and optional meta_* fields."""
    full = [
        {
            "source_uri": r["article_id"],
            "source_name": r.get("source_name", "bench"),
            "raw_sha256": "0" * 64,
            "media_type": "text/plain",
            "fetched_at": FETCHED,
            **r,
        }
        for r in rows
    ]
    return RAW_DOCUMENTS.conform(pl.DataFrame(full, infer_schema_length=None))


def clean_all(docs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, float]:
    """Articles and rejects of all documents cleaned in production-size batches, and the seconds it took."""
    parts, rejects = [], []
    started = time.perf_counter()
    for offset in range(0, docs.height, BATCH):
        result = clean_documents(docs.slice(offset, BATCH), run_id="bench", now=FETCHED)
        parts.append(result.articles)
        rejects.append(result.rejects)
    return pl.concat(parts), pl.concat(rejects), time.perf_counter() - started


# --- data sets --------------------------------------------------------------------------------------------------


def livedoor() -> list[dict[str, str]]:
    """Livedoor articles: url, ISO date, title, body (and the file text as published)."""
    out = []
    for path in sorted((EVAL / "livedoor-news-ja").glob("*/*.txt")):
        if path.name == "LICENSE.txt":
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        out.append({"id": path.stem, "text": text, "date": lines[1], "title": lines[2], "body": "\n".join(lines[3:])})
    return out


def wikinews() -> list[dict[str, str]]:
    """Korean Wikinews articles: date, title, body."""
    with (EVAL / "ko-wikinews" / "wikinews.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [{"id": f"ko-{i}", "date": r["작성일"], "title": r["제목"], "body": r["내용"]} for i, r in enumerate(rows)]


def _html_title(path: Path) -> str | None:
    page = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
    for pattern in (r'<meta[^>]+property="og:title"[^>]+content="([^"]+)"', r"<title[^>]*>(.*?)</title>"):
        m = re.search(pattern, page, re.IGNORECASE | re.DOTALL)
        if m and m.group(1).strip():
            return " ".join(html.unescape(m.group(1)).split())
    return None


def english() -> list[dict[str, str | None]]:
    """English benchmark pages: gold body and the page title (og:title or <title>)."""
    folder = EVAL / "article-extraction-benchmark"
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    return [
        {"id": key, "body": item["articleBody"], "title": _html_title(folder / "html" / f"{key}.html.gz")}
        for key, item in sorted(truth.items())
    ]


# --- measurements -----------------------------------------------------------------------------------------------


def accuracy(predicted: list[str], expected: list[str]) -> dict[str, Any]:
    """Share of predictions equal to the expected labels, with the wrong ones counted as 'want->got'."""
    wrong: dict[str, int] = {}
    for p, e in zip(predicted, expected, strict=True):
        if p != e:
            wrong[f"{e}->{p}"] = wrong.get(f"{e}->{p}", 0) + 1
    n = len(predicted)
    return {"n": n, "accuracy": (n - sum(wrong.values())) / n if n else 0.0, "wrong": wrong}


def retention(gold_bodies: dict[str, str], articles: pl.DataFrame) -> float:
    """Mean share of each gold body's lines (compared folded) that survive in the cleaned body."""
    bodies = {r["article_id"]: norm_key(r["body"]) for r in articles.iter_rows(named=True)}
    shares = []
    for aid, body in gold_bodies.items():
        lines = [norm_key(x) for x in body.split("\n") if norm_key(x)]
        if not lines:
            continue
        cleaned = bodies.get(aid, "")
        kept = sum(len(x) for x in lines if x in cleaned)
        shares.append(kept / sum(len(x) for x in lines))
    return sum(shares) / len(shares) if shares else 0.0


def seed_gold() -> dict[str, Any]:
    """Clean sections of the seed gold, scored by tests.goldcheck on a snapshot holding only articles."""
    from tests.goldcheck import score_snapshot

    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    docs = raw_docs(
        {"article_id": p.stem, "source_uri": f"seeds/{p.name}", "source_name": "seeds", "text": p.read_text("utf-8")}
        for p in seeds
    )
    result = clean_documents(docs, run_id="bench", now=FETCHED)
    with tempfile.TemporaryDirectory() as tmp:
        snap = Path(tmp)
        for name, table in PUBLISHED_TABLES.items():
            (snap / name).mkdir()
            frame = assign_duplicates(result.articles) if name == ARTICLES.name else table.empty()
            frame.write_parquet(snap / name / "part-0.parquet")
        score = score_snapshot(snap)
    sections = ("metadata", "body_must_keep", "body_must_drop", "body_max_count")
    return {
        "sections": {s: {"found": score.found[s], "expected": score.expected[s]} for s in sections},
        "misses": [m for m in score.misses if m.split(":")[0] in sections],
    }


def language_id(ja: list[dict[str, str]], ko: list[dict[str, str]], en: list[dict[str, Any]]) -> dict[str, Any]:
    """Article and title language accuracy per evaluation set.

    13 of the 92 "English" benchmark pages are in other languages (bench/data/aeb_languages.json, labelled by
    reading them); they are scored against their real language.
    """
    other = json.loads(AEB_LANGUAGES.read_text(encoding="utf-8"))["pages"]
    out: dict[str, Any] = {}
    sets: dict[str, tuple[Callable[[dict[str, Any]], str], list[dict[str, Any]], Callable[[dict[str, Any]], str]]] = {
        "ja livedoor": (lambda _: "ja", ja, lambda r: r["text"]),
        "ko wikinews": (lambda _: "ko", ko, lambda r: f"{r['title']}\n\n{r['body']}"),
        "en benchmark": (lambda r: other.get(r["id"], "en"), en, lambda r: r["body"]),
    }
    for name, (truth, rows, text_of) in sets.items():
        result = clean_all(raw_docs({"article_id": r["id"], "text": text_of(r)} for r in rows))
        got = dict(zip(result[0]["article_id"], result[0]["language"], strict=True))
        labels = [got.get(r["id"], "rejected") for r in rows]
        titled = [r for r in rows if r.get("title")]
        out[name] = {
            "articles": accuracy(labels, [truth(r) for r in rows]),
            "titles": accuracy([detect_language(r["title"]) for r in titled], [truth(r) for r in titled]),
        }
    return out


def metadata_on_eval(ja: list[dict[str, str]], ko: list[dict[str, str]]) -> dict[str, Any]:
    """Title and publication time found in plain-text layouts whose truth is known."""
    articles, _, _ = clean_all(raw_docs({"article_id": r["id"], "text": r["text"]} for r in ja))
    got = {r["article_id"]: r for r in articles.iter_rows(named=True)}
    title_ok = sum(1 for r in ja if (got.get(r["id"]) or {}).get("title") == " ".join(r["title"].split()))
    date_ok = 0
    for r in ja:
        local = (got.get(r["id"]) or {}).get("published_at_local")
        want = datetime.strptime(r["date"].strip(), "%Y-%m-%dT%H:%M:%S%z")
        date_ok += int(local is not None and datetime.fromisoformat(local) == want)
    ko_articles, _, _ = clean_all(raw_docs({"article_id": r["id"], "text": f"{r['title']}\n{r['body']}"} for r in ko))
    ko_got = {r["article_id"]: r for r in ko_articles.iter_rows(named=True)}
    ko_title_ok = sum(1 for r in ko if (ko_got.get(r["id"]) or {}).get("title") == " ".join(r["title"].split()))
    ko_null_date = sum(1 for r in ko if (ko_got.get(r["id"]) or {}).get("published_at") is None)
    return {
        "ja livedoor title exact": title_ok / len(ja),
        "ja livedoor published_at exact": date_ok / len(ja),
        "ko wikinews title exact": ko_title_ok / len(ko),
        "ko wikinews published_at null (no date stated)": ko_null_date / len(ko),
        "ko wikinews body retained": retention({r["id"]: r["body"] for r in ko}, ko_articles),
    }


def english_retention(en: list[dict[str, Any]]) -> float:
    """Share of English gold body text kept when the gold body itself is cleaned (over-removal check)."""
    articles, _, _ = clean_all(raw_docs({"article_id": r["id"], "text": r["body"]} for r in en))
    return retention({r["id"]: r["body"] for r in en}, articles)


def speed(rows: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """Articles per second of clean_documents (batches of 500, detector loaded), by wall clock and by CPU time.

    CPU time is the steadier figure on a shared machine: other processes stretch the wall clock, not it.
    """
    warm_up()
    docs = raw_docs({"article_id": r["id"], "text": r[text]} for r in rows)
    walls, cpus = [], []
    for _ in range(3):
        cpu = time.process_time()
        articles, _, seconds = clean_all(docs)
        cpus.append(time.process_time() - cpu)
        walls.append(seconds)
    return {
        "articles": docs.height,
        "published": articles.height,
        "wall_s": min(walls),
        "cpu_s": min(cpus),
        "articles_per_s_wall": docs.height / min(walls),
        "articles_per_s_cpu": docs.height / min(cpus),
    }


def dedupe_speed(ja: list[dict[str, str]], n: int = 100_000) -> dict[str, Any]:
    """Seconds assign_duplicates takes over n articles (livedoor signatures repeated, ids distinct)."""
    sigs = [signature(r["body"]) for r in ja]
    rows = pl.DataFrame(
        {
            "article_id": [f"a{i:07d}" for i in range(n)],
            "source_uri": [f"u{i}" for i in range(n)],
            "language": ["ja"] * n,
            "body": [""] * n,
            "body_chars": [1000 + i % 7 for i in range(n)],
            # every livedoor article appears n / len(ja) times: the clusters must come back that size
            "content_sha256": [f"h{i % len(ja)}" for i in range(n)],
            "raw_sha256": ["0"] * n,
            "fetched_at": [FETCHED] * n,
            "run_id": ["bench"] * n,
            "minhash": [sigs[i % len(sigs)] for i in range(n)],
        }
    )
    articles = ARTICLES.conform(rows)
    started = time.perf_counter()
    out = assign_duplicates(articles)
    seconds = time.perf_counter() - started
    return {"articles": n, "seconds": seconds, "clusters": out["duplicate_cluster_id"].n_unique(), "distinct": len(ja)}


def near_duplicates(ja: list[dict[str, str]]) -> dict[str, Any]:
    """Near-duplicate recall on edited copies (furniture swapped, a paragraph added) and false merges."""
    originals = ja[:300]
    copies = []
    for r in originals:
        paragraphs = [p for p in r["body"].split("\n") if p.strip()]
        edited = "\n".join([*paragraphs[:-1], "【追記】本記事は配信元の記事を一部編集して掲載しています。"])
        copies.append({"article_id": r["id"] + "-copy", "text": f"{r['title']}\n{edited}"})
    docs = raw_docs([*({"article_id": r["id"], "text": f"{r['title']}\n{r['body']}"} for r in ja), *copies])
    articles, _, _ = clean_all(docs)
    clustered = assign_duplicates(articles)
    cluster = dict(zip(clustered["article_id"], clustered["duplicate_cluster_id"], strict=True))
    found = sum(1 for r in originals if cluster.get(r["id"] + "-copy") == cluster.get(r["id"]))
    sizes = clustered.group_by("duplicate_cluster_id").len()
    merged_originals = (
        clustered.filter(~pl.col("article_id").str.ends_with("-copy"))
        .group_by("duplicate_cluster_id")
        .len()
        .filter(pl.col("len") > 1)
    )
    return {
        "edited copies clustered with their original": found / len(originals),
        "distinct livedoor articles merged": int(merged_originals["len"].sum() or 0),
        "clusters": sizes.height,
    }


def main() -> int:
    """Run every measurement, print a table and write bench/results/clean.json."""
    if not EVAL.exists():
        print(f"{EVAL} not available")
        return 1
    ja, ko, en = livedoor(), wikinews(), english()
    results: dict[str, Any] = {"measured_at": datetime.now(UTC).isoformat(), "batch_size": BATCH}
    results["speed"] = {"ja livedoor": speed(ja, "text"), "en benchmark": speed(en, "body")}
    results["seed_gold"] = seed_gold()
    results["language_id"] = language_id(ja, ko, en)
    results["metadata_eval"] = metadata_on_eval(ja, ko)
    results["english_body_retained"] = english_retention(en)
    results["near_duplicates"] = near_duplicates(ja)
    results["assign_duplicates_100k"] = dedupe_speed(ja)

    print("seed gold (clean sections)")
    for name, s in results["seed_gold"]["sections"].items():
        print(f"  {name:<16} {s['found']:>3} / {s['expected']:<3}")
    for miss in results["seed_gold"]["misses"]:
        print(f"    missed {miss}")
    print("language ID                  articles            titles")
    for name, r in results["language_id"].items():
        a, t = r["articles"], r["titles"]
        print(f"  {name:<26} {a['accuracy']:7.2%} (n={a['n']:<5}) {t['accuracy']:7.2%} (n={t['n']})", end="")
        print(f"  {a['wrong']} {t['wrong']}")
    print("metadata and retention on eval sets")
    for name, v in results["metadata_eval"].items():
        print(f"  {name:<48} {v:7.2%}")
    print(f"  {'en benchmark body retained':<48} {results['english_body_retained']:7.2%}")
    print("near duplicates")
    for name, v in results["near_duplicates"].items():
        print(f"  {name:<48} {v}")
    for name, s in results["speed"].items():
        print(
            f"speed {name}: {s['articles']} articles, {s['articles_per_s_cpu']:.0f} articles/s per CPU second, "
            f"{s['articles_per_s_wall']:.0f} articles/s wall clock (1 process)"
        )
    d = results["assign_duplicates_100k"]
    print(f"assign_duplicates: {d['articles']} articles in {d['seconds']:.2f} s", end=" ")
    print(f"({d['clusters']} clusters over {d['distinct']} distinct bodies)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
