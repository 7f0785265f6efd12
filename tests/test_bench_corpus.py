"""The benchmark corpus builder: sizes, language mix, replicas that differ, and files the directory source reads."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, needs_shared

pytestmark = [pytest.mark.shared, needs_shared("evaldata")]


def _corpus_module():
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus():
    return _corpus_module()


def _records(info) -> list[dict[str, object]]:
    folder = Path(info.path)
    if info.format == "jsonl":
        return [json.loads(line) for p in sorted(folder.rglob("*.jsonl")) for line in p.read_text("utf-8").splitlines()]
    out = []
    for p in sorted(folder.rglob("*.txt")):
        title, _, body = p.read_text("utf-8").partition("\n\n")
        out.append({"title": title, "text": body.strip(), "url": None})
    return out


@pytest.mark.parametrize("fmt", ["txt", "jsonl"])
def test_builds_the_requested_size_in_the_language_mix(corpus, tmp_path, fmt):
    info = corpus.build(30, tmp_path, fmt=fmt)
    records = _records(info)
    assert info.size == len(records) == 30
    assert info.languages == {"ja": 12, "ko": 12, "en": 6}
    assert all(r["text"] for r in records)
    assert info.format == fmt
    assert (Path(info.path) / "corpus.json").exists()


def test_replicas_are_not_byte_identical_to_their_original(corpus):
    pools = corpus.originals()
    original = max(pools["en"], key=lambda a: a.text.count("\n"))
    copies = [corpus.replica(original, r) for r in range(4)]
    assert copies[0] == original
    assert len({c.url for c in copies}) == 4
    assert len({c.text for c in copies}) == 4
    # Syndicated copies add a dateline, keep the lede first and every paragraph, in another order.
    assert all(c.text.split("\n\n")[1] == copies[1].text.split("\n\n")[1] for c in copies[1:])
    assert sorted(copies[2].text.split("\n\n")[1:]) == sorted(copies[3].text.split("\n\n")[1:])


def test_every_replica_body_differs_even_with_one_paragraph(corpus):
    one = corpus.Article("https://example.com/a", "T", None, "Only one paragraph here.")
    bodies = {corpus.replica(one, r, "en").text for r in range(5)}
    assert len(bodies) == 5


def test_pools_exhaust_before_replicas_begin(corpus, tmp_path):
    pools = corpus.originals()
    size = 5 * len(pools["en"])  # English gets a fifth: exactly one full round
    info = corpus.build(size, tmp_path, fmt="txt")
    assert info.rounds["en"] == 1
    bigger = corpus.build(size + 5, tmp_path, fmt="txt")
    assert bigger.rounds["en"] == 2


def test_sources_file_is_read_by_the_directory_source(corpus, tmp_path):
    from tasks.fetch import fetch_sources, load_sources
    from tasks.rawstore import RawStore

    info = corpus.build(30, tmp_path, fmt="jsonl" if corpus.jsonl_supported() else "txt")
    result = fetch_sources(
        load_sources(Path(info.path) / "sources.toml"), raw_store=RawStore(tmp_path / "raw"), known=None, run_id="t"
    )
    assert result.documents.height == 30
    assert result.rejects.height == 0  # in particular no "duplicate_content": replicas never repeat a body
    assert set(result.documents["meta_language"].to_list()) == {"ja", "ko", "en"}


def test_an_existing_corpus_is_reused_not_rebuilt(corpus, tmp_path):
    first = corpus.build(30, tmp_path, fmt="txt")
    marker = Path(first.path) / "marker"
    marker.write_text("x")
    again = corpus.build(30, tmp_path, fmt="txt")
    assert again.path == first.path
    assert marker.exists()
