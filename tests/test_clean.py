"""Clean step: hygiene, page furniture, captions, metadata, language, rejects and paragraph offsets."""

# ruff: noqa: RUF001 - the fixtures are Korean, Japanese and mojibake text on purpose.

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.clean import clean_documents
from tasks.clean.furniture import widget_phrases
from tasks.clean.language import detect_language
from tasks.clean.text import fix_text
from tasks.schemas import ARTICLES, CAPTIONS, PARAGRAPHS, RAW_DOCUMENTS, REJECTS

FETCHED = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
SENTENCE = "The city of Gwangju opened an AI hub in its tech district on Monday, officials said."

ENGLISH_STORY = (
    "Gwangju Launches AI Data Center Plan\n"
    "Gwangju Launches AI Data Center Plan\n"
    "  • 김철수 기자\n"
    "  • 입력 2021-03-02 09:15\n"
    "  • 댓글 0\n"
    "이 기사를 공유합니다\n\n"
    "시민들이 새 데이터센터 부지를 둘러보고 있다. ©광주일보\n"
    "시민들이 새 데이터센터 부지를 둘러보고 있다. ©광주일보\n\n"
    "(광주일보=김철수 기자) The city of Gwangju said on Tuesday it will build a data center for artificial "
    "intelligence research in its high-tech district by the end of next year.\n\n"
    "The project will cost 30 billion won, and the city expects about 100 companies to use the center "
    "within the first three years of its operation.\n\n"
    "“This is the first step towards an AI city,” the mayor told reporters after the announcement.\n\n"
    "삭제한 댓글은 다시 복구할 수 없습니다.\n"
    "그래도 삭제하시겠습니까?\n"
    "댓글 0\n"
    "  • 광주시, 인공지능 예산 확대\n"
    "  • 전남도, 신재생에너지 단지 조성\n"
)

KOREAN_STORY = (
    "서울시, 양재에 AI 허브 확대\n\n"
    "서울시는 인공지능 산업 허브로 육성 중인 양재 지역에 새 연구시설을 열었다고 밝혔다.\n\n"
    "시는 이번 시설이 스타트업과 대학의 협력을 넓히는 거점이 될 것으로 기대하고 있다.\n\n"
    "저작권자 © 서울경제신문 무단전재 및 재배포 금지\n"
    "WEDDINGS\n"
    "Get In Touch\n"
)

JAPANESE_STORY = (
    "ニュース\n\n"
    "  • page print\n"
    "  • page download\n\n"
    "光州市、AI研究所の設立で米企業と協約\n\n"
    "작성자 : admin작성일 : 2019-10-29 13:278\n"
    "光州広域市は、米国の研究機関と人工知能の共同研究のための業務協約を結んだと明らかにしました。\n\n"
    "市は今後、地域企業の技術開発を支援する計画です。\n"
)


def doc(text: str, **fields: object) -> dict[str, object]:
    """One RAW_DOCUMENTS row."""
    aid = str(fields.pop("article_id", f"a{abs(hash(text)) % 10**12:012d}"))
    return {
        "article_id": aid,
        "source_uri": f"docs/{aid}.txt",
        "canonical_uri": f"docs/{aid}.txt",
        "source_name": "docs",
        "raw_sha256": "0" * 64,
        "media_type": "text/plain",
        "text": text,
        "fetched_at": FETCHED,
        **fields,
    }


def clean(*rows: dict[str, object]):
    return clean_documents(RAW_DOCUMENTS.conform(pl.DataFrame(list(rows))), run_id="test", now=FETCHED)


def only_article(*rows: dict[str, object]) -> dict[str, object]:
    result = clean(*rows)
    assert result.rejects.height == 0, result.rejects["detail"].to_list()
    return result.articles.row(0, named=True)


# --- hygiene ------------------------------------------------------------------------------------------------------


def test_mojibake_is_repaired_and_text_is_nfc_not_nfkc():
    broken = "ì•ˆë…•í•˜ì„¸ìš” Â© 2019"
    assert fix_text(broken) == "안녕하세요 © 2019"
    decomposed = unicodedata.normalize("NFD", "광주 46,200㎡ （株）「ＡＩ」")
    fixed = fix_text(decomposed)
    assert fixed == "광주 46,200㎡ （株）「ＡＩ」"  # NFC composes Hangul; ㎡ and full-width forms stay
    assert fix_text("a\u200bb\ufeffc") == "abc"


def test_whitespace_is_folded_and_paragraphs_are_separated_by_one_blank_line():
    text = (
        "A\u00a0city   announced\ta plan for AI research on Monday, officials said.\r\n\r\n\r\n"
        "  Its cost is 3 billion won, said the city in a statement.  "
    )
    art = only_article(doc(text))
    assert art["body"] == (
        "A city announced a plan for AI research on Monday, officials said.\n\n"
        "Its cost is 3 billion won, said the city in a statement."
    )


# --- furniture and captions ---------------------------------------------------------------------------------------


def test_english_article_loses_korean_widgets_related_list_and_byline_but_keeps_text():
    art = only_article(doc(ENGLISH_STORY))
    body = art["body"]
    assert body.startswith("The city of Gwangju said on Tuesday")
    assert "30 billion won" in body
    assert "the mayor told reporters" in body
    for furniture in ("이 기사를 공유합니다", "댓글", "삭제한 댓글", "광주시, 인공지능", "입력 2021", "광주일보=", "©"):
        assert furniture not in body
    assert body.count("Gwangju Launches AI Data Center Plan") == 0
    assert art["language"] == "en"


def test_captions_go_to_their_table_once_with_credit_and_language():
    result = clean(doc(ENGLISH_STORY, article_id="story"))
    captions = result.captions
    assert CAPTIONS.check(captions) == []
    assert captions.height == 1
    row = captions.row(0, named=True)
    assert row["text"] == "시민들이 새 데이터센터 부지를 둘러보고 있다."
    assert row["credit"] == "©광주일보"
    assert row["language"] == "ko"
    assert row["caption_id"] == "story:0"


def test_near_identical_caption_lines_collapse_to_the_longer_wording():
    text = (
        "The mayor visits the site last 29th at KDJ Center. ©AI Times\n"
        "The mayor visits the site on January 29th at KDJ Center. ©AI Times\n"
        "The mayor of Gwangju visited the planned data center site on January 29th with officials.\n"
    )
    result = clean(doc(text))
    assert result.captions["text"].to_list() == ["The mayor visits the site on January 29th at KDJ Center."]


def test_korean_article_loses_copyright_notice_and_template_filler_in_another_language():
    art = only_article(doc(KOREAN_STORY))
    assert art["title"] == "서울시, 양재에 AI 허브 확대"
    assert art["publisher"] == "서울경제신문"
    assert "WEDDINGS" not in art["body"]
    assert "Get In Touch" not in art["body"]
    assert "저작권자" not in art["body"]
    assert art["body"].endswith("기대하고 있다.")
    assert art["language"] == "ko"


def test_japanese_article_loses_print_links_and_meta_line_and_parses_the_glued_time():
    art = only_article(doc(JAPANESE_STORY))
    assert art["title"] == "光州市、AI研究所の設立で米企業と協約"
    for furniture in ("ニュース", "page print", "page download", "admin", "13:278", "작성일"):
        assert furniture not in art["body"]
    assert art["published_at_local"] == "2019-10-29T13:27:00+09:00"  # the trailing 8 is a view counter
    assert art["published_at"] == datetime(2019, 10, 29, 4, 27, tzinfo=UTC)
    assert art["author"] is None  # 'admin' is a placeholder, not an author
    assert art["language"] == "ja"


def test_lines_repeated_across_documents_of_one_source_are_furniture():
    footer = "\nSubscribe now for more AI stories\nMore from our newsroom today"
    a = "A city in Korea opened an AI research hub on Monday, officials said." + footer
    b = "A second city announced a budget for robotics startups on Tuesday, officials said." + footer
    result = clean(doc(a, article_id="a"), doc(b, article_id="b"))
    bodies = dict(zip(result.articles["article_id"], result.articles["body"], strict=True))
    assert "Subscribe now" not in bodies["a"]
    assert "More from our newsroom" not in bodies["b"]
    lone = only_article(
        doc("A city in Korea opened an AI research hub, officials said.\nSee you at the hub on Monday.")
    )
    assert "See you at the hub" in lone["body"]


def test_two_copies_of_one_article_in_a_batch_keep_their_text():
    text = "The city will open a new AI campus.\nIt will house 40 research labs by 2025, the city said."
    result = clean(doc(text, article_id="a"), doc(text, article_id="b"))
    assert result.rejects.height == 0
    assert set(result.articles["body"]) == {
        "The city will open a new AI campus.\n\nIt will house 40 research labs by 2025, the city said."
    }


def test_every_widget_phrase_in_the_data_file_is_removed_from_bodies():
    phrases = [p for ps in widget_phrases().values() for p in ps]
    assert phrases, "the widget phrase file is empty"
    text = "The city opened a new AI campus on Monday, the mayor said.\n" + "\n".join(phrases)
    text += "\nIt will house 40 research labs by 2025, the city said in a statement."
    body = only_article(doc(text))["body"]
    for phrase in phrases:
        assert not any(line.casefold().startswith(phrase.casefold()) for line in body.split("\n")), phrase


def test_duplicated_lines_inside_one_document_are_kept_once():
    text = (
        "Gwangju plans an AI cluster in its tech district.\n" * 2 + "The cost is 400 billion won, the city said today."
    )
    body = only_article(doc(text))["body"]
    assert body.count("Gwangju plans an AI cluster") == 1


# --- metadata -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "offset", "expected"),
    [
        ("  • 승인 2019.11.06 18:31", None, "2019-11-06T18:31:00+09:00"),
        ("  • 입력 2020-02-04 18:49", None, "2020-02-04T18:49:00+09:00"),
        ("기사입력 2020.02.04 오후 6:49 | 수정 2020.02.05 10:00", None, "2020-02-04T18:49:00+09:00"),
        ("등록 2021년 3월 2일 9시 5분", None, "2021-03-02T09:05:00+09:00"),
        ("公開日：2019年11月6日（水）18時31分", None, "2019-11-06T18:31:00+09:00"),
        ("2012-02-19T13:00:00+0900", None, "2012-02-19T13:00:00+09:00"),
        ("Published: Nov. 6, 2019 6:31 PM", "-05:00", "2019-11-06T18:31:00-05:00"),
        ("Posted on 6 November 2019", "+00:00", "2019-11-06"),
    ],
)
def test_publication_time_is_parsed_from_header_lines(line, offset, expected):
    text = f"Gwangju opens AI hub\n{line}\n{SENTENCE}"
    art = only_article(doc(text, meta_utc_offset=offset))
    assert art["published_at_local"] == expected
    stated = datetime.fromisoformat(expected)
    if "T" in expected:
        assert art["published_at"] == stated.astimezone(UTC)


def test_undated_english_article_has_null_time_not_the_fetch_time():
    art = only_article(doc("On October 4, 2019, KAIST and Seongnam reached an agreement on AI research."))
    assert art["published_at"] is None
    assert art["published_at_local"] is None


def test_a_revision_time_alone_is_not_a_publication_time():
    text = f"Updated: 2020-02-05 10:00\n{SENTENCE}"
    assert only_article(doc(text))["published_at"] is None


def test_a_date_inside_a_headline_is_not_a_publication_time():
    text = "2014년 8월 18일 뉴스브리핑\n오늘은 국내 인공지능 정책과 관련한 소식을 정리했습니다. 정부는 예산안을 냈다."
    art = only_article(doc(text))
    assert art["title"] == "2014년 8월 18일 뉴스브리핑"
    assert art["published_at"] is None


def test_english_time_without_an_offset_keeps_local_time_and_no_instant():
    text = "Posted: March 3, 2020 10:00\nThe council approved a new AI strategy for the region on Tuesday, it said."
    art = only_article(doc(text))
    assert art["published_at_local"] == "2020-03-03T10:00:00"
    assert art["published_at"] is None  # the zone is not knowable, so no instant is invented


@pytest.mark.parametrize(
    ("text", "author", "publisher"),
    [
        (
            "(AI타임스=박혜섭 기자) The city of Gwangju signed an agreement with four institutes on Monday.",
            "박혜섭",
            "AI타임스",
        ),
        (
            "The city of Gwangju signed an agreement with four institutes on Monday.\n/written by Hyesub Park",
            "Hyesub Park",
            None,
        ),
        ("  • 박혜섭 기자\n광주시는 인공지능 연구기관 네 곳과 업무협약을 맺었다고 밝혔다.", "박혜섭", None),
        (
            (
                "KAIST and Seongnam reached an agreement on AI research on Monday.\n"
                "Copyright © The KAIST Herald Unauthorized reproduction, redistribution prohibited"
            ),
            None,
            "The KAIST Herald",
        ),
        ("By Jane Doe and John Roe\nThe council approved a new AI strategy on Tuesday.", "Jane Doe; John Roe", None),
    ],
)
def test_bylines_give_authors_and_copyright_lines_or_outlets_give_publishers(text, author, publisher):
    art = only_article(doc(text))
    assert art["author"] == author
    assert art["publisher"] == publisher
    assert "기자" not in art["body"]
    assert "written by" not in art["body"]


def test_source_configuration_names_the_publisher_when_the_document_does_not():
    art = only_article(doc("The council approved a new AI strategy on Tuesday.", meta_publisher="Gwangju Daily"))
    assert art["publisher"] == "Gwangju Daily"


def test_title_is_null_when_the_document_opens_with_its_text():
    art = only_article(doc("On October 4, KAIST and Seongnam city reached an agreement to nurture AI researchers."))
    assert art["title"] is None


def test_stated_title_loses_its_site_name_and_its_copy_in_the_body():
    text = "Gwangju opens AI hub\nThe city of Gwangju opened an AI hub in its tech district on Monday, officials said."
    art = only_article(doc(text, meta_title="Gwangju opens AI hub | Korea Tech Daily"))
    assert art["title"] == "Gwangju opens AI hub"
    assert "Gwangju opens AI hub" not in art["body"]


# --- language -----------------------------------------------------------------------------------------------------


def test_paragraph_languages_mark_a_korean_paragraph_inside_an_english_article():
    text = (
        "The city of Gwangju said on Tuesday it will build a data center for artificial intelligence research.\n"
        "광주시는 인공지능 연구를 위한 데이터센터를 첨단지구에 짓겠다고 화요일 밝혔다.\n"
        "The project will cost 30 billion won, and the city expects about 100 companies to use the center."
    )
    result = clean(doc(text, article_id="mixed"))
    assert result.articles["language"].to_list() == ["en"]
    assert result.paragraphs["language"].to_list() == ["en", "ko", "en"]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("光州市は人工知能の研究所を設立すると発表しました。", "ja"),
        ("광주시는 인공지능 연구소를 설립한다고 밝혔다.", "ko"),
        ("光州市宣布将建立人工智能研究所，并与多家企业签署合作协议。", "zh"),
        ("Город Кванджу объявил о создании исследовательского центра искусственного интеллекта.", "ru"),
        ("La ville de Gwangju a signé des accords d'investissement avec dix entreprises pour le centre.", "fr"),
        ("Die Stadt Gwangju hat mit zehn Unternehmen Verträge über die Ansiedlung unterzeichnet.", "de"),
        ("Gwangju assists Gov to Dilate AI Industry", "en"),
        ("1,234 / 5,678", "und"),
    ],
)
def test_languages_outside_the_source_set_are_labelled_not_forced(text, language):
    assert detect_language(text) == language


# --- rejects, offsets, contract -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty_text"),
        ("   \n\u200b\n\t\n", "empty_text"),
        (
            "이 기사를 공유합니다\n댓글 0\n  • page print\nCopyright © Example News. All rights reserved.",
            "boilerplate_only",
        ),
    ],
)
def test_documents_without_article_text_become_rejects_with_a_reason(text, reason):
    result = clean(
        doc(text, article_id="empty"), doc("The council approved a new AI strategy on Tuesday.", article_id="ok")
    )
    assert result.articles["article_id"].to_list() == ["ok"]
    assert REJECTS.check(result.rejects) == []
    row = result.rejects.row(0, named=True)
    assert (row["article_id"], row["stage"], row["reason"]) == ("empty", "clean", reason)
    assert row["detail"]


def test_tables_follow_the_contract_and_paragraph_offsets_point_into_the_body():
    result = clean(
        doc(ENGLISH_STORY, article_id="en"), doc(KOREAN_STORY, article_id="ko"), doc(JAPANESE_STORY, article_id="ja")
    )
    assert ARTICLES.check(result.articles) == []
    assert PARAGRAPHS.check(result.paragraphs) == []
    bodies = dict(zip(result.articles["article_id"], result.articles["body"], strict=True))
    for row in result.paragraphs.iter_rows(named=True):
        text = bodies[row["article_id"]][row["start"] : row["end"]]
        assert text
        assert "\n" not in text
    rebuilt = (
        result.paragraphs.sort("article_id", "ordinal")
        .group_by("article_id", maintain_order=True)
        .agg(pl.col("end").last())
    )
    for aid, end in rebuilt.iter_rows():
        assert end == len(bodies[aid])
    assert all(len(sig) == 64 for sig in result.articles["minhash"])


def test_cleaning_is_deterministic():
    rows = [doc(ENGLISH_STORY, article_id="en"), doc(KOREAN_STORY, article_id="ko")]
    first, second = clean(*rows), clean(*rows)
    from polars.testing import assert_frame_equal

    assert_frame_equal(first.articles, second.articles)
    assert_frame_equal(first.paragraphs, second.paragraphs)
    assert_frame_equal(first.captions, second.captions)


_TEXT = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80),
        st.sampled_from(
            ["이 기사를 공유합니다", "  • 댓글 0", "승인 2019.11.06 18:31", "©AI타임스", "光州市は発表しました。"]
        ),
    ),
    max_size=12,
).map("\n".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(_TEXT, min_size=1, max_size=3))
def test_any_text_gives_an_article_or_a_reject_and_valid_offsets(texts):
    rows = [doc(t, article_id=f"d{i}") for i, t in enumerate(texts)]
    result = clean(*rows)
    assert result.articles.height + result.rejects.height == len(rows)
    assert (result.articles["body_chars"] > 0).all()
    bodies = dict(zip(result.articles["article_id"], result.articles["body"], strict=True))
    for row in result.paragraphs.iter_rows(named=True):
        assert 0 <= row["start"] < row["end"] <= len(bodies[row["article_id"]])


def test_a_stated_title_that_is_only_the_site_name_gives_way_to_the_heading():
    text = "Gwangju opens AI hub\n" + SENTENCE
    art = only_article(doc(text, meta_title="Korea Tech Daily", meta_publisher="Korea Tech Daily"))
    assert art["title"] == "Gwangju opens AI hub"


def test_a_site_address_beside_the_copyright_owner_is_not_part_of_the_publisher():
    text = SENTENCE + "\n저작권자 ⓒ 엔터미디어(www.entermedia.co.kr), 무단전재 및 재배포금지"
    assert only_article(doc(text))["publisher"] == "엔터미디어"


# --- shortcuts keep the full computation's answers --------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.text(alphabet=st.sampled_from(list("aZé가나アイ漢字Жж ,.\n1")), max_size=30), max_size=8),
    limit=st.integers(min_value=0, max_value=150),
)
def test_scripts_of_joined_lines_add_up_from_each_line(parts, limit):
    from tasks.clean.text import joined_scripts, scripts

    assert joined_scripts([(p, scripts(p)) for p in parts], limit) == scripts("\n".join(parts)[:limit])


@settings(max_examples=300, deadline=None)
@given(
    window=st.lists(
        st.one_of(
            st.sampled_from(["Photo", "PHOTO", "ımage", "İMAGE", "courteſy", "Credit", "(C)", "ⓒ", "Ⓒ", "©", "사진"]),
            st.text(alphabet=st.sampled_from(list("aEiIsSkK ()=:/ıİſ사진写")), max_size=5),
        ),
        max_size=6,
    ).map("".join)
)
def test_the_caption_precheck_never_skips_a_line_with_a_credit(window):
    from tasks.clean.captions import _ANY_CREDIT, _may_credit

    if _ANY_CREDIT.search(window):
        assert _may_credit(window)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_keys_drop_exactly_what_the_non_word_substitution_drops(text):
    import re

    from tasks.clean.dedupe import content_key
    from tasks.clean.text import norm_key

    assert content_key(text) == norm_key(text) == re.sub(r"[\W_]+", "", text.casefold())
