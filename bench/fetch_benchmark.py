"""Fetch + HTML extraction benchmark: the article-extraction-benchmark pages served over loopback HTTP.

Scores our fetch path (HTTP, decoding, main-text extraction) and trafilatura called directly on the same pages with
the benchmark's own metric, times both, and times reading 10k local .txt files. Writes bench/results/fetch.json.

Run: .venv/bin/python bench/fetch_benchmark.py [--local-files 10000]
Timings are wall-clock on a shared machine: treat them as indicative.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "evaldata" / "article-extraction-benchmark"
RESULTS = ROOT / "bench" / "results" / "fetch.json"
_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    r"""Multiset of n-token shingles (tokens = regex \w+), as the benchmark's evaluate.py builds them."""
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def tp_fp_fn(truth: str, pred: str) -> tuple[float, float, float]:
    """Shingle true/false positives and false negatives, normalised to sum to 1 (each document weighs the same)."""
    t, p = shingles(truth), shingles(pred)
    keys = t.keys() | p.keys()
    tp = sum(min(t[k], p[k]) for k in keys)
    fp = sum(max(0, p[k] - t[k]) for k in keys)
    fn = sum(max(0, t[k] - p[k]) for k in keys)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def score(truth: dict[str, str], pred: dict[str, str]) -> dict[str, float]:
    """Mean per-document precision and recall, and the F1 of those means."""
    precisions, recalls = [], []
    for key, body in truth.items():
        tp, fp, fn = tp_fp_fn(body, pred.get(key, ""))
        precisions.append(1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp))
        recalls.append(1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn))
    p, r = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def run_fetch(ids: list[str], work: Path) -> tuple[dict[str, str], float]:
    """Our path: fetch every page over loopback HTTP (gzip-encoded) and extract its main text."""
    from tasks.fetch import fetch_sources, load_sources
    from tasks.rawstore import RawStore
    from tests.httpfixtures import LoopbackServer, sources_toml

    server = LoopbackServer()
    server.evaldata_pages(DATA)
    with server.running():
        urls = ", ".join(f'"{server.url(f"/bench/{i}.html")}"' for i in ids)
        sources = work / "sources.toml"
        policy = {"per_host_concurrency": 8, "respect_robots": False, "reuse_within_hours": 0}
        body = f'[[sources]]\nkind = "urls"\nname = "bench"\nurls = [{urls}]\n'
        sources.write_text(sources_toml(server, body, **policy), encoding="utf-8")
        started = time.perf_counter()
        result = fetch_sources(load_sources(sources), raw_store=RawStore(work / "raw"), known=None, run_id="bench")
        seconds = time.perf_counter() - started
    by_url = dict(zip(result.documents["source_uri"], result.documents["text"], strict=True))
    if result.rejects.height:
        print("rejects:", result.rejects.select("source_uri", "reason").to_dicts())
    return {i: by_url.get(server.url(f"/bench/{i}.html"), "") for i in ids}, seconds


def run_trafilatura(ids: list[str]) -> tuple[dict[str, str], float]:
    """trafilatura.extract with its defaults on the same pages (decoded as UTF-8, as the benchmark states)."""
    import trafilatura

    pages = {i: gzip.decompress((DATA / "html" / f"{i}.html.gz").read_bytes()).decode("utf-8") for i in ids}
    started = time.perf_counter()
    out = {i: trafilatura.extract(html) or "" for i, html in pages.items()}
    return out, time.perf_counter() - started


def run_extract_only(ids: list[str]) -> tuple[dict[str, str], float]:
    """Our decoding + extraction (with metadata) on the same bytes, without HTTP: separates the two costs."""
    from tasks.fetch.parse import HTML, parse_document

    pages = {i: gzip.decompress((DATA / "html" / f"{i}.html.gz").read_bytes()) for i in ids}
    started = time.perf_counter()
    out = {i: parse_document(data, HTML).text for i, data in pages.items()}
    return out, time.perf_counter() - started


def run_local(count: int, work: Path) -> dict[str, float]:
    """Read `count` local .txt files (first run) and again with nothing changed (incremental run)."""
    from tasks.fetch import fetch_sources, load_sources
    from tasks.rawstore import RawStore

    folder = work / "txt"
    folder.mkdir()
    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in seeds]
    for n in range(count):
        (folder / f"{n:06d}.txt").write_text(f"Document {n}.\n\n{texts[n % len(texts)]}", encoding="utf-8")
    sources = work / "local.toml"
    sources.write_text('[[sources]]\nkind = "directory"\nname = "txt"\npath = "txt"\n', encoding="utf-8")
    loaded = load_sources(sources)
    started = time.perf_counter()
    first = fetch_sources(loaded, raw_store=RawStore(work / "raw-local"), known=None, run_id="l1")
    cold = time.perf_counter() - started
    started = time.perf_counter()
    second = fetch_sources(loaded, raw_store=RawStore(work / "raw-local"), known=first.state, run_id="l2")
    warm = time.perf_counter() - started
    assert first.documents.height == count
    assert second.documents.height == 0
    return {
        "files": count,
        "first_run_seconds": round(cold, 3),
        "first_run_files_per_second": round(count / cold, 1),
        "unchanged_run_seconds": round(warm, 3),
    }


def warm_up(item: str) -> None:
    """Import and run both extractors once, so neither timing pays for imports or first-call caches."""
    import trafilatura

    from tasks.fetch.htmltext import extract_html

    html = gzip.decompress((DATA / "html" / f"{item}.html.gz").read_bytes()).decode("utf-8")
    trafilatura.extract(html)
    extract_html(html)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local-files", type=int, default=10_000, help="local .txt files to time (0 skips)")
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} not found")
    truth = {k: v["articleBody"] for k, v in json.loads((DATA / "ground-truth.json").read_text()).items()}
    ids = sorted(truth)
    warm_up(ids[0])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ours, ours_s = run_fetch(ids, work)
        traf, traf_s = run_trafilatura(ids)
        only, only_s = run_extract_only(ids)
        local = run_local(args.local_files, work) if args.local_files else None
    import trafilatura

    figures = {
        "pages": len(ids),
        "newsgraph_fetch": {**score(truth, ours), "pages_per_second": round(len(ids) / ours_s, 1)},
        "newsgraph_extract_only": {**score(truth, only), "pages_per_second": round(len(ids) / only_s, 1)},
        "trafilatura_direct": {
            **score(truth, traf),
            "pages_per_second": round(len(ids) / traf_s, 1),
            "version": trafilatura.__version__,
        },
        "local_txt": local,
        "note": (
            "newsgraph_fetch includes loopback HTTP (server in the same process), gzip, decoding, extraction and "
            "metadata; newsgraph_extract_only is decoding + extraction + metadata; trafilatura_direct extracts text "
            "only (no metadata). Shared 2-core machine under load from other jobs: speeds are indicative."
        ),
    }
    print(json.dumps(figures, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
