"""Directory sources: file kinds, records, encodings, bad input, duplicates and incremental runs."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tasks.fetch import documents_from_raw, fetch_sources, load_sources
from tasks.ids import article_id
from tasks.rawstore import RawStore
from tasks.schemas import FETCH_STATE, RAW_DOCUMENTS, REJECTS, SOURCE_FILES
from tests.conftest import SEEDS
from tests.httpfixtures import JA_TEXT, KO_TEXT, article_html

P1 = "Seongnam city opened a new artificial intelligence research centre on Monday together with KAIST."
P2 = "The centre will host two professors and thirty-four graduate students working on machine learning."


def _sources(folder: Path, extra: str = "", *, path: str = "docs", http: str = "") -> Path:
    text = f'{http}\n[[sources]]\nkind = "directory"\nname = "docs"\npath = "{path}"\n{extra}'
    target = folder / "sources.toml"
    target.write_text(text, encoding="utf-8")
    return target


def _fetch(folder: Path, *, known=None, extra: str = "", http: str = "", known_files=None):
    result = fetch_sources(
        load_sources(_sources(folder, extra, http=http)),
        raw_store=RawStore(folder / "raw"),
        known=known,
        run_id="r",
        known_files=known_files,
    )
    assert RAW_DOCUMENTS.check(result.documents) == []
    assert REJECTS.check(result.rejects) == []
    assert FETCH_STATE.check(result.state) == []
    assert SOURCE_FILES.check(result.files) == []
    return result


def _reasons(result) -> dict[str, str]:
    return dict(zip(result.rejects["source_uri"], result.rejects["reason"], strict=True))


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    return folder


def test_seed_ids_stay_derived_from_source_name_and_relative_path(tmp_path):
    sources = load_sources(Path(__file__).resolve().parents[1] / "sources.toml")
    result = fetch_sources(sources, raw_store=RawStore(tmp_path / "raw"), known=None, run_id="r")
    expected = sorted(article_id(f"seeds:seeds/{p.name}") for p in SEEDS.glob("*.txt"))
    assert sorted(result.documents["article_id"].to_list()) == expected
    assert result.documents["media_type"].unique().to_list() == ["text/plain"]
    assert result.rejects.height == 0


def test_txt_html_jsonl_and_csv_files_become_documents(tmp_path, docs):
    (docs / "a.txt").write_text(f"{P1}\n\n{P2}\n", encoding="utf-8")
    (docs / "b.html").write_text(article_html("Busan AI hub", P2, P1), encoding="utf-8")
    records = [
        {
            "url": "https://news.example.com/1?utm_source=x",
            "title": "Record one",
            "published_at": "2024-03-01",
            "text": f"{P1} Record one.",
        },
        {"id": "r2", "title": "Record two", "html": article_html("ignored", P1 + " Two.", P2)},
    ]
    (docs / "c.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    (docs / "d.csv").write_text(
        f'url,title,published_at,text\nhttps://news.example.com/csv,CSV title,2024-03-02,"{P2} CSV."\n',
        encoding="utf-8",
    )
    result = _fetch(tmp_path)
    docs_by_uri = {r["source_uri"]: r for r in result.documents.to_dicts()}
    assert set(docs_by_uri) == {
        "docs/a.txt",
        "docs/b.html",
        "https://news.example.com/1?utm_source=x",
        "docs/c.jsonl#r2",
        "https://news.example.com/csv",
    }
    assert docs_by_uri["docs/a.txt"]["text"] == f"{P1}\n\n{P2}\n"
    assert docs_by_uri["docs/b.html"]["meta_title"] == "Busan AI hub"
    one = docs_by_uri["https://news.example.com/1?utm_source=x"]
    assert one["article_id"] == article_id("https://news.example.com/1")
    assert (one["meta_title"], one["meta_published_at"], one["media_type"]) == (
        "Record one",
        "2024-03-01",
        "application/jsonl+record",
    )
    assert docs_by_uri["docs/c.jsonl#r2"]["meta_title"] == "Record two"  # the record's own title wins
    assert P1 + " Two." in docs_by_uri["docs/c.jsonl#r2"]["text"]
    assert docs_by_uri["https://news.example.com/csv"]["media_type"] == "text/csv+record"


def test_csv_column_names_are_configurable(tmp_path, docs):
    (docs / "ko.csv").write_text(
        f"작성일,출처,제목,내용\n2024-03-04,https://ko.example.org/w/1,성남 협약,{KO_TEXT}\n", encoding="utf-8"
    )
    extra = '[sources.fields]\nurl = "출처"\ntitle = "제목"\npublished_at = "작성일"\ntext = "내용"\n'
    doc = _fetch(tmp_path, extra=extra).documents.row(0, named=True)
    assert (doc["meta_title"], doc["meta_published_at"], doc["text"]) == ("성남 협약", "2024-03-04", KO_TEXT)


def test_glob_paths_select_files(tmp_path, docs):
    (docs / "keep.txt").write_text(P1, encoding="utf-8")
    (docs / "skip.html").write_text(article_html("x", P1, P2), encoding="utf-8")
    result = fetch_sources(
        load_sources(_sources(tmp_path, path="docs/*.txt")),
        raw_store=RawStore(tmp_path / "raw"),
        known=None,
        run_id="r",
    )
    assert result.documents["source_uri"].to_list() == ["docs/keep.txt"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (KO_TEXT.encode("euc-kr"), KO_TEXT),
        (KO_TEXT.encode("cp949"), KO_TEXT),
        (JA_TEXT.encode("shift_jis"), JA_TEXT),
        (JA_TEXT.encode("euc-jp"), JA_TEXT),
        (KO_TEXT.encode("utf-16"), KO_TEXT),  # with BOM
        (("Seoul announced it. " + KO_TEXT).encode("utf-16-le"), "Seoul announced it. " + KO_TEXT),  # no BOM
        (b"\xef\xbb\xbf" + KO_TEXT.encode("utf-8"), KO_TEXT),
        (b"Line one\r\nLine two\rLine three\n", "Line one\r\nLine two\rLine three\n"),
    ],
)
def test_legacy_encodings_decode_correctly(tmp_path, docs, data, expected):
    (docs / "doc.txt").write_bytes(data)
    result = _fetch(tmp_path)
    assert result.rejects.height == 0
    assert result.documents["text"][0] == expected


def test_configured_encoding_is_used_for_undeclared_files(tmp_path, docs):
    short = "협약 체결"  # too short for detection to be sure
    (docs / "doc.txt").write_bytes(short.encode("euc-kr"))
    result = _fetch(tmp_path, extra='encoding = "euc-kr"\n')
    assert result.documents["text"][0] == short


def test_bad_files_become_rejects_and_nothing_else_is_lost(tmp_path, docs):
    (docs / "good.txt").write_text(P1, encoding="utf-8")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (docs / "report.html").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")
    (docs / "nav.html").write_text("<html><body><nav><a href='/'>Home</a> <a href='/a'>About</a></nav></body></html>")
    (docs / "big.txt").write_bytes(b"word " * 300_000)
    (docs / "bad.jsonl").write_text('{"text": "fine record text"}\n{not json\n[1, 2]\n', encoding="utf-8")
    result = _fetch(tmp_path, http="[http]\nmax_bytes = 1_000_000\n")
    assert _reasons(result) == {
        "docs/empty.txt": "empty_document",
        "docs/image.html": "binary_content",
        "docs/report.html": "binary_content",
        "docs/nav.html": "no_main_text",
        "docs/big.txt": "too_large",
        "docs/bad.jsonl#2": "bad_record",
        "docs/bad.jsonl#3": "bad_record",
    }
    assert sorted(result.documents["source_uri"].to_list()) == ["docs/bad.jsonl#1", "docs/good.txt"]
    stored = result.rejects.filter(pl.col("raw_sha256").is_not_null())
    assert all(d in RawStore(tmp_path / "raw") for d in stored["raw_sha256"])
    # Rejected documents are remembered: an unchanged bad file is not re-reported every night.
    again = _fetch(tmp_path, known=result.state, http="[http]\nmax_bytes = 1_000_000\n")
    assert again.documents.height == 0
    assert set(_reasons(again)) <= {"docs/big.txt", "docs/bad.jsonl#2", "docs/bad.jsonl#3"}


def test_invalid_utf8_is_decoded_without_replacement_or_rejected(tmp_path, docs):
    (docs / "mixed.txt").write_bytes(b"Daejeon " + b"\xff\xfe\xfa broken " + "대전".encode())
    result = _fetch(tmp_path)
    texts = result.documents["text"].to_list()
    assert (texts and "\ufffd" not in texts[0]) or _reasons(result) == {"docs/mixed.txt": "undecodable"}


def test_duplicate_files_under_different_names_give_one_article(tmp_path, docs):
    (docs / "a.txt").write_text(f"{P1}\n{P2}", encoding="utf-8")
    (docs / "copy-of-a.txt").write_text(f"{P1}\r\n  {P2}\n", encoding="utf-8")
    result = _fetch(tmp_path)
    assert result.documents["source_uri"].to_list() == ["docs/a.txt"]
    assert _reasons(result) == {"docs/copy-of-a.txt": "duplicate_content"}
    again = _fetch(tmp_path, known=result.state)
    assert again.documents.height == 0
    assert again.rejects.height == 0


def test_only_new_or_changed_files_are_returned(tmp_path, docs):
    for i in range(3):
        (docs / f"{i}.txt").write_text(f"{P1} Number {i}.", encoding="utf-8")
    first = _fetch(tmp_path)
    assert first.documents.height == 3
    (docs / "1.txt").write_text(f"{P1} Number 1, corrected.", encoding="utf-8")
    (docs / "3.txt").write_text(f"{P2} New.", encoding="utf-8")
    second = _fetch(tmp_path, known=first.state)
    assert sorted(second.documents["source_uri"].to_list()) == ["docs/1.txt", "docs/3.txt"]
    assert second.state.height == 4
    unchanged = second.state.filter(pl.col("source_uri") == "docs/0.txt")
    assert_frame_equal(unchanged, first.state.filter(pl.col("source_uri") == "docs/0.txt"))


def test_reprocess_rebuilds_the_same_documents_from_the_raw_layer(tmp_path, docs):
    (docs / "a.txt").write_text(P1, encoding="utf-8")
    (docs / "b.html").write_bytes(article_html("EUC page", KO_TEXT, P2).replace("utf-8", "euc-kr").encode("euc-kr"))
    (docs / "c.jsonl").write_text(json.dumps({"id": 1, "title": "T", "text": P2}) + "\n", encoding="utf-8")
    first = _fetch(tmp_path)
    for f in docs.iterdir():
        f.unlink()  # the sources are gone; only the raw layer remains
    rebuilt = documents_from_raw(first.state, raw_store=RawStore(tmp_path / "raw"), run_id="re")
    assert_frame_equal(
        rebuilt.documents.drop("fetched_at").sort("article_id"), first.documents.drop("fetched_at").sort("article_id")
    )


def test_reprocess_reports_missing_raw_bytes(tmp_path, docs):
    (docs / "a.txt").write_text(P1, encoding="utf-8")
    first = _fetch(tmp_path)
    rebuilt = documents_from_raw(first.state, raw_store=RawStore(tmp_path / "empty-raw"), run_id="re")
    assert _reasons(rebuilt) == {"docs/a.txt": "raw_missing"}


def test_sources_file_is_validated_as_data(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[sources]]\nkind = "directory"\nname = "a"\npath = "x"\n[[sources]]\nkind = "urls"\nname = "a"\n'
        'urls = ["https://example.com"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="unique"):
        load_sources(bad)
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text(
        "sources:\n  - kind: feed\n    name: f\n    url: https://example.com/rss\nhttp:\n  per_host_delay_seconds: 2\n",
        encoding="utf-8",
    )
    loaded = load_sources(yaml_file)
    assert loaded.http.per_host_delay_seconds == 2
    evil = tmp_path / "evil.yaml"
    evil.write_text("sources: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    with pytest.raises(Exception, match="could not determine a constructor"):
        load_sources(evil)


def test_example_sources_file_parses_and_docs_cover_every_option():
    from tasks.fetch.sources import DirectorySource, FeedSource, HttpPolicy, RecordFields, SitemapSource, UrlsSource

    root = Path(__file__).resolve().parents[1]
    example = load_sources(root / "examples" / "sources.example.toml")
    assert {s.kind for s in example.sources} == {"directory", "urls", "feed", "sitemap"}
    docs = (root / "docs" / "sources.md").read_text(encoding="utf-8")
    example_text = (root / "examples" / "sources.example.toml").read_text(encoding="utf-8")
    for model in (HttpPolicy, DirectorySource, UrlsSource, FeedSource, SitemapSource):
        for name in model.model_fields:
            assert f"`{name}`" in docs, f"docs/sources.md does not document {model.__name__}.{name}"
    for name in HttpPolicy.model_fields:
        assert f"\n{name} = " in example_text, f"example lacks [http] {name}"
    for name in RecordFields.model_fields:
        assert f"`{name}`" in docs


def test_spilled_documents_come_in_read_order_batches_and_lose_nothing(tmp_path, docs):
    # Many small files and a record file: the directory is read in rounds and documents leave in batches.
    for n in range(23):
        (docs / f"a{n:02d}.txt").write_text(f"{P1} Number {n}.\n\n{P2}", encoding="utf-8")
    (docs / "z.jsonl").write_text(
        "\n".join(json.dumps({"id": n, "text": f"{P2} Record {n}."}) for n in range(9)), encoding="utf-8"
    )
    whole = _fetch(tmp_path)
    parts: list[pl.DataFrame] = []
    spilled = fetch_sources(
        load_sources(tmp_path / "sources.toml"),
        raw_store=RawStore(tmp_path / "raw2"),
        known=None,
        run_id="r",
        spill=parts.append,
        spill_rows=5,
    )
    assert [p.height for p in parts] == [5] * 6  # 32 documents: six full batches spilled...
    assert spilled.documents.height == 2  # ...and the last two handed back
    for part in parts:
        assert RAW_DOCUMENTS.check(part) == []
        assert part["article_id"].is_sorted()
    # Read order: all .txt files (sorted by name) before the record file's rows.
    sources = [uri for p in [*parts, spilled.documents] for uri in p.sort("source_uri")["source_uri"]]
    assert ["z.jsonl" in uri for uri in sources] == [False] * 23 + [True] * 9
    together = pl.concat([*parts, spilled.documents]).sort("article_id")
    assert_frame_equal(together.drop("fetched_at"), whole.documents.drop("fetched_at"))
    assert_frame_equal(spilled.state.drop("fetched_at"), whole.state.drop("fetched_at"))


def test_unchanged_files_are_not_read_again_and_a_touched_one_is(tmp_path, docs):
    import os

    for n in range(3):
        (docs / f"a{n}.txt").write_text(f"{P1} Number {n}.\n\n{P2}", encoding="utf-8")
    first = _fetch(tmp_path)
    assert first.documents.height == 3
    assert sorted(first.files["path"]) == ["docs/a0.txt", "docs/a1.txt", "docs/a2.txt"]
    assert first.files["raw_sha256"].null_count() == 0

    # Count the reads of the second and later runs.
    reads: list[str] = []
    real = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(self.name)
        return real(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Path, "read_bytes", counting)
        again = _fetch(tmp_path, known=first.state, known_files=first.files)
        assert reads == []  # nothing changed: a listing and a stat per file, no read
        assert again.documents.height == 0
        assert_frame_equal(again.files, first.files)

        # Same size, new modification time: read again (and found unchanged by its digest).
        changed = docs / "a1.txt"
        os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
        third = _fetch(tmp_path, known=first.state, known_files=first.files)
        assert reads == ["a1.txt"]
        assert third.documents.height == 0
        # A file gone from the folder is gone from the files state too (its article stays published).
        (docs / "a2.txt").unlink()
        fourth = _fetch(tmp_path, known=first.state, known_files=third.files)
        assert sorted(fourth.files["path"]) == ["docs/a0.txt", "docs/a1.txt"]
