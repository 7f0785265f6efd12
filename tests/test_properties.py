"""Property tests: arbitrary Unicode through clean and extract.

Invariants: no exception, no document lost, every offset inside its body with the text it names, the same frames
for the same input.

Profiles (HYPOTHESIS_PROFILE): `ci` (the default; few examples, a few seconds), `dev` (more), `thorough` (many, for
a night). The profile is applied per test, never loaded globally, so other modules' settings are untouched.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tasks.clean import clean_documents
from tasks.extract import extract_facts
from tasks.schemas import ARTICLES, CAPTIONS, PARAGRAPHS, RAW_DOCUMENTS, REJECTS
from tasks.schemas.facts import AGREEMENTS, DATES, FIGURES, MENTIONS, QUOTES

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=25, **_COMMON)
settings.register_profile("dev", max_examples=150, **_COMMON)
settings.register_profile("thorough", max_examples=2000, **_COMMON)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

# Fragments that exercise the extractors (names, money, dates, quotes) and the cleaner (widgets, credits, bylines),
# mixed with characters that move offsets: combining marks NFC composes, CRLF, zero-width, bidi and control
# characters, full-width digits, emoji joined by ZWJ.
FRAGMENTS = [
    "성남시와 카이스트는 2024년 3월 4일 업무협약(MOU)을 체결했다.",
    '시장은 "AI 도시를 만들겠다"고 말했다.',
    "총 300억원을 투자한다.",
    "이 기사를 공유합니다",
    "승인 2019.11.06 18:31",
    "東京都は5日、最大で一千万円の補助金を交付すると発表した。",
    "知事は「AIの都市にする」と述べた。",
    "Seongnam city signed an MOU with KAIST on March 3, 2025, worth 2 billion won.",
    '"We will build an AI hub," Mayor Shin Sang-jin said.',
    "Copyright © Example News. All rights reserved.",
    "사진=연합뉴스",
    "Cafe\u0301 e\u0301te\u0301",
    "line\r\nbreak\rold-mac",
    "Dae\u200bjeon KA\u200dIST Gwang\u00adju In\ufeffcheon",
    "\u202eevil\u202c \u2066isolate\u2069",
    "bell\u0007 tab\t vt\u000b ff\u000c nul-free",
    "１２３억원 ３월 ４일",
    "👩\u200d💻 AI",
    "",
    "\n\n\n",
]
TEXT = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60),
        st.sampled_from(FRAGMENTS),
    ),
    max_size=10,
).flatmap(lambda parts: st.sampled_from(["\n", " ", "", "\r\n"]).map(lambda sep: sep.join(parts)))
LANGUAGE = st.sampled_from(["en", "ko", "ja", "zh", "und"])


def _raw(texts: list[str]) -> pl.DataFrame:
    rows = [
        {
            "article_id": f"a{i:03d}",
            "source_uri": f"docs/{i}.txt",
            "canonical_uri": f"docs/{i}.txt",
            "source_name": "docs",
            "raw_sha256": f"{i:064x}",
            "media_type": "text/plain",
            "encoding": "utf-8",
            "text": text,
            "fetched_at": NOW,
        }
        for i, text in enumerate(texts)
    ]
    return RAW_DOCUMENTS.conform(pl.DataFrame(rows, infer_schema_length=None)) if rows else RAW_DOCUMENTS.empty()


def _assert_spans(facts, bodies: dict[str, str]) -> None:
    for table, column in ((MENTIONS, "surface"), (FIGURES, "surface"), (DATES, "surface"), (AGREEMENTS, "surface")):
        frame = getattr(facts, table.name)
        assert table.check(frame) == [], table.name
        assert not frame.select(table.key).is_duplicated().any(), table.name
        for row in frame.iter_rows(named=True):
            body = bodies[row["article_id"]]
            assert 0 <= row["start"] < row["end"] <= len(body), (table.name, row)
            assert body[row["start"] : row["end"]] == row[column], (table.name, row)
    assert QUOTES.check(facts.quotes) == []
    for row in facts.quotes.iter_rows(named=True):
        body = bodies[row["article_id"]]
        assert 0 <= row["start"] < row["end"] <= len(body)
        assert body[row["start"] : row["end"]] == row["text"]


@PROFILE
@given(texts=st.lists(TEXT, min_size=1, max_size=4))
def test_clean_then_extract_keeps_every_document_and_every_offset(texts):
    cleaned = clean_documents(_raw(texts), run_id="r", now=NOW)
    # Every document is an article or a reject, exactly once; nothing disappears.
    ids = sorted([*cleaned.articles["article_id"], *cleaned.rejects["article_id"]])
    assert ids == [f"a{i:03d}" for i in range(len(texts))]
    for table, frame in ((ARTICLES, cleaned.articles), (PARAGRAPHS, cleaned.paragraphs), (CAPTIONS, cleaned.captions)):
        assert table.check(frame) == [], table.name
        assert not frame.select(table.key).is_duplicated().any(), table.name
    assert REJECTS.check(cleaned.rejects) == []
    assert cleaned.rejects["reason"].is_not_null().all()
    bodies = dict(zip(cleaned.articles["article_id"], cleaned.articles["body"], strict=True))
    assert all(bodies.values())
    assert (cleaned.articles["body_chars"] == cleaned.articles["body"].str.len_chars()).all()
    for row in cleaned.paragraphs.iter_rows(named=True):
        body = bodies[row["article_id"]]
        assert 0 <= row["start"] < row["end"] <= len(body)
        assert "\n" not in body[row["start"] : row["end"]]
    facts = extract_facts(cleaned.articles)
    _assert_spans(facts, bodies)


@PROFILE
@given(texts=st.lists(TEXT, min_size=1, max_size=3))
def test_clean_and_extract_give_equal_frames_for_the_same_input(texts):
    first = clean_documents(_raw(texts), run_id="r", now=NOW)
    second = clean_documents(_raw(texts), run_id="r", now=NOW)
    for name in ("articles", "captions", "paragraphs", "rejects"):
        assert_frame_equal(getattr(first, name), getattr(second, name))
    facts_a, facts_b = extract_facts(first.articles), extract_facts(second.articles)
    for name in ("mentions", "figures", "dates", "agreements", "quotes"):
        assert_frame_equal(getattr(facts_a, name), getattr(facts_b, name))


@PROFILE
@given(bodies=st.lists(st.tuples(TEXT.filter(str.strip), LANGUAGE), min_size=1, max_size=4))
def test_extract_on_raw_bodies_in_any_language_label_keeps_offsets_inside_the_body(bodies):
    # Bodies straight from the strategy: not NFC, CRLF and control characters left in, labels that may be wrong.
    articles = pl.DataFrame(
        {
            "article_id": [f"b{i}" for i in range(len(bodies))],
            "body": [b for b, _ in bodies],
            "language": [lang for _, lang in bodies],
            "published_at": [NOW] * len(bodies),
            "published_at_local": [None] * len(bodies),
        },
        schema_overrides={"published_at_local": pl.String},
    )
    facts = extract_facts(articles)
    _assert_spans(facts, {f"b{i}": b for i, (b, _) in enumerate(bodies)})
    again = extract_facts(articles)
    for name in ("mentions", "figures", "dates", "agreements", "quotes"):
        assert_frame_equal(getattr(facts, name), getattr(again, name))
