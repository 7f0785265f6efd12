"""Benchmark corpus: real ja/ko/en news from ../shared/evaldata, replicated with light edits to any size.

Run as a script to build one corpus and print what it wrote:

    .venv/bin/python bench/corpus.py --size 10000 [--out bench/corpus] [--format auto|jsonl|txt]

Layout of a corpus folder (bench/corpus/<size>-<format>-v<N>/, git-ignored):

    sources.toml                one `directory` source per (language, replica round): see below
    corpus.json                 what was written (size, per-language counts, bytes, format, version)
    <lang>/r<round>/part-*.jsonl   (or <lang>/r<round>/<n>/<id>.txt when .jsonl is not supported by fetch)

Decisions (the issue is silent on them):
- Mix: languages in fixed weights (default ja:ko:en = 2:2:1), so every size exercises all three languages'
  code paths; the pools here are 1,859 ja, 304 ko and 92 en originals, so English is replicated the most
  (about 217 copies each at 100k).
- Order: each language's originals are shuffled with a fixed seed; round 0 uses every original once before round 1
  begins: replicas appear only once a language's pool is exhausted.
- Replicas (round r >= 1) model syndicated copies on other sites: their own source (publisher) per round, a mirror
  host in the URL (`r<r>.<host>`, never a tracking parameter, which canonicalisation would strip), the date moved
  by r days, a dateline naming the edition as the body's first line, and the paragraphs after the lede rotated by
  r. No two records or bodies are identical (fetch rejects exact text duplicates), and a publisher never repeats a
  paragraph, so repeated-line boilerplate detection sees the same statistics as on the originals. They remain
  near-duplicates of their original, which the clean step is expected to cluster.
- Nothing from evaldata is committed: corpora live under bench/corpus/, which git ignores.
"""

from __future__ import annotations

import argparse
import csv
import functools
import gzip
import html
import itertools
import json
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EVALDATA = SHARED / "evaldata"
DEFAULT_OUT = ROOT / "bench" / "corpus"
# Bump when the corpus content or layout changes, so cached corpora are rebuilt.
VERSION = 2
SEED = 20261122
SHARD = 1000
DEFAULT_MIX = {"ja": 2, "ko": 2, "en": 1}
UTC_OFFSETS = {"ja": "+09:00", "ko": "+09:00", "en": None}
PUBLISHERS = {"ja": "livedoor News", "ko": "Wikinews", "en": None}
# A syndicated copy's own first line: it makes every round's body distinct even when it has one paragraph (the
# fetch step rejects exact text duplicates, which would otherwise shrink the corpus as it grows).
DATELINES = {"ja": "【配信 第{r}版】", "ko": "(전재 제{r}판)", "en": "(Syndicated copy, edition {r})"}
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Article:
    """One original article: what a news site states about it, and its plain-text body."""

    url: str
    title: str | None
    published_at: str | None
    text: str


@dataclass(frozen=True, slots=True)
class CorpusInfo:
    """What a built corpus holds."""

    path: str
    size: int
    format: str
    version: int
    languages: dict[str, int]
    rounds: dict[str, int]
    sources: int
    files: int
    bytes: int
    seconds: float


def japanese(root: Path) -> list[Article]:
    """The livedoor news corpus: line 1 URL, line 2 date, line 3 title, then the body."""
    out = []
    for path in sorted(root.glob("*/*.txt")):
        if path.name == "LICENSE.txt":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) < 4:
            continue
        body = "\n".join(line.strip() for line in lines[3:]).strip()
        if body:
            out.append(Article(lines[0].strip(), lines[2].strip(), lines[1].strip(), body))
    return out


def korean(path: Path) -> list[Article]:
    """Korean Wikinews CSV: 작성일 (date), 출처 (URL), 제목 (title), 내용 (body)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        Article(r["출처"].strip(), r["제목"].strip() or None, r["작성일"].strip() or None, r["내용"].strip())
        for r in rows
        if r["내용"].strip()
    ]


def english(root: Path) -> list[Article]:
    """The extraction benchmark's ground-truth bodies, titled by their page's <title> (the JSON has none)."""
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    out = []
    for item_id in sorted(truth):
        item = truth[item_id]
        title = None
        page = root / "html" / f"{item_id}.html.gz"
        if page.exists():
            found = _TITLE_RE.search(gzip.decompress(page.read_bytes()).decode("utf-8", "replace"))
            title = " ".join(html.unescape(found.group(1)).split()) or None if found else None
        if item["articleBody"].strip():
            out.append(Article(item["url"], title, None, item["articleBody"].strip()))
    return out


@functools.cache
def originals(evaldata: Path = EVALDATA) -> dict[str, tuple[Article, ...]]:
    """Every usable original per language, shuffled with a fixed seed (read once per process)."""
    pools = {
        "ja": japanese(evaldata / "livedoor-news-ja"),
        "ko": korean(evaldata / "ko-wikinews" / "wikinews.csv"),
        "en": english(evaldata / "article-extraction-benchmark"),
    }
    for lang, pool in pools.items():
        random.Random(f"{SEED}-{lang}").shuffle(pool)  # noqa: S311 - a fixed, reproducible order, not secrecy
    return {lang: tuple(pool) for lang, pool in pools.items()}


def _shift_date(value: str | None, days: int) -> str | None:
    if not value or not days:
        return value
    try:
        if len(value) == len("2024-01-31"):
            return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
        return (datetime.fromisoformat(value) + timedelta(days=days)).isoformat()
    except ValueError:
        return value


def _mirror_url(url: str, rnd: int) -> str:
    if not rnd:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"r{rnd}.{parts.netloc}"))


def _rotate_body(text: str, rnd: int) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n|\n", text) if p.strip()]
    if not rnd or len(paragraphs) < 3:  # the lede stays first; rotating a single other paragraph changes nothing
        return text
    rest = paragraphs[1:]
    k = rnd % len(rest)
    return "\n\n".join([paragraphs[0], *rest[k:], *rest[:k]])


def replica(article: Article, rnd: int, lang: str = "en") -> Article:
    """Round `rnd`'s copy of an article (round 0 is the original)."""
    if not rnd:
        return article
    return Article(
        _mirror_url(article.url, rnd),
        article.title,
        _shift_date(article.published_at, rnd),
        DATELINES[lang].format(r=rnd) + "\n\n" + _rotate_body(article.text, rnd),
    )


def plan(size: int, pools: Mapping[str, Sequence[Article]], mix: dict[str, int]) -> dict[str, int]:
    """Articles per language for a corpus of `size` (weights from `mix`, remainder to the first languages)."""
    total = sum(mix.values())
    counts = {lang: size * w // total for lang, w in mix.items() if pools.get(lang)}
    for lang in list(counts)[: size - sum(counts.values())]:
        counts[lang] += 1
    return counts


def articles_for(lang: str, count: int, pool: Sequence[Article]) -> Iterator[tuple[int, Article]]:
    """(round, article) pairs: the whole pool in round 0, then again as replicas, until `count`."""
    for i in range(count):
        rnd, j = divmod(i, len(pool))
        yield rnd, replica(pool[j], rnd, lang)


def jsonl_supported() -> bool:
    """Whether the directory source reads .jsonl records (probed with the real fetch code, not guessed)."""
    try:
        from tasks.fetch import fetch_sources, load_sources
        from tasks.rawstore import RawStore
    except ImportError:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "docs").mkdir()
        records = [
            {"url": f"https://probe.example/{i}", "title": f"Probe {i}", "published_at": "2024-01-0{i}", "text": t}
            for i, t in ((1, "First probe body text."), (2, "Second probe body text."))
        ]
        (folder / "docs" / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        (folder / "sources.toml").write_text('[[sources]]\nkind = "directory"\nname = "p"\npath = "docs"\n')
        try:
            result = fetch_sources(
                load_sources(folder / "sources.toml"), raw_store=RawStore(folder / "raw"), known=None, run_id="probe"
            )
            texts = result.documents["text"].to_list() if "text" in result.documents.columns else []
        except Exception:  # noqa: BLE001 - any failure of the probe means "not supported yet"
            return False
    return len(texts) == len(records) and any("Second probe" in (t or "") for t in texts)


def _source_block(lang: str, rnd: int) -> str:
    name = f"{lang}-r{rnd:03d}"
    publisher = PUBLISHERS[lang] if rnd == 0 else f"{lang} mirror {rnd}"
    lines = ["[[sources]]", 'kind = "directory"', f'name = "{name}"', f'path = "{lang}/r{rnd:03d}"']
    lines.append(f"language = {json.dumps(lang)}")
    if publisher:
        lines.append(f"publisher = {json.dumps(publisher)}")
    if UTC_OFFSETS[lang]:
        lines.append(f"utc_offset = {json.dumps(UTC_OFFSETS[lang])}")
    return "\n".join(lines) + "\n"


def _write_jsonl(folder: Path, records: list[Article], shard: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(asdict(a), ensure_ascii=False) + "\n" for a in records]
    path = folder / f"part-{shard:05d}.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return 1


def _write_txt(folder: Path, records: list[Article], shard: int, start: int) -> int:
    sub = folder / f"{shard:05d}"
    sub.mkdir(parents=True, exist_ok=True)
    for n, a in enumerate(records, start):
        (sub / f"{n:07d}.txt").write_text(f"{a.title or ''}\n\n{a.text}\n", encoding="utf-8")
    return len(records)


def build(
    size: int,
    out: Path = DEFAULT_OUT,
    *,
    fmt: str = "auto",
    mix: dict[str, int] | None = None,
    evaldata: Path = EVALDATA,
    force: bool = False,
) -> CorpusInfo:
    """Build (or reuse) the corpus of `size` articles under `out` and describe it."""
    started = time.perf_counter()
    if fmt == "auto":
        fmt = "jsonl" if jsonl_supported() else "txt"
    mix = mix or DEFAULT_MIX
    mix_tag = "".join(f"{k}{v}" for k, v in mix.items())
    folder = out / f"{size}-{fmt}-{mix_tag}-v{VERSION}"
    meta = folder / "corpus.json"
    if meta.exists() and not force:
        return CorpusInfo(**json.loads(meta.read_text(encoding="utf-8")))
    if folder.exists():
        shutil.rmtree(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    pools = originals(evaldata)
    counts = plan(size, pools, mix)
    blocks: list[str] = []
    files = 0
    rounds: dict[str, int] = {}
    for lang, count in counts.items():
        # Rounds come in order and each is at most one pool long: write shard by shard, never the whole corpus
        # in memory (100k articles are ~350 MB of text).
        for rnd, group in itertools.groupby(articles_for(lang, count, pools[lang]), key=lambda pair: pair[0]):
            blocks.append(_source_block(lang, rnd))
            rounds[lang] = rnd + 1
            where = tmp / lang / f"r{rnd:03d}"
            articles = (article for _, article in group)
            for shard in itertools.count():
                records = list(itertools.islice(articles, SHARD))
                if not records:
                    break
                offset = shard * SHARD
                files += (
                    _write_jsonl(where, records, shard) if fmt == "jsonl" else _write_txt(where, records, shard, offset)
                )
    header = f"# Benchmark corpus: {size} articles ({fmt}), built by bench/corpus.py v{VERSION}; do not edit.\n\n"
    (tmp / "sources.toml").write_text(header + "\n".join(blocks), encoding="utf-8")
    nbytes = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
    tmp.rename(folder)
    info = CorpusInfo(
        str(folder),
        size,
        fmt,
        VERSION,
        counts,
        rounds,
        len(blocks),
        files,
        nbytes,
        round(time.perf_counter() - started, 2),
    )
    meta.write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
    return info


def _parse_mix(text: str) -> dict[str, int]:
    pairs = (item.split("=", 1) for item in text.split(",") if item.strip())
    return {k.strip(): int(v) for k, v in pairs}


def main(argv: list[str] | None = None) -> int:
    """Build one corpus from the command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, required=True, help="number of articles")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="parent folder (default: %(default)s)")
    parser.add_argument("--format", default="auto", choices=["auto", "jsonl", "txt"], help="record format")
    parser.add_argument("--mix", default="ja=2,ko=2,en=1", help="language weights (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="rebuild even when a matching corpus exists")
    args = parser.parse_args(argv)
    if not EVALDATA.exists():
        print(f"{EVALDATA} is not available", file=sys.stderr)
        return 2
    info = build(args.size, args.out, fmt=args.format, mix=_parse_mix(args.mix), force=args.force)
    print(json.dumps(asdict(info), indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # run as a script: the probe imports the project's fetch code
    sys.exit(main())
