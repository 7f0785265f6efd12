"""Cross-table and text checks as derived columns, so expectation suites can gate them like any other column.

Derived columns start with `_`: `_check_*` are booleans that must be true; `_widget_phrase` holds the page-furniture
phrase a body still contains (must be null). They are computed with polars, where joins over a large corpus are
cheap, and only these columns (not the bodies) are handed to Great Expectations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import polars as pl

# Column holding the text each span table's offsets must reproduce (paragraphs have offsets but no text).
SPAN_TEXT: dict[str, str | None] = {
    "mentions": "surface",
    "figures": "surface",
    "dates": "surface",
    "agreements": "surface",
    "quotes": "text",
    "paragraphs": None,
}
# Tables whose article_id must exist in articles (rejects may name articles that never made it).
ARTICLE_CHILDREN = ("captions", "paragraphs", "translations", "mentions", "figures", "dates", "agreements", "quotes")
DERIVED_PREFIX = "_"
BODY_SLICE = "_body_slice"
WIDGET_PHRASES_FILE = Path(__file__).resolve().parents[1] / "clean" / "data" / "widget_phrases.yaml"


@cache
def widget_phrases(path: Path = WIDGET_PHRASES_FILE) -> dict[str, tuple[str, ...]]:
    """Page-furniture phrases per language from the clean step's data file (empty when the file is absent)."""
    import yaml

    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(lang): tuple(str(p) for p in (phrases or []) if str(p).strip()) for lang, phrases in data.items()}


def widget_pattern(phrases: Mapping[str, Sequence[str]]) -> str | None:
    """One case-insensitive regex matching any phrase at the start of a line, capturing the phrase."""
    every = sorted({p.strip() for ps in phrases.values() for p in ps if p.strip()}, key=len, reverse=True)
    if not every:
        return None
    # Phrases of every language apply to every body: bodies mix languages, and a Korean share button left in an
    # English article is still furniture. Longest first, so the captured phrase is the most specific one.
    # Like the clean step, skip leading bullets and brackets ('• Share this', '【공유하기】') before the phrase.
    return r"(?im)^[ \t\u3000•·■□▪▶►◆◇▲【\[(*\-]*(" + "|".join(pl.escape_regex(p) for p in every) + ")"


def with_checks(
    name: str,
    frame: pl.DataFrame,
    tables: Mapping[str, pl.DataFrame],
    *,
    phrases: Mapping[str, Sequence[str]] | None = None,
) -> pl.DataFrame:
    """`frame` (table `name`) with the derived columns its suite gates (see the module docstring)."""
    out = frame
    articles = tables["articles"]
    entity_ids = tables["entities"]["entity_id"].drop_nulls().implode() if "entities" in tables else None
    if name in ARTICLE_CHILDREN and "article_id" in frame.columns:
        out = out.with_columns(
            pl.col("article_id").is_in(articles["article_id"].implode()).alias("_check_article_exists")
        )
    if name in SPAN_TEXT and {"start", "end", "article_id"} <= set(frame.columns):
        out = _span_checks(out, articles, SPAN_TEXT[name])
    if name == "articles":
        out = _article_checks(out, widget_phrases() if phrases is None else phrases)
    if entity_ids is not None:
        out = _entity_checks(name, out, entity_ids)
    return out


# Spans checked against their bodies per slice of this many rows: the join hands each row its article's body, and
# polars materialises those bodies for the slicing, so one slice is at most ~CHUNK x a body (~70 MB), not the
# whole table's worth (a million mentions x 3.5 KB bodies once took 4 GB and most of validation's time).
SPAN_CHUNK_ROWS = 20_000


def _span_checks(frame: pl.DataFrame, articles: pl.DataFrame, text_col: str | None) -> pl.DataFrame:
    lengths = articles.select("article_id", pl.col("body").str.len_chars().alias("_body_len"))
    spans = frame.select("article_id", "start", "end").join(lengths, on="article_id", how="left", maintain_order="left")
    in_body = spans.select(
        ((pl.col("start") >= 0) & (pl.col("start") < pl.col("end")) & (pl.col("end") <= pl.col("_body_len")))
        .fill_null(value=False)
        .alias("_check_span_in_body")
    )
    out = frame.with_columns(in_body)
    if not text_col:
        return out
    bodies = articles.select("article_id", pl.col("body").alias("_body"))
    sliced = pl.col("_body").str.slice(pl.col("start"), pl.col("end") - pl.col("start"))
    matches = []
    for offset in range(0, max(frame.height, 1), SPAN_CHUNK_ROWS):
        chunk = frame.slice(offset, SPAN_CHUNK_ROWS).select("article_id", "start", "end", text_col)
        joined = chunk.join(bodies, on="article_id", how="left", maintain_order="left")
        matches.append(joined.select((sliced == pl.col(text_col)).fill_null(value=False).alias("_check_span_matches")))
    out = out.with_columns(pl.concat(matches)["_check_span_matches"])
    if not out["_check_span_matches"].all():
        # Only failing rows pay for the slice: it shows what their offsets point at next to the surface.
        rows = out.select("article_id", "start", "end", "_check_span_matches").with_row_index("_row")
        failing = rows.filter(~pl.col("_check_span_matches")).join(bodies, on="article_id", how="left")
        shown = rows.select("_row").join(failing.select("_row", sliced.alias(BODY_SLICE)), on="_row", how="left")
        out = out.with_columns(shown.sort("_row")[BODY_SLICE])
    return out


def _article_checks(frame: pl.DataFrame, phrases: Mapping[str, Sequence[str]]) -> pl.DataFrame:
    pattern = widget_pattern(phrases)
    body = pl.col("body")
    return frame.with_columns(
        (pl.col("body_chars") == body.str.len_chars()).fill_null(value=False).alias("_check_body_chars_matches"),
        (body.str.extract(pattern, 1) if pattern else pl.lit(None, pl.String)).alias("_widget_phrase"),
    )


def _entity_checks(name: str, frame: pl.DataFrame, entity_ids: pl.Series) -> pl.DataFrame:
    if name == "mentions" and "entity_id" in frame.columns:
        return frame.with_columns(
            (pl.col("entity_id").is_null() | pl.col("entity_id").is_in(entity_ids)).alias("_check_entity_exists")
        )
    if name == "quotes" and "speaker_entity_id" in frame.columns:
        return frame.with_columns(
            (pl.col("speaker_entity_id").is_null() | pl.col("speaker_entity_id").is_in(entity_ids)).alias(
                "_check_speaker_exists"
            )
        )
    if name == "agreements" and {"party_entity_ids", "party_names"} <= set(frame.columns):
        # Null list elements are unlinked parties; every linked one must exist.
        linked = pl.col("party_entity_ids").list.drop_nulls()
        return frame.with_columns(
            linked.list.eval(pl.element().is_in(entity_ids))
            .list.all()
            .fill_null(value=True)
            .alias("_check_parties_exist"),
            (pl.col("party_entity_ids").list.len() == pl.col("party_names").list.len())
            .fill_null(value=False)
            .alias("_check_parties_aligned"),
        )
    return frame
