"""Translate: English title and body per article, through a pluggable translator.

`translate_articles` is the step: rows already in the target language are copied, rows the translator can take
are split into sentence chunks, sent in batches and joined back, and everything else stays `pending` for a later
run (`flows/translate.py`) to fill. The translator is chosen by name (see `registry`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

from tasks.schemas import TRANSLATIONS
from tasks.translate.base import (
    STATUSES,
    CharBudget,
    Limits,
    Translator,
    TranslatorError,
    UnknownTranslatorError,
    budget_for,
    split_options,
)
from tasks.translate.registry import GROUP, available_translators, check_translator, get_translator
from tasks.translate.sentences import chunk_text, core, split_sentences

__all__ = [
    "GROUP",
    "STATUSES",
    "CharBudget",
    "Limits",
    "Translator",
    "TranslatorError",
    "UnknownTranslatorError",
    "available_translators",
    "budget_for",
    "check_translator",
    "chunk_text",
    "fill_backlog",
    "get_translator",
    "select_backlog",
    "split_options",
    "split_sentences",
    "translate_articles",
]

log = logging.getLogger(__name__)
_FIELDS = ("title", "body")


@dataclass(slots=True)
class _Row:
    article_id: str
    chunks: dict[str, list[str] | None]
    done: dict[tuple[str, int], str] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Item:
    row: int
    part: str
    chunk: int
    text: str


def translate_articles(
    articles: pl.DataFrame,
    *,
    engine: str = "placeholder",
    options: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    target: str = "en",
    translator: Translator | None = None,
    budget: CharBudget | None = None,
) -> pl.DataFrame:
    """TRANSLATIONS rows for ARTICLES rows (article_id, language, title, body), one per article, in input order.

    `translator` and `budget` default to the engine named `engine` and the `char_budget` in `options`; pass a
    shared budget to spread one run's budget over several calls.
    """
    limits, engine_options = split_options(engine, options)
    owned = translator is None
    active = translator if translator is not None else get_translator(engine, engine_options)
    try:
        results = _translate(articles, active, limits, budget or budget_for(limits), target)
        version = active.version
    finally:
        if owned and hasattr(active, "close"):
            active.close()
    moment = now or datetime.now(UTC)
    is_target = pl.col("language") == target
    frame = articles.select("article_id", "language", "title", "body").join(
        results, on="article_id", how="left", maintain_order="left"
    )
    frame = frame.select(
        "article_id",
        pl.col("language").alias("source_language"),
        pl.lit(target).alias("target_language"),
        pl.lit(active.name).alias("engine"),
        pl.lit(version, pl.String).alias("engine_version"),
        pl.when(is_target)
        .then(pl.lit("source_is_target"))
        .otherwise(pl.col("status").fill_null("pending"))
        .alias("status"),
        pl.when(is_target).then(pl.col("title")).otherwise(pl.col("title_en")).alias("title_en"),
        pl.when(is_target).then(pl.col("body")).otherwise(pl.col("body_en")).alias("body_en"),
        pl.when(is_target).then(None).otherwise(pl.col("error")).alias("error"),
        pl.lit(moment).alias("translated_at"),
    )
    return TRANSLATIONS.conform(frame)


def _translate(
    articles: pl.DataFrame, translator: Translator, limits: Limits, budget: CharBudget, target: str
) -> pl.DataFrame:
    """article_id, status, title_en, body_en, error for the rows the translator was asked to take."""
    schema = dict.fromkeys(("article_id", "status", "title_en", "body_en", "error"), pl.String)
    session = _Session(translator, limits, target)
    out: list[dict[str, str | None]] = []
    for lang in articles["language"].unique().sort().to_list():
        if lang == target or not translator.supports(lang, target):
            continue
        rows: list[_Row] = []
        group = articles.filter(pl.col("language") == lang).select("article_id", "title", "body")
        for article_id, title, body in group.iter_rows():
            texts = {"title": title, "body": body}
            if not budget.take(sum(len(t) for t in texts.values() if t)):
                continue  # over the run's budget: stays pending for a later run
            chunks = {f: None if t is None else chunk_text(t, limits.chunk_chars) for f, t in texts.items()}
            rows.append(_Row(article_id, chunks))
        for request in _requests(rows, limits):
            session.send(rows, request, lang)
        out.extend(_finish(row) for row in rows)
    return pl.DataFrame(out, schema=schema) if out else pl.DataFrame(schema=schema)


@dataclass(slots=True)
class _Session:
    """One run's calls to the engine, stopping after a fatal error or too many failures in a row."""

    translator: Translator
    limits: Limits
    target: str
    failures: int = 0
    stopped: str | None = None

    def send(self, rows: list[_Row], request: list[_Item], source: str) -> None:
        """Translate one request's chunks into `rows`, or mark its rows failed."""
        live = [item for item in request if rows[item.row].error is None]
        if self.stopped or not live:
            return
        try:
            translated = self._call([item.text for item in live], source)
        except Exception as exc:  # noqa: BLE001 - any engine failure marks its rows failed; the run continues
            message = str(exc) if isinstance(exc, TranslatorError) else f"{type(exc).__name__}: {exc}"
            for row in {item.row for item in live}:
                rows[row].error = message
            self.failures += 1
            log.warning("translation of %d texts (%s -> %s) failed: %s", len(live), source, self.target, message)
            if (
                isinstance(exc, TranslatorError) and exc.fatal
            ) or self.failures >= self.limits.max_consecutive_failures:
                self.stopped = message
                log.warning("stopping translation for this run; rows not yet sent stay pending: %s", message)
            return
        self.failures = 0
        for item, text in zip(live, translated, strict=True):
            rows[item.row].done[(item.part, item.chunk)] = text

    def _call(self, texts: list[str], source: str) -> list[str]:
        translated = self.translator.translate(texts, source=source, target=self.target)
        if len(translated) != len(texts):
            raise TranslatorError(f"engine returned {len(translated)} translations for {len(texts)} texts")
        return translated


def _requests(rows: list[_Row], limits: Limits) -> list[list[_Item]]:
    """Chunks to send, packed into requests of at most batch_texts items and batch_chars characters."""
    requests: list[list[_Item]] = []
    current: list[_Item] = []
    size = 0
    for number, row in enumerate(rows):
        for name in _FIELDS:
            for index, chunk in enumerate(row.chunks[name] or []):
                text = core(chunk)[1]
                if not text:
                    continue
                if current and (len(current) >= limits.batch_texts or size + len(text) > limits.batch_chars):
                    requests.append(current)
                    current, size = [], 0
                current.append(_Item(number, name, index, text))
                size += len(text)
    if current:
        requests.append(current)
    return requests


def _finish(row: _Row) -> dict[str, str | None]:
    """The result row: failed with its error, translated when every chunk came back, else still pending."""
    empty: dict[str, str | None] = {"article_id": row.article_id, "title_en": None, "body_en": None}
    if row.error is not None:
        return {**empty, "status": "failed", "error": row.error}
    joined = dict(empty)
    for name in _FIELDS:
        chunks = row.chunks[name]
        if chunks is None:
            continue
        parts = []
        for index, chunk in enumerate(chunks):
            lead, text, trail = core(chunk)
            if text and (name, index) not in row.done:
                return {**empty, "status": "pending", "error": None}
            parts.append(lead + row.done.get((name, index), "") + trail)
        joined[f"{name}_en"] = "".join(parts)
    return {**joined, "status": "translated", "error": None}


def select_backlog(translations: pl.DataFrame, *, include_failed: bool = False) -> pl.DataFrame:
    """Rows of a TRANSLATIONS table a later run should (re)translate: pending, and failed when asked."""
    wanted = ["pending", "failed"] if include_failed else ["pending"]
    return translations.filter(pl.col("status").is_in(wanted))


def fill_backlog(
    translations: pl.DataFrame,
    articles: pl.DataFrame,
    *,
    engine: str,
    options: Mapping[str, Any] | None = None,
    include_failed: bool = False,
    now: datetime | None = None,
) -> pl.DataFrame:
    """TRANSLATIONS rows that replace rows of `translations`: backlog rows the engine translated or failed on.

    The backlog is every pending row (failed too with `include_failed`) plus articles with no row at all. Rows
    that stay pending are not returned, so their earlier provenance is kept.
    """
    settled = translations.join(
        select_backlog(translations, include_failed=include_failed), on="article_id", how="anti"
    )
    todo = articles.join(settled, on="article_id", how="anti").sort("article_id")
    fresh = translate_articles(todo, engine=engine, options=options, now=now)
    had_row = pl.col("article_id").is_in(translations["article_id"].implode())
    return fresh.filter((pl.col("status") != "pending") | ~had_row)
