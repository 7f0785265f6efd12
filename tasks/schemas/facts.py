"""Facts extracted from article bodies: entities, their mentions, figures, dates, agreements and quotes.

Every per-article fact carries `start`/`end` character offsets into `articles.body` so that
`body[start:end] == surface` (or `text` for quotes).
"""

from __future__ import annotations

import polars as pl

from tasks.schemas.core import Column, Table, cols


def _span(what: str) -> tuple[Column, Column]:
    return (
        Column("start", pl.Int64, f"Offset of the {what}'s first character in articles.body.", nullable=False),
        Column("end", pl.Int64, f"Offset one past the {what}'s last character in articles.body.", nullable=False),
    )


ENTITIES = Table(
    name="entities",
    description="One canonical entity per real-world thing, across languages and spellings.",
    key=("entity_id",),
    per_article=False,
    columns=cols(
        Column(
            "entity_id",
            pl.String,
            "Registry id (e.g. 'loc:gwangju') or 'new:<hash>' for names found outside the registry.",
            nullable=False,
        ),
        Column("type", pl.String, "PERSON | ORG | LOC.", nullable=False),
        Column("canonical_name", pl.String, "English name.", nullable=False),
        Column("aliases", pl.List(pl.String), "Other names in any language.", nullable=False),
        Column("wikidata_qid", pl.String, "Wikidata item id when known."),
        Column("origin", pl.String, "registry | discovered.", nullable=False),
    ),
)

MENTIONS = Table(
    name="mentions",
    description="Each occurrence of a PERSON, ORG or LOC name in a body.",
    key=("mention_id",),
    columns=cols(
        Column("mention_id", pl.String, "article_id:start:end:type.", nullable=False),
        Column("article_id", pl.String, "Article the mention is in.", nullable=False),
        Column("entity_id", pl.String, "Linked entity; null when not linked."),
        Column("type", pl.String, "PERSON | ORG | LOC.", nullable=False),
        Column("surface", pl.String, "The text as written: body[start:end].", nullable=False),
        *_span("mention"),
        Column("method", pl.String, "How it was found: registry | model name | pattern.", nullable=False),
    ),
)

FIGURES = Table(
    name="figures",
    description="Money, counts, areas, durations and percentages with normalised values.",
    key=("figure_id",),
    columns=cols(
        Column("figure_id", pl.String, "article_id:start:end.", nullable=False),
        Column("article_id", pl.String, "Article the figure is in.", nullable=False),
        Column("kind", pl.String, "money | count | area | duration | percent.", nullable=False),
        Column("value", pl.Float64, "Normalised value (money in currency units, area in m2, ...).", nullable=False),
        Column("unit", pl.String, "ISO 4217 code for money, m2 for area, year/month/day for durations, % for percent."),
        Column("counted", pl.String, "What is counted, when the text says (e.g. 'graduate students')."),
        Column("approximate", pl.Boolean, "Written as about/over/여/約.", nullable=False),
        Column("surface", pl.String, "The text as written: body[start:end].", nullable=False),
        *_span("figure"),
    ),
)

DATES = Table(
    name="dates",
    description="Dates mentioned in bodies, resolved only as far as the text makes knowable.",
    key=("date_id",),
    columns=cols(
        Column("date_id", pl.String, "article_id:start:end.", nullable=False),
        Column("article_id", pl.String, "Article the date is in.", nullable=False),
        Column("surface", pl.String, "The text as written: body[start:end].", nullable=False),
        *_span("date"),
        Column("year", pl.Int32, "Year; null when the text never makes it knowable."),
        Column("month", pl.Int32, "Month 1-12, or null."),
        Column("day", pl.Int32, "Day of month, or null."),
    ),
)

AGREEMENTS = Table(
    name="agreements",
    description="MOUs, agreements and investments with all their parties.",
    key=("agreement_id",),
    columns=cols(
        Column("agreement_id", pl.String, "article_id:start:end.", nullable=False),
        Column("article_id", pl.String, "Article the agreement is reported in.", nullable=False),
        Column("kind", pl.String, "mou | agreement | investment.", nullable=False),
        Column(
            "party_entity_ids",
            pl.List(pl.String),
            "Linked entity id per party (null inside the list when not linked).",
            nullable=False,
        ),
        Column(
            "party_names", pl.List(pl.String), "Party names as written, same order as party_entity_ids.", nullable=False
        ),
        Column("year", pl.Int32, "Year of the agreement when knowable."),
        Column("month", pl.Int32, "Month when stated."),
        Column("day", pl.Int32, "Day when stated."),
        Column("surface", pl.String, "Evidence text: body[start:end] (usually the sentence).", nullable=False),
        *_span("evidence"),
    ),
)

QUOTES = Table(
    name="quotes",
    description="Quoted statements with their speaker when the text names one.",
    key=("quote_id",),
    columns=cols(
        Column("quote_id", pl.String, "article_id:start:end.", nullable=False),
        Column("article_id", pl.String, "Article the quote is in.", nullable=False),
        Column("speaker_entity_id", pl.String, "Linked entity of the speaker, or null."),
        Column("speaker_name", pl.String, "Speaker as written, or null when unnamed."),
        Column("text", pl.String, "The quoted words: body[start:end].", nullable=False),
        *_span("quote"),
    ),
)
