"""The expectation suites: every critical expectation holds the gate on a table that violates it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from tasks.schemas import PUBLISHED_TABLES
from tasks.validate import GateParameters, load_suite_specs, validate_tables
from tasks.validate.checks import widget_pattern, with_checks

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BODY_EN = (
    "Gwangju signed an MOU with Naver on March 3, 2025.\n\n"
    'The city will invest 5 billion won in an AI data center, Mayor Kang Gi-jung said: "AI is our future."\n\n'
) + "The project covers 30,000 m2 of land near the station and creates 120 jobs for graduates. " * 3
BODY_KO = (
    "광주시는 네이버와 인공지능 협약을 맺었다. 시는 50억원을 투자한다.\n\n"
    + "인공지능 데이터센터 사업은 2025년에 시작된다. " * 8
)


def _span(body: str, surface: str) -> tuple[int, int]:
    start = body.index(surface)
    return start, start + len(surface)


def valid_tables() -> dict[str, pl.DataFrame]:
    """A small candidate that meets every expectation: an English and a Korean article with facts of each kind."""
    ts = datetime(2025, 3, 4, 1, 0, tzinfo=UTC)
    arts = [("a_en", "en", BODY_EN), ("a_ko", "ko", BODY_KO)]
    articles = pl.DataFrame(
        [
            {
                "article_id": aid,
                "source_uri": f"docs/{aid}.txt",
                "title": f"title {aid}",
                "published_at": ts,
                "language": lang,
                "body": body,
                "body_chars": len(body),
                "content_sha256": "a" * 64,
                "raw_sha256": "b" * 64,
                "fetched_at": ts,
                "run_id": "r1",
            }
            for aid, lang, body in arts
        ]
    )
    s_gj, e_gj = _span(BODY_EN, "Gwangju")
    s_nv, e_nv = _span(BODY_EN, "Naver")
    s_q, e_q = _span(BODY_EN, "AI is our future.")
    s_m, e_m = _span(BODY_EN, "5 billion won")
    s_mk, e_mk = _span(BODY_KO, "50억원")
    s_d, e_d = _span(BODY_EN, "March 3, 2025")
    s_a, e_a = 0, BODY_EN.index(".") + 1
    tables = {
        "articles": articles,
        "captions": pl.DataFrame(
            [{"caption_id": "a_en:0", "article_id": "a_en", "ordinal": 0, "text": "광주 전경", "language": "ko"}]
        ),
        "paragraphs": pl.DataFrame(
            [
                {"article_id": aid, "ordinal": i, "start": s, "end": s + len(p), "language": lang}
                for aid, lang, body in arts
                for i, (s, p) in enumerate(_paragraphs(body))
            ]
        ),
        "translations": pl.DataFrame(
            [
                {
                    "article_id": "a_en",
                    "source_language": "en",
                    "target_language": "en",
                    "engine": "placeholder",
                    "status": "source_is_target",
                    "title_en": "t",
                    "body_en": BODY_EN,
                    "translated_at": ts,
                },
                {
                    "article_id": "a_ko",
                    "source_language": "ko",
                    "target_language": "en",
                    "engine": "placeholder",
                    "status": "pending",
                    "translated_at": ts,
                },
            ]
        ),
        "entities": pl.DataFrame(
            [
                {
                    "entity_id": "loc:gwangju",
                    "type": "LOC",
                    "canonical_name": "Gwangju",
                    "aliases": ["광주"],
                    "origin": "registry",
                },
                {
                    "entity_id": "org:naver",
                    "type": "ORG",
                    "canonical_name": "Naver",
                    "aliases": ["네이버"],
                    "origin": "registry",
                },
                {
                    "entity_id": "per:kang",
                    "type": "PERSON",
                    "canonical_name": "Kang Gi-jung",
                    "aliases": [],
                    "origin": "discovered",
                },
            ]
        ),
        "mentions": pl.DataFrame(
            [
                {
                    "mention_id": f"a_en:{s_gj}:{e_gj}:LOC",
                    "article_id": "a_en",
                    "entity_id": "loc:gwangju",
                    "type": "LOC",
                    "surface": "Gwangju",
                    "start": s_gj,
                    "end": e_gj,
                    "method": "registry",
                },
                {
                    "mention_id": f"a_en:{s_nv}:{e_nv}:ORG",
                    "article_id": "a_en",
                    "entity_id": None,
                    "type": "ORG",
                    "surface": "Naver",
                    "start": s_nv,
                    "end": e_nv,
                    "method": "pattern",
                },
            ]
        ),
        "figures": pl.DataFrame(
            [
                {
                    "figure_id": f"a_en:{s_m}:{e_m}",
                    "article_id": "a_en",
                    "kind": "money",
                    "value": 5e9,
                    "unit": "KRW",
                    "approximate": False,
                    "surface": "5 billion won",
                    "start": s_m,
                    "end": e_m,
                },
                {
                    "figure_id": f"a_ko:{s_mk}:{e_mk}",
                    "article_id": "a_ko",
                    "kind": "money",
                    "value": 5e9,
                    "unit": "KRW",
                    "approximate": False,
                    "surface": "50억원",
                    "start": s_mk,
                    "end": e_mk,
                },
            ]
        ),
        "dates": pl.DataFrame(
            [
                {
                    "date_id": f"a_en:{s_d}:{e_d}",
                    "article_id": "a_en",
                    "surface": "March 3, 2025",
                    "start": s_d,
                    "end": e_d,
                    "year": 2025,
                    "month": 3,
                    "day": 3,
                }
            ]
        ),
        "agreements": pl.DataFrame(
            [
                {
                    "agreement_id": f"a_en:{s_a}:{e_a}",
                    "article_id": "a_en",
                    "kind": "mou",
                    "party_entity_ids": ["loc:gwangju", None],
                    "party_names": ["Gwangju", "Naver"],
                    "year": 2025,
                    "month": 3,
                    "day": 3,
                    "surface": BODY_EN[s_a:e_a],
                    "start": s_a,
                    "end": e_a,
                }
            ]
        ),
        "quotes": pl.DataFrame(
            [
                {
                    "quote_id": f"a_en:{s_q}:{e_q}",
                    "article_id": "a_en",
                    "speaker_entity_id": "per:kang",
                    "speaker_name": "Kang Gi-jung",
                    "text": "AI is our future.",
                    "start": s_q,
                    "end": e_q,
                }
            ]
        ),
        "rejects": pl.DataFrame(
            [
                {
                    "reject_id": "x1",
                    "source_uri": "docs/empty.txt",
                    "stage": "clean",
                    "reason": "empty_body",
                    "run_id": "r1",
                    "rejected_at": ts,
                }
            ]
        ),
    }
    return {name: PUBLISHED_TABLES[name].conform(frame) for name, frame in tables.items()}


def _paragraphs(body: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for para in body.split("\n\n"):
        if para:
            out.append((pos, para))
        pos += len(para) + 2
    return out


def params(**kw: Any) -> GateParameters:
    return GateParameters(now=NOW, **kw)


def run(tables: dict[str, pl.DataFrame], only: set[str] | None = None, **kw: Any):
    return validate_tables(tables, params=params(**kw), only=only, phrases={"en": ["Share this article"]})


# --- mutations: each breaks one critical expectation --------------------------------------------------------------

Mutation = Callable[[dict[str, pl.DataFrame]], None]


def _set(table: str, column: str, value: Any, row: int = 0) -> Mutation:
    def apply(t: dict[str, pl.DataFrame]) -> None:
        frame = t[table]
        dtype = frame.schema[column]
        t[table] = frame.with_columns(
            pl.when(pl.int_range(pl.len()) == row)
            .then(pl.lit(value, dtype=dtype))
            .otherwise(pl.col(column))
            .alias(column)
        )

    return apply


def _duplicate_first(table: str) -> Mutation:
    def apply(t: dict[str, pl.DataFrame]) -> None:
        t[table] = pl.concat([t[table], t[table].head(1)])

    return apply


def _shift(table: str, by: int) -> Mutation:
    def apply(t: dict[str, pl.DataFrame]) -> None:
        t[table] = t[table].with_columns(pl.col("start") + by, pl.col("end") + by)

    return apply


def _compose(*fs: Mutation) -> Mutation:
    def apply(t: dict[str, pl.DataFrame]) -> None:
        for f in fs:
            f(t)

    return apply


def _key(table: str, spec: dict[str, Any]) -> str:
    kwargs = spec["kwargs"]
    column = kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or "*"
    cond = kwargs.get("row_condition")
    suffix = f" if {cond['column']['name']}=={cond['parameter']}" if cond else ""
    return f"{table}.{column} {spec['type'].removeprefix('expect_')}{suffix}"


def _mutations() -> dict[str, Mutation]:
    m: dict[str, Mutation] = {}
    for name, table in PUBLISHED_TABLES.items():
        for col in table.columns:
            if not col.nullable:
                m[f"{name}.{col.name} column_values_to_not_be_null"] = _set(name, col.name, None)
        key = list(table.key)
        uniq = "column_values_to_be_unique" if len(key) == 1 else "compound_columns_to_be_unique"
        m[f"{name}.{','.join(key)} {uniq}"] = _duplicate_first(name)
        m[f"{name}._check_article_exists column_values_to_be_in_set"] = _set(name, "article_id", "a_missing")
        m[f"{name}._check_span_in_body column_values_to_be_in_set"] = _set(name, "end", 10**6)
        m[f"{name}._check_span_matches column_values_to_be_in_set"] = _shift(name, 1)
    lang = "column_values_to_match_regex"
    m |= {
        "articles.body_chars column_values_to_be_between": _compose(
            _set("articles", "body", ""), _set("articles", "body_chars", 0)
        ),
        "articles._check_body_chars_matches column_values_to_be_in_set": _set("articles", "body_chars", 7),
        f"articles.language {lang}": _set("articles", "language", "english"),
        f"captions.language {lang}": _set("captions", "language", "KO"),
        f"paragraphs.language {lang}": _set("paragraphs", "language", "ko-KR"),
        f"translations.source_language {lang}": _set("translations", "source_language", "Korean"),
        f"translations.target_language {lang}": _set("translations", "target_language", "und"),
        "articles.published_at column_values_to_be_between": _set("articles", "published_at", NOW + timedelta(days=30)),
        "articles.content_sha256 column_values_to_match_regex": _set("articles", "content_sha256", "xyz"),
        "articles.raw_sha256 column_values_to_match_regex": _set("articles", "raw_sha256", "ABC"),
        "articles.* table_row_count_to_be_between": lambda _: None,  # see the previous_counts in the test
        "captions.ordinal column_values_to_be_between": _set("captions", "ordinal", -1),
        "translations.status column_values_to_be_in_set": _set("translations", "status", "done"),
        "translations.body_en column_values_to_not_be_null if status==translated": _compose(
            _set("translations", "status", "translated", row=1)
        ),
        "translations.body_en column_values_to_not_be_null if status==source_is_target": _set(
            "translations", "body_en", None
        ),
        "entities.type column_values_to_be_in_set": _set("entities", "type", "GPE"),
        "entities.origin column_values_to_be_in_set": _set("entities", "origin", "guess"),
        "mentions._check_entity_exists column_values_to_be_in_set": _set("mentions", "entity_id", "org:nobody"),
        "mentions.type column_values_to_be_in_set": _set("mentions", "type", "MISC"),
        "figures.kind column_values_to_be_in_set": _set("figures", "kind", "weight"),
        "figures.value column_values_to_be_between if kind==money": _set("figures", "value", -5.0),
        "figures.unit column_values_to_not_be_null if kind==money": _set("figures", "unit", None),
        "figures.unit column_values_to_be_in_set if kind==money": _set("figures", "unit", "WON"),
        "dates.month column_values_to_be_between": _set("dates", "month", 13),
        "dates.day column_values_to_be_between": _set("dates", "day", 0),
        "agreements._check_parties_exist column_values_to_be_in_set": lambda t: t.update(
            agreements=t["agreements"].with_columns(pl.lit(["org:ghost", None]).alias("party_entity_ids"))
        ),
        "agreements._check_parties_aligned column_values_to_be_in_set": lambda t: t.update(
            agreements=t["agreements"].with_columns(pl.lit(["Gwangju"]).alias("party_names"))
        ),
        "agreements.month column_values_to_be_between": _set("agreements", "month", 0),
        "agreements.day column_values_to_be_between": _set("agreements", "day", 32),
        "quotes._check_speaker_exists column_values_to_be_in_set": _set("quotes", "speaker_entity_id", "per:ghost"),
        "rejects.stage column_values_to_be_in_set": _set("rejects", "stage", "load"),
    }
    return m


def _critical() -> list[tuple[str, str]]:
    return [
        (name, _key(name, e))
        for name, spec in load_suite_specs().items()
        for e in spec["expectations"]
        if e["meta"]["severity"] == "critical"
    ]


CRITICAL = _critical()
MUTATIONS = _mutations()


def test_valid_tables_pass_every_expectation():
    report = run(valid_tables())
    assert report.success, report.summary()
    assert not report.warnings, report.summary()
    assert len(report.outcomes) > 100


def test_every_critical_expectation_has_a_violating_mutation():
    missing = [key for _, key in CRITICAL if key not in MUTATIONS]
    assert not missing, f"add a mutation for: {missing}"


@pytest.mark.parametrize(("table", "key"), CRITICAL, ids=[k for _, k in CRITICAL])
def test_violating_table_holds_the_gate(table: str, key: str):
    tables = valid_tables()
    MUTATIONS[key](tables)
    previous = {"articles": 100} if key == "articles.* table_row_count_to_be_between" else {}
    report = run(tables, only={table}, previous_counts=previous)
    assert not report.success
    failed = {_outcome_key(o) for o in report.critical_failures}
    assert key in failed, report.summary()
    hit = next(o for o in report.critical_failures if _outcome_key(o) == key)
    assert hit.unexpected_count or hit.observed is not None or hit.error


def _outcome_key(o: Any) -> str:
    return f"{o.table}.{o.column or '*'} {o.expectation.removeprefix('expect_')}" + (
        f" if {o.condition}" if o.condition else ""
    )


# --- beyond the per-expectation gate --------------------------------------------------------------------------------


def test_suites_cover_the_contract_and_declare_a_severity():
    specs = load_suite_specs()
    assert set(specs) == set(PUBLISHED_TABLES)
    for name, table in PUBLISHED_TABLES.items():
        keys = {_key(name, e) for e in specs[name]["expectations"]}
        for col in table.columns:
            if not col.nullable:
                assert f"{name}.{col.name} column_values_to_not_be_null" in keys, (name, col.name)
        assert any(k.startswith(f"{name}.{','.join(table.key)} ") and "unique" in k for k in keys), name
        for e in specs[name]["expectations"]:
            assert e["meta"]["severity"] in {"critical", "warning"}, (name, e)
            assert e["meta"].get("notes"), (name, e)


def test_warnings_are_reported_but_do_not_block():
    tables = valid_tables()
    _set("articles", "language", "fr")(tables)
    body = "Share this article\n\n" + BODY_EN
    tables["articles"] = (
        tables["articles"]
        .with_columns(
            pl.when(pl.col("article_id") == "a_en").then(pl.lit(body)).otherwise(pl.col("body")).alias("body")
        )
        .with_columns(pl.col("body").str.len_chars().cast(pl.Int64).alias("body_chars"))
    )
    # The English article's offsets moved with the body; keep the facts out of this test.
    report = run(tables, only={"articles"})
    assert report.success, report.summary()
    warned = {f"{o.column} {o.expectation}": o for o in report.warnings}
    assert "language expect_column_values_to_be_in_set" in warned
    phrase = warned["_widget_phrase expect_column_values_to_be_null"]
    assert phrase.sample[0]["_widget_phrase"] == "Share this article"
    assert phrase.sample[0]["article_id"] == "a_en"


def test_failure_summary_names_the_expectation_and_shows_offending_rows():
    tables = valid_tables()
    _shift("quotes", 2)(tables)
    report = run(tables, only={"quotes"})
    text = report.summary()
    assert "[critical] quotes._check_span_matches expect_column_values_to_be_in_set" in text
    assert "text='AI is our future.'" in text
    assert "_body_slice=' is our future.\"" in text
    assert "_check_span_matches=False" not in text  # the failing flag itself says nothing


def test_removed_or_retyped_column_is_a_contract_change():
    tables = valid_tables()
    before = {name: frame.schema for name, frame in tables.items()}
    # The previous snapshot had a column the contract no longer has, and published start as Int32.
    before["articles"] = pl.Schema({**before["articles"], "section": pl.String})
    before["mentions"] = pl.Schema({**before["mentions"], "start": pl.Int32})
    report = run(tables, only=set(), previous_schemas=before)
    failed = {(o.table, o.column) for o in report.critical_failures}
    assert failed == {("contract", "change")}
    rows = next(o for o in report.critical_failures).sample
    assert {(r["table"], r["column"]) for r in rows} == {("articles", "section"), ("mentions", "start")}
    assert run(tables, only=set(), previous_schemas=before, allow_contract_change=True).success


def test_added_column_is_additive_and_passes():
    tables = valid_tables()
    before = {name: frame.schema for name, frame in tables.items()}
    before["articles"] = pl.Schema({k: v for k, v in before["articles"].items() if k != "author"})
    assert run(tables, only=set(), previous_schemas=before).success


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda f: f.drop("author"), "column missing"),
        (lambda f: f.with_columns(pl.col("body_chars").cast(pl.Int32)), "type Int32 but the contract says Int64"),
        (lambda f: f.with_columns(pl.lit(1).alias("extra")), "column not in the contract"),
    ],
)
def test_candidate_schema_must_equal_the_contract(mutate, problem):
    tables = valid_tables()
    tables["articles"] = mutate(tables["articles"])
    report = run(tables, only=set())
    [failure] = report.critical_failures
    assert (failure.table, failure.column) == ("contract", "problem")
    assert failure.sample[0]["problem"] == problem
    assert failure.sample[0]["table"] == "articles"


def test_missing_table_fails_the_contract():
    tables = valid_tables()
    del tables["quotes"]
    report = run(tables, only=set())
    assert [o.sample[0]["problem"] for o in report.critical_failures] == ["table missing"]


def test_row_band_follows_settings_and_can_be_waived():
    p = params(previous_counts={"articles": 1000, "mentions": 0}, max_row_drop=0.5, max_row_growth=3.0)
    assert p.row_band("articles") == (500, 3000)
    assert p.row_band("mentions") == (0, None)  # growing from nothing is always allowed
    assert p.row_band("figures") == (0, None)  # no previous snapshot of the table
    waived = params(previous_counts={"articles": 1000}, allow_row_count_change=True)
    assert waived.row_band("articles") == (0, None)
    tables = valid_tables()
    assert not run(tables, only={"articles"}, previous_counts={"articles": 10}).success
    assert run(tables, only={"articles"}, previous_counts={"articles": 3}).success
    growth = run(tables, only={"mentions"}, previous_counts={"mentions": 100})
    assert growth.success  # facts tables only warn
    assert [o.expectation for o in growth.warnings] == ["expect_table_row_count_to_be_between"]


def test_widget_phrases_match_line_starts_in_any_language():
    pattern = widget_pattern({"en": ["Share this article"], "ko": ["기사 공유하기"], "ja": ["この記事をシェア"]})
    assert pattern is not None
    bodies = pl.Series(
        [
            "Text.\n\n  share THIS article on X",
            "본문.\n\n기사 공유하기",
            "本文。\n\nこの記事をシェアする",
            "We share this article's view.",  # not at a line start: prose, not furniture
            "Text.\n• Share this article",
            "본문\n【기사 공유하기】",
        ]
    )
    assert bodies.str.extract(pattern, 1).to_list() == [
        "share THIS article",
        "기사 공유하기",
        "この記事をシェア",
        None,
        "Share this article",
        "기사 공유하기",
    ]
    assert widget_pattern({"en": [], "ko": []}) is None


def test_the_clean_steps_phrase_file_loads():
    from tasks.validate.checks import WIDGET_PHRASES_FILE, widget_phrases

    phrases = widget_phrases()
    assert WIDGET_PHRASES_FILE.exists()
    assert all(isinstance(p, str) for ps in phrases.values() for p in ps)


def test_party_and_speaker_checks_tolerate_unlinked_entities():
    tables = valid_tables()
    agreements = with_checks("agreements", tables["agreements"], tables)
    quotes = with_checks(
        "quotes", tables["quotes"].with_columns(pl.lit(None, pl.String).alias("speaker_entity_id")), tables
    )
    assert agreements["_check_parties_exist"].to_list() == [True]
    assert quotes["_check_speaker_exists"].to_list() == [True]


def test_report_is_json_ready():
    tables = valid_tables()
    _set("figures", "unit", "WON")(tables)
    data = run(tables, only={"figures"}).to_dict()
    text = json.dumps(data)
    assert data["failed"] == ["figures.unit expect_column_values_to_be_in_set if kind==money"]
    assert '"unit": "WON"' in text
