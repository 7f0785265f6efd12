"""How long validation takes on a large synthetic candidate: derived checks (polars) and the whole gate (GE).

    .venv/bin/python bench/validate_scale.py --articles 100000 [--data-docs]

Prints seconds per phase and writes bench/results/validate_scale.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from tasks.schemas import PUBLISHED_TABLES
from tasks.validate import GateParameters, validate_tables
from tasks.validate.checks import with_checks

PARAGRAPH = (
    "Gwangju signed an agreement with Naver to build an AI data center worth 5 billion won, officials said. "
    "광주시는 인공지능 산업 육성을 위해 50억원을 투자한다. "
)


def synthetic(n: int, mentions_per_article: int) -> dict[str, pl.DataFrame]:
    """A valid candidate of `n` articles (~4 KB bodies) with `mentions_per_article` mentions and a few facts each."""
    ts = datetime(2025, 1, 1, tzinfo=UTC)
    ids = pl.int_range(n, eager=True).cast(pl.String).str.zfill(8)
    body = pl.lit(PARAGRAPH * 25) + ids  # distinct bodies of equal layout
    articles = pl.DataFrame({"article_id": "a" + ids}).with_columns(
        source_uri=pl.lit("docs/") + pl.col("article_id"),
        published_at=pl.lit(ts),
        language=pl.lit("en"),
        body=body,
        content_sha256=pl.lit("a" * 64),
        raw_sha256=pl.lit("b" * 64),
        fetched_at=pl.lit(ts),
        run_id=pl.lit("bench"),
    )
    articles = articles.with_columns(body_chars=pl.col("body").str.len_chars().cast(pl.Int64))
    step = len(PARAGRAPH)
    k = pl.int_range(mentions_per_article, eager=True)
    mentions = (
        articles.select("article_id")
        .join(pl.DataFrame({"k": k}), how="cross")
        .with_columns(start=(pl.col("k") * step).cast(pl.Int64))
        .with_columns(
            end=pl.col("start") + 7,
            surface=pl.lit("Gwangju"),
            type=pl.lit("LOC"),
            entity_id=pl.lit("loc:gwangju"),
            method=pl.lit("registry"),
        )
        .with_columns(mention_id=pl.concat_str("article_id", "start", "end", "type", separator=":"))
    )
    money_at = PARAGRAPH.index("5 billion won")
    figures = articles.select("article_id").with_columns(
        start=pl.lit(money_at, pl.Int64),
        end=pl.lit(money_at + 13, pl.Int64),
        kind=pl.lit("money"),
        value=pl.lit(5e9),
        unit=pl.lit("KRW"),
        approximate=pl.lit(value=False),
        surface=pl.lit("5 billion won"),
    )
    figures = figures.with_columns(figure_id=pl.concat_str("article_id", "start", "end", separator=":"))
    entities = pl.DataFrame(
        [
            {
                "entity_id": "loc:gwangju",
                "type": "LOC",
                "canonical_name": "Gwangju",
                "aliases": ["광주"],
                "origin": "registry",
            }
        ]
    )
    tables = {"articles": articles, "mentions": mentions, "figures": figures, "entities": entities}
    return {
        name: table.conform(tables[name]) if name in tables else table.empty()
        for name, table in PUBLISHED_TABLES.items()
    }


def main() -> None:
    """Run the benchmark and print figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--mentions", type=int, default=20, help="mentions per article")
    parser.add_argument("--data-docs", action="store_true", help="also build Data Docs")
    args = parser.parse_args()
    t0 = time.perf_counter()
    import great_expectations  # noqa: F401 # paid once per process; measured apart from validation

    imported = time.perf_counter() - t0
    t0 = time.perf_counter()
    tables = synthetic(args.articles, args.mentions)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    for name in ("articles", "mentions", "figures"):
        with_checks(name, tables[name], tables)
    checks = time.perf_counter() - t0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        report = validate_tables(
            tables, params=GateParameters(), data_docs=Path(tmp) / "docs" if args.data_docs else None
        )
    gate = time.perf_counter() - t0
    figures = {
        "articles": args.articles,
        "mentions": tables["mentions"].height,
        "body_mb": round(tables["articles"]["body"].str.len_bytes().sum() / 1e6, 1),
        "ge_import_seconds": round(imported, 2),
        "build_seconds": round(built, 2),
        "derived_checks_seconds": round(checks, 2),
        "validate_tables_seconds": round(gate, 2),
        "data_docs": args.data_docs,
        "success": report.success,
        "expectations": len(report.outcomes),
    }
    print(json.dumps(figures, indent=2))
    if not report.success:
        print(report.summary())
    out = Path(__file__).parent / "results" / "validate_scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
