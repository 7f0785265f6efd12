# ruff: noqa: RUF001, RUF003 - Korean and Japanese punctuation (’, 「」, ・) is what this module matches.
"""Extraction on small English, Korean and Japanese texts: mentions, linking, figures, dates, agreements, quotes."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.extract import entity_table, extract_facts, extract_mentions
from tasks.extract.dates import find_dates
from tasks.extract.figures import find_figures, parse_cjk_amount
from tasks.extract.gazetteer import default_gazetteer
from tasks.extract.linking import discovered_id
from tasks.extract.registry import load_registry, parse_registry
from tasks.extract.text import name_key, roman_key, sentences, strip_particle
from tasks.schemas import AGREEMENTS, DATES, ENTITIES, FIGURES, MENTIONS, QUOTES


def _articles(*rows: tuple[str, str, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"article_id": f"a{i}", "body": body, "language": lang, "published_at_local": published}
            for i, (body, lang, published) in enumerate(rows)
        ],
        schema={"article_id": pl.String, "body": pl.String, "language": pl.String, "published_at_local": pl.String},
    )


def _mentions(text: str, language: str, **kw) -> list[tuple[str, str, str | None]]:
    return [
        (text[m.candidate.start : m.candidate.end], m.type, m.entity_id) for m in extract_mentions(text, language, **kw)
    ]


# --- registry and gazetteer -------------------------------------------------------------------------------------------


def test_registry_links_one_entity_across_languages_and_spellings():
    registry = load_registry()
    for name in ("Gwangju", "광주", "光州", "광주광역시", "Gwangju Metropolitan City"):
        assert registry.lookup(name).entity_id == "loc:gwangju", name
    for name in ("Lee Yong-seop", "이용섭", "イ・ヨンソプ", "Lee Yong-sup"):
        assert registry.lookup(name).entity_id == "per:lee_yong_seop", name
    assert registry.lookup_person("Yongseop Lee").entity_id == "per:lee_yong_seop"
    assert registry.lookup("카이스트").entity_id == registry.lookup("KAIST").entity_id == "org:kaist"
    for name in ("KDJ Center", "김대중컨벤션센터", "Kim Dae-jung Convention Center"):
        assert registry.lookup(name).entity_id == "loc:kdj_center", name
    assert registry.version


def test_registry_refuses_an_alias_that_names_two_entities():
    data = {
        "entities": [
            {"id": "loc:a", "type": "LOC", "en": ["Alpha"], "ko": ["알파"]},
            {"id": "org:b", "type": "ORG", "en": ["Beta", "alpha"]},
        ]
    }
    with pytest.raises(ValueError, match="names both"):
        parse_registry(data)


def test_every_registry_entry_has_a_valid_type_and_id_prefix():
    for entity in load_registry().entities.values():
        prefix = {"PERSON": "per:", "ORG": "org:", "LOC": "loc:"}[entity.type]
        assert entity.entity_id.startswith(prefix), entity.entity_id
        assert entity.name == entity.aliases["en"][0]


def test_gazetteer_respects_korean_particles_titles_and_word_boundaries():
    text = "이용섭 광주시장이 광주시는 서울시와 KAIST는 광주광역시청 XKAIST 日本語 日本の 大田区"
    found = {text[s:e] for s, e, _ in default_gazetteer().find(text)}
    assert {"이용섭", "광주", "광주시", "서울시", "KAIST", "日本"} <= found
    assert "광주광역시" not in found  # 광주광역시청 is another word
    assert "大田" not in found  # 大田区 is a Tokyo ward, not Daejeon


def test_name_keys_fold_case_punctuation_and_romanisation():
    assert name_key("Gwangju Science & Technology") == name_key("gwangju science and technology")
    assert name_key("イ・ヨンソプ") == name_key("イヨンソプ")
    assert roman_key("Lee Yong-seop") == roman_key("Yongsup Lee")
    assert strip_particle("광주시는") == "광주시"
    assert strip_particle("서울시와") == "서울시"


# --- mentions and linking ---------------------------------------------------------------------------------------------


def test_english_mentions_link_titles_and_bare_surnames_to_the_named_person():
    text = (
        "Mayor Lee Yong-seop said the city of Gwangju will grow. "
        "Choi Ki-young Minister of Science and ICT attended. The Minister Choi said it was good. Lee added more."
    )
    found = _mentions(text, "en")
    assert ("Lee Yong-seop", "PERSON", "per:lee_yong_seop") in found
    assert ("Choi", "PERSON", "per:choi_ki_young") in found
    assert ("Lee", "PERSON", "per:lee_yong_seop") in found
    assert ("Gwangju", "LOC", "loc:gwangju") in found


def test_unknown_names_are_still_extracted_as_discovered_entities():
    text = "The city signed a deal with Hanbit Robotics Corporation and Kim Min-jun of Daebong Institute."
    found = {(s, t) for s, t, _ in _mentions(text, "en")}
    assert ("Hanbit Robotics Corporation", "ORG") in found
    assert ("Kim Min-jun", "PERSON") in found
    assert ("Daebong Institute", "ORG") in found
    ids = {e for s, _, e in _mentions(text, "en") if s == "Hanbit Robotics Corporation"}
    assert ids == {discovered_id("ORG", "Hanbit Robotics Corporation")}


def test_near_spellings_of_registry_names_link_to_the_registry_entity():
    found = _mentions("Gwangju signed with Gwangju Techo Park yesterday.", "en")
    assert ("Gwangju Techo Park", "ORG", "org:gwangju_technopark") in found


def test_page_furniture_never_becomes_a_mention():
    text = "KAIST opened a lab.\nCopyright © The KAIST Herald Unauthorized reproduction prohibited"
    surfaces = [s for s, _, _ in _mentions(text, "en")]
    assert surfaces == ["KAIST"]


def test_korean_mentions_strip_particles_and_resolve_titles():
    text = "이용섭 광주시장은 한빛연구원과 협약했다. 이 시장은 만족했다. 김철수 교수가 참석했다."
    found = _mentions(text, "ko")
    assert ("이용섭", "PERSON", "per:lee_yong_seop") in found
    assert ("광주", "LOC", "loc:gwangju") in found
    assert ("한빛연구원", "ORG", discovered_id("ORG", "한빛연구원")) in found
    assert ("이", "PERSON", "per:lee_yong_seop") in found
    assert any(s == "김철수" and t == "PERSON" for s, t, _ in found)


def test_japanese_middle_dot_names_and_titles_resolve_to_the_person():
    text = (
        "イ・ヨンソプ光州広域市長は訪問した。イ市長はパロアルト研究所と業務協約を結んだ。株式会社エンコアードも参加。"
    )
    found = _mentions(text, "ja")
    assert ("イ・ヨンソプ", "PERSON", "per:lee_yong_seop") in found
    assert ("イ", "PERSON", "per:lee_yong_seop") in found
    assert ("光州広域市", "LOC", "loc:gwangju") in found
    assert ("パロアルト研究所", "ORG", "org:parc") in found
    assert any(s == "株式会社エンコアード" and t == "ORG" for s, t, _ in found)


@pytest.mark.parametrize("backend", ["rules", "sudachi"])
def test_both_japanese_backends_find_registry_and_pattern_names(backend):
    found = _mentions("山田太郎さんは東京大学で講演した。", "ja", ja_backend=backend)
    assert any(t == "PERSON" for _, t, _ in found)
    assert ("東京大学", "ORG", "org:u_tokyo") in found


@pytest.mark.slow
def test_kiwi_backend_adds_korean_proper_nouns_the_rules_miss():
    articles = _articles(("손흥민은 어제 런던에서 골을 넣었다.", "ko", None))
    assert "손흥민" not in extract_facts(articles).mentions["surface"].to_list()
    assert "손흥민" in extract_facts(articles, ko_backend="kiwi").mentions["surface"].to_list()


# --- figures and dates ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value", "unit", "approximate"),
    [
        ("an investment of 7.2 billion won.", "money", 7.2e9, "KRW", False),
        ("the city will invest $400 billion", "money", 4e11, "USD", False),
        ("총 400억 원을 투입", "money", 4e10, "KRW", False),
        ("1조 2천억원 규모", "money", 1.2e12, "KRW", False),
        ("3億円を調達", "money", 3e8, "JPY", False),
        ("約5000万円", "money", 5e7, "JPY", True),
        ("on 46,200㎡ of land", "area", 46200.0, "m2", False),
        ("연면적 1,098㎡", "area", 1098.0, "m2", False),
        ("about 200 people came", "count", 200.0, None, True),
        ("연구소 280여 개가", "count", 280.0, None, True),
        ("over the next 10 years", "duration", 10.0, "year", False),
        ("3년 만에", "duration", 3.0, "year", False),
        ("up 12.5% from", "percent", 12.5, "%", False),
    ],
)
def test_figures_are_normalised(text, kind, value, unit, approximate):
    figures = [f for f in find_figures(text) if f.kind == kind]
    assert figures, text
    f = figures[0]
    assert f.value == pytest.approx(value)
    assert f.unit == unit
    assert f.approximate is approximate


@pytest.mark.parametrize(
    ("text", "counted"),
    [
        ("Two professors and 34 graduate students", "graduate students"),
        ("석사 40명", "석사"),
        ("83개의 AI 스타트업이 입주", "AI 스타트업"),
        ("地域企業3社による", "地域企業"),
    ],
)
def test_counts_say_what_is_counted(text, counted):
    assert counted in {f.counted for f in find_figures(text) if f.kind == "count"}


def test_cjk_amounts():
    assert parse_cjk_amount("1조 2천억") == pytest.approx(1.2e12)
    assert parse_cjk_amount("5억5천만") == pytest.approx(5.5e8)
    assert parse_cjk_amount("3億") == pytest.approx(3e8)


def test_years_are_left_open_unless_the_text_makes_them_knowable():
    text = "On October 4, they met. In August 2017 they signed. 12월 8일 체결. 9月23日に発足。"
    no_date = [(d.year, d.month, d.day) for d in find_dates(text)]
    assert (None, 10, 4) in no_date
    assert (2017, 8, None) in no_date
    assert (None, 12, 8) in no_date
    assert (None, 9, 23) in no_date
    dated = [(d.year, d.month, d.day) for d in find_dates("On Oct. 28th and January 29th", date(2020, 2, 4))]
    assert dated == [(2019, 10, 28), (2020, 1, 29)]
    # Too far from the publication date to place it in a year.
    assert [d.year for d in find_dates("on June 3", date(2020, 12, 30))] == [None]


def test_sentences_do_not_split_at_abbreviations():
    text = "Mr. Kim met on Oct. 28th at the U.S. embassy. 다음 문장이다.\n次の文。"
    got = [text[a:b] for a, b in sentences(text)]
    assert got == ["Mr. Kim met on Oct. 28th at the U.S. embassy.", "다음 문장이다.", "次の文。"]


# --- events -----------------------------------------------------------------------------------------------------------


def test_four_way_agreement_has_the_subject_and_all_listed_parties_and_its_date():
    body = (
        "On Oct. 28th at the conference room of Gwangju Techno Park, Gwangju signed four-way agreement with the "
        "Institute for Information and Communications Technology, Korea Electronics Technology Institute, "
        "and Gwangju Technopark to foster AI."
    )
    facts = extract_facts(_articles((body, "en", "2019-11-06T18:31:00+09:00")))
    row = facts.agreements.row(0, named=True)
    assert set(row["party_entity_ids"]) == {"loc:gwangju", "org:iitp", "org:keti", "org:gwangju_technopark"}
    assert (row["year"], row["month"], row["day"]) == (2019, 10, 28)
    assert body[row["start"] : row["end"]] == row["surface"]


def test_agreement_with_an_implied_subject_takes_the_article_city():
    body = "서울시는 AI 허브를 키운다. 서울시와 KAIST는 업무협약을 12월 8일 ‘AI 양재허브’에서 체결했다."
    facts = extract_facts(_articles((body, "ko", None)))
    row = facts.agreements.row(0, named=True)
    assert row["kind"] == "mou"
    assert set(row["party_entity_ids"]) == {"loc:seoul", "org:kaist"}  # the venue is not a party
    assert (row["month"], row["day"]) == (12, 8)
    ja = "光州市はAIを進める。イ市長はパロアルト研究所(PARC)と業務協約(MOU)を結びました。"
    row = extract_facts(_articles((ja, "ja", None))).agreements.row(0, named=True)
    assert set(row["party_entity_ids"]) == {"loc:gwangju", "org:parc"}


def test_quotes_name_their_speaker_or_leave_it_null():
    body = (
        "Mayor Lee Yong-seop said, “establishing a cooperative system will be a major driving force for us” "
        "And he added, “following the vision I expect to speed up the work.”\n"
        "“We expect this deal will help reignite our goal”, commented a city official."
    )
    quotes = extract_facts(_articles((body, "en", None))).quotes
    speakers = quotes["speaker_entity_id"].to_list()
    assert speakers == ["per:lee_yong_seop", "per:lee_yong_seop", None]
    for row in quotes.iter_rows(named=True):
        assert body[row["start"] : row["end"]] == row["text"]


# --- tables -----------------------------------------------------------------------------------------------------------


def test_extract_facts_returns_contract_frames_also_for_empty_and_odd_input():
    facts = extract_facts(_articles(("", "und", None), ("   \n\n", "en", None), ("숫자 없음", "ko", "not a date")))
    for frame, table in (
        (facts.mentions, MENTIONS),
        (facts.figures, FIGURES),
        (facts.dates, DATES),
        (facts.agreements, AGREEMENTS),
        (facts.quotes, QUOTES),
    ):
        assert table.check(frame) == []
    empty = extract_facts(_articles())
    assert empty.mentions.height == 0


def test_entity_table_names_registry_and_discovered_entities():
    body = "KAIST and 카이스트 met Hanbit Robotics Corporation. Hanbit Robotics Corporation agreed."
    facts = extract_facts(_articles((body, "en", None)))
    entities = entity_table(facts.mentions.lazy())
    assert ENTITIES.check(entities) == []
    assert set(facts.mentions["entity_id"].drop_nulls()) == set(entities["entity_id"])
    kaist = entities.filter(pl.col("entity_id") == "org:kaist").row(0, named=True)
    assert (kaist["canonical_name"], kaist["origin"]) == ("KAIST", "registry")
    found = entities.filter(pl.col("origin") == "discovered").row(0, named=True)
    assert found["canonical_name"] == "Hanbit Robotics Corporation"
    assert entity_table(MENTIONS.empty().lazy()).height == 0


def test_extraction_is_deterministic():
    rows = (("Gwangju signed an MOU with KEPCO on January 29th.", "en", "2020-02-04T18:49:00+09:00"),)
    first, second = extract_facts(_articles(*rows)), extract_facts(_articles(*rows))
    for name in ("mentions", "figures", "dates", "agreements", "quotes"):
        assert getattr(first, name).equals(getattr(second, name)), name


_TEXT = st.text(
    alphabet=st.sampled_from(
        list(
            "Gwangju KAIST 광주시는 서울 이용섭 시장 光州 イ・ヨンソプ 市長 株式会社 “”「」\"' .,。\n"
            "0123456789억원$%㎡約"
        )
    ),
    max_size=200,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_TEXT, lang=st.sampled_from(["en", "ko", "ja", "und"]))
def test_every_span_reproduces_its_text_in_the_body(body, lang):
    facts = extract_facts(_articles((body, lang, None)))
    for name, column in (("mentions", "surface"), ("figures", "surface"), ("dates", "surface"), ("quotes", "text")):
        for row in getattr(facts, name).iter_rows(named=True):
            assert 0 <= row["start"] < row["end"] <= len(body)
            assert body[row["start"] : row["end"]] == row[column]
    for row in facts.agreements.iter_rows(named=True):
        assert body[row["start"] : row["end"]] == row["surface"]
        assert len(row["party_entity_ids"]) == len(row["party_names"]) >= 2


# --- fast scanning keeps the plain patterns' answers ------------------------------------------------------------------
# Patterns are written so the regex engine can skip to where a match can start (tasks.extract.text.finditer_at,
# word_choice, a gazetteer split by first character, literal pieces tested before a scan): each must find exactly
# what the plain form finds.

_SCAN_PIECES = [
    "one", "Seven", "seventeen", "hundred", "dozens", "years", "Mayor ", "Lee ", "Yong-seop", "US$", "million ",
    "dollars", " won", "1,234", "2019", "Copyright", "All Rights Reserved", "MOU", "treaty", "agreements",
    "signed a deal", "업무 협약", "무단 전재", "同市", "覚書", "©", "page print",
]  # fmt: skip
_SCAN_CHARS = list("aAbBoOnNsStTeEyYdD1234567890 ,.$₩€-\n광주시는개월명원年月間人社・")
_SCAN_TEXT = st.lists(
    st.one_of(st.text(alphabet=st.sampled_from(_SCAN_CHARS), max_size=8), st.sampled_from(_SCAN_PIECES)), max_size=14
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_SCAN_TEXT)
def test_fast_scans_find_what_the_plain_patterns_find(text):
    import re

    from tasks.extract import _FURNITURE, _FURNITURE_HINTS
    from tasks.extract.agreements import _TRIGGER, _TRIGGER_HINTS
    from tasks.extract.figures import _EN_MONEY, _EN_MONEY_FIRST, WORD_NUMBERS
    from tasks.extract.text import finditer_at, word_choice

    def spans(matches):
        return [(m.span(), m.groups()) for m in matches]

    assert spans(finditer_at(_EN_MONEY, _EN_MONEY_FIRST, text)) == spans(_EN_MONEY.finditer(text))
    plain = "|".join(f"[{w[0].upper()}{w[0]}]{w[1:]}" for w in sorted(WORD_NUMBERS, key=len, reverse=True))
    assert spans(re.finditer(rf"({word_choice(WORD_NUMBERS)})\b", text)) == spans(re.finditer(rf"\b({plain})\b", text))
    for pattern, hints in ((_FURNITURE, _FURNITURE_HINTS), (_TRIGGER, _TRIGGER_HINTS)):
        if pattern.search(text):
            assert any(hint in text for hint in hints), text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(st.sampled_from([a for a, _ in load_registry().surface_forms()] + [" ", "는", "x"])).map(" ".join))
def test_the_gazetteer_split_by_first_character_finds_what_one_pattern_finds(text):
    from tasks.extract.gazetteer import build_gazetteer

    single = build_gazetteer(load_registry(), group=100_000)
    assert len(single.patterns) == 1
    assert list(default_gazetteer().find(text)) == list(single.find(text))
