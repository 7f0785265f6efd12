"""Extract-step benchmark: articles/s of `extract_facts` on real Japanese, Korean and English news bodies.

Run `.venv/bin/python bench/extract_benchmark.py [--limit N] [--ko-backend rules|kiwi] [--ja-backend sudachi|rules]`
from the project root. It prints per-corpus speed and fact counts, checks that every span reproduces its text, and
writes bench/results/extract_speed.json. Needs ../shared/evaldata. Timings are wall-clock, one process, one core,
after one warm-up batch (model loading is reported separately); the machine is shared, so expect noise.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tasks.extract import JA_BACKENDS, KO_BACKENDS, extract_facts  # noqa: E402

EVAL = ROOT.parent / "shared" / "evaldata"
RESULTS = ROOT / "bench" / "results" / "extract_speed.json"
BATCH = 500
csv.field_size_limit(10**8)


def livedoor(limit: int) -> pl.DataFrame:
    """Livedoor news articles (line 1 URL, 2 date, 3 title, then body) as ARTICLES-like rows."""
    rows = []
    for path in sorted((EVAL / "livedoor-news-ja").glob("*/*.txt")):
        if path.name.startswith("LICENSE"):
            continue
        lines = path.read_text(encoding="utf-8").split("\n")
        if len(lines) < 4:
            continue
        rows.append(
            {
                "article_id": f"ja-{path.stem}",
                "body": "\n".join(lines[3:]).strip(),
                "language": "ja",
                "published_at_local": lines[1].strip().replace("+0900", "+09:00"),
            }
        )
    return pl.DataFrame(rows).head(limit or 10**9)


def wikinews(limit: int) -> pl.DataFrame:
    """Korean Wikinews articles as ARTICLES-like rows."""
    with (EVAL / "ko-wikinews" / "wikinews.csv").open(encoding="utf-8") as fh:
        rows = [
            {
                "article_id": f"ko-{i}",
                "body": r["내용"].strip(),
                "language": "ko",
                "published_at_local": f"{r['작성일']}T00:00:00+09:00" if r["작성일"] else None,
            }
            for i, r in enumerate(csv.DictReader(fh))
            if r["내용"].strip()
        ]
    return pl.DataFrame(rows).head(limit or 10**9)


def english(limit: int) -> pl.DataFrame:
    """English news bodies from the article-extraction benchmark's ground truth."""
    data = json.loads((EVAL / "article-extraction-benchmark" / "ground-truth.json").read_text(encoding="utf-8"))
    rows = [
        {"article_id": f"en-{k}", "body": v["articleBody"], "language": "en", "published_at_local": None}
        for k, v in sorted(data.items())
        if v.get("articleBody")
    ]
    return pl.DataFrame(rows).head(limit or 10**9)


def check_spans(articles: pl.DataFrame, facts: Any) -> int:  # noqa: ANN401
    """Number of fact rows whose [start, end) does not reproduce their text in the body (must be 0)."""
    bodies = dict(zip(articles["article_id"], articles["body"], strict=True))
    bad = 0
    for name, column in (("mentions", "surface"), ("figures", "surface"), ("dates", "surface"), ("quotes", "text")):
        frame = getattr(facts, name)
        for aid, s, e, text in zip(frame["article_id"], frame["start"], frame["end"], frame[column], strict=True):
            bad += bodies[aid][s:e] != text
    return bad


def run(name: str, articles: pl.DataFrame, **backend: str) -> dict[str, Any]:
    """Time extract_facts over `articles` in batches and count what it found."""
    counts = dict.fromkeys(("mentions", "figures", "dates", "agreements", "quotes"), 0)
    bad = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for offset in range(0, articles.height, BATCH):
        batch = articles.slice(offset, BATCH)
        facts = extract_facts(batch, **backend)
        for k in counts:
            counts[k] += getattr(facts, k).height
        bad += check_spans(batch, facts)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started  # CPU time: what one dedicated core would take, less the contention
    chars = int(articles["body"].str.len_chars().sum())
    result = {
        "articles": articles.height,
        "chars": chars,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "articles_per_second": round(articles.height / seconds, 1),
        "articles_per_cpu_second": round(articles.height / cpu, 1),
        "chars_per_second": round(chars / seconds),
        "facts": counts,
        "span_mismatches": bad,
        "settings": backend,
    }
    print(
        f"{name:<14} {articles.height:>5} articles  {result['articles_per_second']:>7} art/s wall  "
        f"{result['articles_per_cpu_second']:>7} art/cpu-s  "
        f"{result['chars_per_second']:>9} chars/s  {counts}  span mismatches: {bad}"
    )
    return result


def main(argv: list[str]) -> int:
    """Benchmark each corpus and the mixed corpus; write bench/results/extract_speed.json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="articles per corpus (0 = all)")
    parser.add_argument("--ko-backend", default=KO_BACKENDS[0], choices=KO_BACKENDS)
    parser.add_argument("--ja-backend", default=JA_BACKENDS[0], choices=JA_BACKENDS)
    args = parser.parse_args(argv)
    backend = {"ko_backend": args.ko_backend, "ja_backend": args.ja_backend}
    corpora = {"livedoor-ja": livedoor(args.limit), "wikinews-ko": wikinews(args.limit), "aeb-en": english(args.limit)}
    started = time.perf_counter()
    warm = pl.concat([c.head(5) for c in corpora.values()])
    extract_facts(warm, **backend)
    load_seconds = time.perf_counter() - started
    print(f"warm-up (registry, gazetteer, models): {load_seconds:.2f} s")
    results: dict[str, Any] = {"warm_up_seconds": round(load_seconds, 2), "batch": BATCH, "corpora": {}}
    for name, frame in corpora.items():
        results["corpora"][name] = run(name, frame, **backend)
    # The pipeline's mix: ~70% Japanese, ~25% Korean, ~5% English.
    mix = {"livedoor-ja": 0.70, "wikinews-ko": 0.25, "aeb-en": 0.05}
    for key in ("articles_per_second", "articles_per_cpu_second"):
        per = {k: v[key] for k, v in results["corpora"].items()}
        results[f"mixed_{key}"] = round(1 / sum(w / per[k] for k, w in mix.items()), 1)
    print(
        f"mixed (70% ja / 25% ko / 5% en): {results['mixed_articles_per_second']} articles/s wall, "
        f"{results['mixed_articles_per_cpu_second']} articles per CPU-second (one core)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    name = (
        RESULTS
        if (args.ko_backend, args.ja_backend) == (KO_BACKENDS[0], JA_BACKENDS[0])
        else RESULTS.with_name(f"extract_speed_{args.ko_backend}_{args.ja_backend}.json")
    )
    name.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {name.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
