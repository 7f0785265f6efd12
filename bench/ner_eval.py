"""Generic NER check: entity-level exact-match precision / recall / F1 per type on three public sets.

Run `.venv/bin/python bench/ner_eval.py [--limit N]` from the project root; it prints a table per set and backend
and writes bench/results/ner.json. Needs ../shared/evaldata.

Type mapping (our PERSON / ORG / LOC; anything else in the gold is left out of the gold, and a prediction on such
a span counts as a false positive):
- klue-ner-ko: PS -> PERSON, OG -> ORG, LC -> LOC (DT, TI, QT ignored); all 5,000 dev sentences and the 2,534
  news ('-wikitree') sentences separately.
- ner-ja-stockmark: 人名 -> PERSON; 法人名 + 政治的組織名 + その他の組織名 -> ORG; 地名 + 施設名 -> LOC
  (製品名, イベント名 ignored).
- ner-en-wikigold: PER -> PERSON, ORG -> ORG, LOC -> LOC (MISC ignored); tokens joined by single spaces.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tasks.extract import extract_mentions  # noqa: E402

EVAL = ROOT.parent / "shared" / "evaldata"
RESULTS = ROOT / "bench" / "results" / "ner.json"
TYPES = ("PERSON", "ORG", "LOC")
KLUE_MAP = {"PS": "PERSON", "OG": "ORG", "LC": "LOC"}
STOCKMARK_MAP = {
    "人名": "PERSON",
    "法人名": "ORG",
    "政治的組織名": "ORG",
    "その他の組織名": "ORG",
    "地名": "LOC",
    "施設名": "LOC",
}
WIKIGOLD_MAP = {"PER": "PERSON", "ORG": "ORG", "LOC": "LOC"}

Span = tuple[int, int, str]
Example = tuple[str, set[Span], str]  # text, gold spans, group


def klue() -> list[Example]:
    """KLUE-NER dev sentences rebuilt from their per-character BIO lines."""
    out: list[Example] = []
    chars: list[str] = []
    tags: list[str] = []
    group = ""

    def flush() -> None:
        if chars:
            out.append(("".join(chars), _bio_spans(tags, KLUE_MAP), group))
        chars.clear()
        tags.clear()

    for line in (EVAL / "klue-ner-ko" / "klue-ner-v1.1_dev.tsv").read_text(encoding="utf-8").split("\n"):
        if line.startswith("## "):
            if "\t" in line:
                flush()
                group = "news" if line.split("\t")[0].endswith("-wikitree") else "reviews"
            continue
        if not line:
            continue
        ch, _, tag = line.rpartition("\t")
        chars.append(ch)
        tags.append(tag)
    flush()
    return out


def _bio_spans(tags: list[str], mapping: dict[str, str]) -> set[Span]:
    spans: set[Span] = set()
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        if tag.startswith("I-") and kind == tag[2:]:
            continue
        if kind and kind in mapping:
            spans.add((start, i, mapping[kind]))
        start, kind = (i, tag[2:]) if tag != "O" else (-1, "")
    return spans


def stockmark() -> list[Example]:
    """Stockmark Japanese Wikipedia sentences with their character spans."""
    data = json.loads((EVAL / "ner-ja-stockmark" / "ner.json").read_text(encoding="utf-8"))
    return [
        (
            r["text"],
            {
                (e["span"][0], e["span"][1], STOCKMARK_MAP[e["type"]])
                for e in r["entities"]
                if e["type"] in STOCKMARK_MAP
            },
            "all",
        )
        for r in data
    ]


def wikigold() -> list[Example]:
    """WikiGold sentences (IOB1): tokens joined by single spaces, entity spans in characters.

    The subset has no document boundaries, so sentences are scored one by one (no cross-sentence surname links).
    """
    out: list[Example] = []
    tokens: list[str] = []
    tags: list[str] = []

    def flush() -> None:
        if not tokens:
            return
        offsets, pos = [], 0
        for tok in tokens:
            offsets.append((pos, pos + len(tok)))
            pos += len(tok) + 1
        spans: set[Span] = set()
        start, kind = -1, ""
        for i, tag in enumerate([*tags, "O"]):
            label = tag[2:] if tag != "O" else ""
            if label and label == kind and not tag.startswith("B-"):
                continue
            if kind in WIKIGOLD_MAP:
                spans.add((offsets[start][0], offsets[i - 1][1], WIKIGOLD_MAP[kind]))
            start, kind = (i, label) if label else (-1, "")
        out.append((" ".join(tokens), spans, "all"))
        tokens.clear()
        tags.clear()

    for line in (EVAL / "ner-en-wikigold" / "wikigold.conll.txt").read_text(encoding="utf-8").split("\n"):
        if not line.strip() or line.startswith("-DOCSTART-"):
            flush()
            continue
        tok, _, tag = line.rpartition(" ")
        tokens.append(tok)
        tags.append(tag)
    flush()
    return out


def score(pairs: Iterable[tuple[set[Span], set[Span]]]) -> dict[str, dict[str, float]]:
    """Micro precision / recall / F1 per type and overall from (gold, predicted) span sets."""
    counts = {t: [0, 0, 0] for t in (*TYPES, "ALL")}  # tp, fp, fn
    for gold, pred in pairs:
        for t in (*TYPES, "ALL"):
            g = {s for s in gold if t in {"ALL", s[2]}}
            p = {s for s in pred if t in {"ALL", s[2]}}
            counts[t][0] += len(g & p)
            counts[t][1] += len(p - g)
            counts[t][2] += len(g - p)
    out = {}
    for t, (tp, fp, fn) in counts.items():
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[t] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "gold": tp + fn}
    return out


def predict(examples: list[Example], language: str, **backend: str) -> tuple[list[set[Span]], float]:
    """Predicted spans per example and seconds spent."""
    texts = [t for t, _, _ in examples]
    kiwi: list[list[Any]] = [[] for _ in texts]
    started = time.perf_counter()
    if backend.get("ko_backend") == "kiwi":
        from tasks.extract.mentions import kiwi_candidates_batch

        kiwi = kiwi_candidates_batch(texts)
    preds = []
    for text, found in zip(texts, kiwi, strict=True):
        linked = extract_mentions(text, language, kiwi_found=found, **backend)
        preds.append({(m.candidate.start, m.candidate.end, m.type) for m in linked})
    return preds, time.perf_counter() - started


def run(
    name: str, loader: Callable[[], list[Example]], language: str, backends: dict[str, dict[str, str]], limit: int
) -> dict[str, Any]:
    """Scores of every backend on one set (and per group when the set has groups)."""
    examples = loader()
    if limit:
        examples = examples[:: max(1, len(examples) // limit)][:limit]
    result: dict[str, Any] = {"sentences": len(examples), "backends": {}}
    for label, backend in backends.items():
        extract_mentions("warm up", language, **backend)  # load models outside the timing
        preds, seconds = predict(examples, language, **backend)
        entry: dict[str, Any] = {
            "settings": backend,
            "sentences_per_second": round(len(examples) / seconds, 1),
            "scores": score((g, p) for (_, g, _), p in zip(examples, preds, strict=True)),
        }
        groups = sorted({g for _, _, g in examples})
        if len(groups) > 1:
            entry["by_group"] = {
                grp: score((g, p) for (_, g, gg), p in zip(examples, preds, strict=True) if gg == grp) for grp in groups
            }
        result["backends"][label] = entry
        _print(name, label, entry)
    return result


def _print(name: str, label: str, entry: dict[str, Any]) -> None:
    print(f"\n{name} [{label}]  {entry['sentences_per_second']} sentences/s")
    blocks = {"all": entry["scores"], **entry.get("by_group", {})}
    for group, scores in blocks.items():
        for t in (*TYPES, "ALL"):
            s = scores[t]
            print(
                f"  {group:<8} {t:<7} P {s['precision']:.3f}  R {s['recall']:.3f}  F1 {s['f1']:.3f}  (gold {s['gold']})"
            )


def main(argv: list[str]) -> int:
    """Score every set and write bench/results/ner.json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="sentences per set (0 = all)")
    parser.add_argument("--sets", default="ko,ja,en")
    args = parser.parse_args(argv)
    wanted = set(args.sets.split(","))
    results: dict[str, Any] = {
        "mapping": {"klue-ner-ko": KLUE_MAP, "ner-ja-stockmark": STOCKMARK_MAP, "ner-en-wikigold": WIKIGOLD_MAP},
        "matching": "entity-level exact span and type, micro-averaged",
    }
    if "ko" in wanted:
        results["klue-ner-ko"] = run(
            "klue-ner-ko", klue, "ko", {"rules": {"ko_backend": "rules"}, "kiwi": {"ko_backend": "kiwi"}}, args.limit
        )
    if "ja" in wanted:
        results["ner-ja-stockmark"] = run(
            "ner-ja-stockmark",
            stockmark,
            "ja",
            {"sudachi": {"ja_backend": "sudachi"}, "rules": {"ja_backend": "rules"}},
            args.limit,
        )
    if "en" in wanted:
        results["ner-en-wikigold"] = run("ner-en-wikigold", wikigold, "en", {"rules": {}}, args.limit)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if RESULTS.exists() and wanted != {"ko", "ja", "en"}:
        previous = json.loads(RESULTS.read_text(encoding="utf-8"))
        results = {**previous, **results}
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
