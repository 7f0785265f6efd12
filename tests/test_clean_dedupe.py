"""Duplicate clusters: exact copies by content hash, edited copies by MinHash, canonical member choice."""

# ruff: noqa: RUF001 - the fixtures are Korean, Japanese and mojibake text on purpose.

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from tasks.clean import assign_duplicates
from tasks.clean.dedupe import SIGNATURE_SIZE, content_hash, signature
from tasks.schemas import ARTICLES

T0 = datetime(2024, 5, 1, tzinfo=UTC)

STORY_KO = (
    "서울시는 인공지능 산업 허브로 육성 중인 양재 R&D 혁신지구에 KAIST AI 대학원을 유치했다고 밝혔다. "
    "서울시와 KAIST는 이런 내용의 업무협약을 12월 8일 AI 양재허브에서 체결했다. 시는 실리콘밸리 같은 "
    "혁신산업 허브를 만들기 위해서는 교육기관 유치가 반드시 필요하다고 보고 유치를 강력하게 추진해왔다."
)
STORY_JA = (
    "光州広域市は、米国シリコンバレーを訪問し、世界的研究機関やベンチャーキャピタルとの技術協力、共同研究、"
    "グローバル市場開拓のための協力などの成果を収めたと明らかにしました。市は今後の計画も説明しました。"
)
STORY_EN = (
    "The city of Gwangju held an artificial intelligence declaration ceremony on January 29th at Kimdaejung "
    "Center, where about 700 people were present including the mayor and the minister of science and ICT."
)


def frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    full = []
    for i, r in enumerate(rows):
        body = str(r["body"])
        full.append(
            {
                "article_id": r["article_id"],
                "source_uri": f"u/{r['article_id']}",
                "language": "und",
                "body": body,
                "body_chars": len(body),
                "content_sha256": content_hash(body),
                "raw_sha256": "0" * 64,
                "fetched_at": r.get("fetched_at", T0 + timedelta(minutes=i)),
                "published_at": r.get("published_at"),
                "run_id": "r",
                "minhash": signature(body),
            }
        )
    return ARTICLES.conform(pl.DataFrame(full))


def clusters(rows: list[dict[str, object]]) -> dict[str, tuple[str, bool]]:
    out = assign_duplicates(frame(rows))
    return {
        aid: (cid, canon)
        for aid, cid, canon in zip(out["article_id"], out["duplicate_cluster_id"], out["is_canonical"], strict=True)
    }


def test_signature_is_deterministic_and_has_fixed_size():
    assert signature(STORY_KO) == signature(STORY_KO)
    assert len(signature(STORY_KO)) == SIGNATURE_SIZE
    assert len(signature("짧다")) == SIGNATURE_SIZE
    assert signature(STORY_KO) != signature(STORY_JA)


def test_copies_differing_in_spacing_and_case_are_exact_duplicates():
    assert content_hash(STORY_EN) == content_hash(STORY_EN.upper().replace(" ", "  "))


def test_exact_and_edited_copies_cluster_in_korean_japanese_and_english():
    edited_ko = STORY_KO.replace("강력하게 추진해왔다.", "강력하게 추진해왔다. 문의 경제정책실.")
    edited_ja = STORY_JA + "（追記あり）"
    edited_en = STORY_EN.replace("about 700", "nearly 700")
    got = clusters(
        [
            {"article_id": "ko1", "body": STORY_KO},
            {"article_id": "ko2", "body": edited_ko},
            {"article_id": "ja1", "body": STORY_JA},
            {"article_id": "ja2", "body": edited_ja},
            {"article_id": "en1", "body": STORY_EN},
            {"article_id": "en2", "body": edited_en},
            {"article_id": "en3", "body": STORY_EN},
        ]
    )
    # Undated copies: the most complete (longest) body is canonical.
    assert got["ko1"] == ("ko2", False)
    assert got["ko2"] == ("ko2", True)
    assert got["ja1"] == ("ja2", False)
    assert got["en1"][0] == got["en2"][0] == got["en3"][0] == "en2"
    assert len({cid for cid, _ in got.values()}) == 3
    assert sum(canon for _, canon in got.values()) == 3


def test_different_articles_stay_apart():
    other_en = (
        "Seoul announced on Monday that it would expand its robotics startup fund to 50 billion won next year, "
        "with grants for hardware companies in Guro and Geumcheon districts."
    )
    got = clusters(
        [
            {"article_id": "a", "body": STORY_EN},
            {"article_id": "b", "body": other_en},
            {"article_id": "c", "body": STORY_KO},
        ]
    )
    assert all(cid == aid and canon for aid, (cid, canon) in got.items())


def test_earliest_published_member_is_canonical_and_names_the_cluster():
    got = clusters(
        [
            {"article_id": "late", "body": STORY_EN, "published_at": T0 + timedelta(days=2)},
            {"article_id": "early", "body": STORY_EN + " More.", "published_at": T0},
            {"article_id": "undated", "body": STORY_EN},
        ]
    )
    assert got == {"late": ("early", False), "early": ("early", True), "undated": ("early", False)}


def test_articles_without_a_signature_cluster_by_content_hash_only():
    rows = frame(
        [
            {"article_id": "a", "body": STORY_EN},
            {"article_id": "b", "body": STORY_EN},
            {"article_id": "c", "body": STORY_KO},
        ]
    )
    rows = rows.with_columns(pl.lit(None, dtype=pl.List(pl.UInt32)).alias("minhash"))
    out = assign_duplicates(rows)
    assert out["duplicate_cluster_id"].to_list() == ["a", "a", "c"]
    assert out.columns == rows.columns


def test_empty_article_set_is_returned_unchanged():
    out = assign_duplicates(ARTICLES.empty())
    assert out.height == 0
    assert ARTICLES.check(out) == []
