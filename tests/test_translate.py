"""Translate step: placeholder semantics, sentence splitting, the registry and entry points, budgets, entity names."""

# Korean and Japanese test texts use full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import textwrap
import threading
from datetime import UTC, datetime

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tasks.schemas import ENTITIES, MENTIONS, TRANSLATIONS
from tasks.translate import (
    Limits,
    UnknownTranslatorError,
    available_translators,
    chunk_text,
    get_translator,
    select_backlog,
    split_options,
    split_sentences,
    translate_articles,
)
from tasks.translate.base import FileBudget, MemoryBudget
from tasks.translate.sentences import core

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def mixed() -> pl.DataFrame:
    """Articles in every language the sources publish, plus the awkward ones: no title, empty body, undetermined."""
    return pl.DataFrame(
        {
            "article_id": ["en1", "ko1", "ja1", "en2", "und1"],
            "language": ["en", "ko", "ja", "en", "und"],
            "title": ["KAIST opens AI school", "광주, AI 도시 선포", "光州、AI都市へ", None, "?"],
            "body": ["KAIST and Seongnam agreed.", "광주시는 밝혔다.", "光州市は締結した。", "", "1234"],
        }
    )


# --- placeholder -----------------------------------------------------------------------------------------------


def test_placeholder_copies_english_and_leaves_everything_else_pending(mixed):
    out = translate_articles(mixed, now=NOW)
    expected = pl.DataFrame(
        {
            "article_id": ["en1", "ko1", "ja1", "en2", "und1"],
            "source_language": ["en", "ko", "ja", "en", "und"],
            "target_language": ["en"] * 5,
            "engine": ["placeholder"] * 5,
            "engine_version": ["1"] * 5,
            "status": ["source_is_target", "pending", "pending", "source_is_target", "pending"],
            "title_en": ["KAIST opens AI school", None, None, None, None],
            "body_en": ["KAIST and Seongnam agreed.", None, None, "", None],
            "error": [None] * 5,
            "translated_at": [NOW] * 5,
        },
        schema=TRANSLATIONS.schema,
    )
    assert_frame_equal(out, expected)


def test_placeholder_never_invents_text_for_non_english(mixed):
    out = translate_articles(mixed.filter(pl.col("language") != "en"), engine="placeholder")
    assert out.select(pl.col("title_en").is_null().all(), pl.col("body_en").is_null().all()).row(0) == (True, True)


def test_empty_batch_gives_empty_table_with_contract_schema():
    out = translate_articles(
        pl.DataFrame(schema={"article_id": pl.String, "language": pl.String, "title": pl.String, "body": pl.String})
    )
    assert out.height == 0
    assert TRANSLATIONS.check(out) == []


def test_backlog_selects_pending_and_optionally_failed():
    frame = pl.DataFrame(
        {"article_id": list("abcd"), "status": ["pending", "failed", "translated", "source_is_target"]}
    )
    assert select_backlog(frame)["article_id"].to_list() == ["a"]
    assert select_backlog(frame, include_failed=True)["article_id"].to_list() == ["a", "b"]


# --- sentences -------------------------------------------------------------------------------------------------

EN = "Mr. Lee said the U.S. office opens on Jan. 3. It costs 3.5 billion won! Really?\n\nA new paragraph."
KO = '서울시는 양재에 KAIST AI 대학원을 유치했다고 밝혔다.이어 시장은 "환영한다"고 말했다. 좋아요!\n둘째 줄입니다'
JA = "光州市は協約を締結した。市長は「AIの都市にする」と述べた！次は？\n\nはい。"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            EN,
            [
                "Mr. Lee said the U.S. office opens on Jan. 3. ",
                "It costs 3.5 billion won! ",
                "Really?\n\n",
                "A new paragraph.",
            ],
        ),
        (
            KO,
            [
                "서울시는 양재에 KAIST AI 대학원을 유치했다고 밝혔다.",
                '이어 시장은 "환영한다"고 말했다. ',
                "좋아요!\n",
                "둘째 줄입니다",
            ],
        ),
        (JA, ["光州市は協約を締結した。", "市長は「AIの都市にする」と述べた！", "次は？\n\n", "はい。"]),
    ],
    ids=["en", "ko", "ja"],
)
def test_sentences_split_on_language_punctuation_and_join_back_exactly(text, expected):
    assert split_sentences(text) == expected
    assert "".join(split_sentences(text)) == text


@pytest.mark.parametrize("text", [EN, KO, JA, EN * 30, KO * 30, JA * 30, "가" * 2500, "  \n\n lead and trail  \n"])
@pytest.mark.parametrize("limit", [1, 7, 40, 1000])
def test_chunks_fit_the_limit_never_cross_lines_and_join_back(text, limit):
    chunks = chunk_text(text, limit)
    assert "".join(chunks) == text
    assert all(len(c) <= limit for c in chunks)
    assert all("\n" not in c.rstrip() or c.strip() == "" for c in chunks)


def test_long_sentence_without_end_is_cut_at_a_comma_not_mid_word():
    sentence = "광주시는, " + "인공지능 " * 60 + "산업을 육성한다."
    chunks = chunk_text(sentence, 100)
    assert "".join(chunks) == sentence
    assert all(c.endswith((" ", ",", ".")) for c in chunks)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab 다요.!?。！？」\n\t，、")) | st.characters(), max_size=300),
    st.integers(1, 120),
)
def test_split_and_chunk_lose_nothing(text, limit):
    assert "".join(split_sentences(text)) == text
    chunks = chunk_text(text, limit)
    assert "".join(chunks) == text
    assert all(0 < len(c) <= limit for c in chunks)
    for chunk in chunks:
        lead, middle, trail = core(chunk)
        assert lead + middle + trail == chunk
        assert middle == middle.strip()


# --- registry and entry points ---------------------------------------------------------------------------------


def test_builtins_are_available():
    assert {"placeholder", "libretranslate"} <= set(available_translators())


def test_unknown_translator_fails_fast_listing_the_available_ones(mixed):
    with pytest.raises(
        UnknownTranslatorError,
        match=r"unknown translator 'deepl'; available: .*libretranslate.*"
        r"placeholder.*newsgraph\.translators",
    ):
        translate_articles(mixed, engine="deepl")


def test_wrong_options_name_the_translator():
    with pytest.raises(ValueError, match="'placeholder' does not accept the options \\['colour'\\]"):
        get_translator("placeholder", {"colour": "blue"})


PLUGIN = '''
class Shouty:
    """A third-party translator: upper-cases and tags, so tests can see it ran."""

    name = "shouty"

    def __init__(self, prefix="EN:"):
        self.prefix = prefix

    @property
    def version(self):
        return "9.9"

    def supports(self, source, target):
        return source in {"ko", "ja"}

    def translate(self, texts, *, source, target):
        return [self.prefix + t.upper() for t in texts]
'''


def test_third_party_translator_is_found_through_the_entry_point_group(tmp_path, monkeypatch, mixed):
    (tmp_path / "shouty_plugin.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = tmp_path / "shouty_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shouty-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[newsgraph.translators]\nshouty = shouty_plugin:Shouty\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "shouty" in available_translators()
    out = translate_articles(mixed, engine="shouty", options={"shouty": {"prefix": ">>"}, "placeholder": {"x": 1}})
    rows = {r["article_id"]: r for r in out.iter_rows(named=True)}
    assert rows["ko1"]["status"] == "translated"
    assert rows["ko1"]["body_en"] == ">>광주시는 밝혔다."
    assert rows["ja1"]["title_en"] == ">>光州、AI都市へ"
    assert rows["und1"]["status"] == "pending"
    assert rows["en1"]["status"] == "source_is_target"
    assert set(out["engine"]) == {"shouty"}
    assert set(out["engine_version"]) == {"9.9"}


def test_a_name_claimed_by_two_packages_is_refused(tmp_path, monkeypatch):
    info = tmp_path / "rogue-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rogue\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[newsgraph.translators]\nplaceholder = rogue:Fake\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UnknownTranslatorError, match="registered more than once"):
        get_translator("placeholder")


# --- options and budgets ---------------------------------------------------------------------------------------


def test_options_split_into_step_limits_and_the_engine_table():
    limits, engine = split_options(
        "libretranslate",
        {"char_budget": 500, "chunk_chars": 300, "libretranslate": {"url": "http://x"}, "other": {"k": 1}},
    )
    assert limits == Limits(chunk_chars=300, char_budget=500)
    assert engine == {"url": "http://x"}


@pytest.mark.parametrize("bad", [{"char_budget": -1}, {"chunk_chars": 0}, {"chunk_chars": 900, "batch_chars": 800}])
def test_bad_limits_are_refused(bad):
    with pytest.raises(ValueError, match=r"chunk_chars|non-negative"):
        split_options("placeholder", bad)


def test_file_budget_is_shared_by_concurrent_takers(tmp_path):
    ledger = tmp_path / "budget.json"
    granted = []

    def worker() -> None:
        budget = FileBudget(ledger, 1000)
        granted.extend(n for n in [30] * 20 if budget.take(n))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(granted) == 990  # 33 of the 80 requests fit, whoever asked first
    assert not MemoryBudget(10).take(11)


# --- entity names need no machine translation ------------------------------------------------------------------

ENGLISH_NAMES_SQL = """
select m.article_id, m.surface, e.canonical_name
from read_parquet('{snap}/mentions/*.parquet') m
join read_parquet('{snap}/entities/*.parquet') e using (entity_id)
order by m.mention_id
"""


def test_korean_and_japanese_mentions_get_english_names_from_entities_whatever_the_translator(tmp_path, mixed):
    mentions = MENTIONS.conform(
        pl.DataFrame(
            {
                "mention_id": ["ko1:0:2:LOC", "ja1:0:2:LOC", "en1:0:5:ORG"],
                "article_id": ["ko1", "ja1", "en1"],
                "entity_id": ["loc:gwangju", "loc:gwangju", "org:kaist"],
                "type": ["LOC", "LOC", "ORG"],
                "surface": ["광주", "光州", "KAIST"],
                "start": [0, 0, 0],
                "end": [2, 2, 5],
                "method": ["registry"] * 3,
            }
        )
    )
    entities = ENTITIES.conform(
        pl.DataFrame(
            {
                "entity_id": ["loc:gwangju", "org:kaist"],
                "type": ["LOC", "ORG"],
                "canonical_name": ["Gwangju", "KAIST"],
                "aliases": [["광주", "光州"], ["카이스트"]],
                "origin": ["registry", "registry"],
            }
        )
    )
    snap = tmp_path / "snapshot"
    tables = {"mentions": mentions, "entities": entities, "translations": translate_articles(mixed)}
    for name, frame in tables.items():
        (snap / name).mkdir(parents=True)
        frame.write_parquet(snap / name / "part-0.parquet")
    # The placeholder translated nothing in Korean or Japanese ...
    assert set(tables["translations"].filter(pl.col("source_language").is_in(["ko", "ja"]))["status"]) == {"pending"}
    # ... yet the documented query gives every linked mention its English name.
    assert duckdb.connect().execute(ENGLISH_NAMES_SQL.format(snap=snap)).fetchall() == [
        ("en1", "KAIST", "KAIST"),
        ("ja1", "光州", "Gwangju"),
        ("ko1", "광주", "Gwangju"),
    ]
