"""The data contract: every table the pipeline writes, declared once."""

from tasks.schemas.articles import ARTICLES, CAPTIONS, PARAGRAPHS
from tasks.schemas.core import Column, Table, registry
from tasks.schemas.documents import FETCH_STATE, RAW_DOCUMENTS, REJECTS, SOURCE_FILES, UTC
from tasks.schemas.facts import AGREEMENTS, DATES, ENTITIES, FIGURES, MENTIONS, QUOTES
from tasks.schemas.translations import TRANSLATIONS

PUBLISHED_TABLES: dict[str, Table] = registry(
    [ARTICLES, CAPTIONS, PARAGRAPHS, TRANSLATIONS, ENTITIES, MENTIONS, FIGURES, DATES, AGREEMENTS, QUOTES, REJECTS]
)

__all__ = [
    "AGREEMENTS",
    "ARTICLES",
    "CAPTIONS",
    "DATES",
    "ENTITIES",
    "FETCH_STATE",
    "FIGURES",
    "MENTIONS",
    "PARAGRAPHS",
    "PUBLISHED_TABLES",
    "QUOTES",
    "RAW_DOCUMENTS",
    "REJECTS",
    "SOURCE_FILES",
    "TRANSLATIONS",
    "UTC",
    "Column",
    "Table",
]
