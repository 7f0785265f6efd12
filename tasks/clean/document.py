"""One document cleaned: body paragraphs, captions and stated metadata, decided line by line."""

# ruff: noqa: RUF001, RUF003 - Korean and Japanese punctuation (，：（）) is what this module matches.

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from tasks.clean import metadata as md
from tasks.clean.captions import Caption, collapse, parse_caption
from tasks.clean.furniture import is_breadcrumb, is_link_only, is_widget
from tasks.clean.language import detect_language
from tasks.clean.text import (
    Scripts,
    ends_sentence,
    fold_spaces,
    is_cjk_heavy,
    language_script,
    norm_key,
    scripts,
    strip_bullet,
    text_units,
)

# Units are characters for CJK text and characters / 2 for alphabetic text (see text.text_units).
MIN_CONTENT_UNITS = 20  # a sentence at least this long is article text
LONG_UNITS = 100  # a line this long is article text even without final punctuation
LABEL_UNITS = 6  # a line this short without punctuation is a label ('ニュース', 'WEDDINGS', '파일')
TITLE_MAX_UNITS = 100
TITLE_SEARCH_LINES = 8  # the heading is among the first few lines
META_RESIDUE_CHARS = 12  # a date line may carry this much besides dates, labels and names
MAX_DATELINE_CHARS = 160
CONTEXT_SAMPLE_CHARS = 1500
BYLINE_PARAGRAPHS = 3  # an agency byline opens one of the first paragraphs
MAX_SHARED = 0.5  # above this share of repeated text a document is a copy, and its repeated lines are its text
WRAP_MIN_CHARS = 40  # a hard-wrapped line is at least this long


@dataclass(slots=True)
class Line:
    """One non-empty line of the document and what cleaning found in it."""

    index: int
    text: str  # whitespace-folded
    bare: str  # without a leading bullet
    bullet: bool
    script: Scripts
    sentence: bool
    reason: str | None = None  # why the line is not body text
    caption: Caption | None = None
    times: list[md.StatedTime] = field(default_factory=list)
    names: tuple[str, ...] = ()
    owner: str | None = None  # publisher named by a copyright line

    @property
    def units(self) -> int:
        """Length in comparable units."""
        return text_units(self.bare, self.script)

    @property
    def label_like(self) -> bool:
        """Short text without sentence punctuation: a section label, button or list caption."""
        if self.sentence:
            return False
        if is_cjk_heavy(self.script):
            return len(self.bare) <= LABEL_UNITS
        return len(self.bare.split()) <= 2  # noqa: PLR2004 - one or two words


@dataclass(frozen=True, slots=True)
class CleanedDocument:
    """The body paragraphs, captions and metadata of one document."""

    paragraphs: list[str]
    paragraph_languages: list[str]
    captions: list[Caption]
    caption_languages: list[str]
    language: str
    title: str | None
    published_at: datetime | None
    published_at_local: str | None
    authors: tuple[str, ...]
    publisher: str | None


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why a document yields no article."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Meta:
    """What the source stated about the document besides its text."""

    title: str | None = None
    published_at: str | None = None
    author: str | None = None
    publisher: str | None = None
    language: str | None = None
    utc_offset: str | None = None


def _line(index: int, text: str, repeated: frozenset[str]) -> Line:
    bare, bullet = strip_bullet(text)
    line = Line(index, text, bare, bullet, scripts(bare), ends_sentence(bare))
    if md.is_copyright_line(text):
        line.reason, line.owner = "copyright", md.copyright_owner(text)
    elif is_widget(text):
        line.reason = "widget"
    elif len(text) > MAX_DATELINE_CHARS:
        # Long lines are text, a caption at most: links, trails, bylines and date lines are all short.
        if (caption := parse_caption(bare)) is not None:
            line.reason, line.caption = "caption", caption
    elif is_link_only(bare):
        line.reason = "link"
    elif is_breadcrumb(text):
        line.reason = "breadcrumb"
    elif (byline := md.byline_line(text)) is not None:
        line.reason, line.names = "byline", byline.names
    elif (times := _dateline(text)) is not None:
        line.reason, line.times, line.names = "dateline", times, md.inline_authors(text)
    elif (caption := parse_caption(bare)) is not None:
        line.reason, line.caption = "caption", caption
    elif repeated and norm_key(text) in repeated:
        line.reason = "repeated"
    return line


def _dateline(text: str) -> list[md.StatedTime] | None:
    """The dates of a line that holds little else (dates, labels, author statements)."""
    if len(text) > MAX_DATELINE_CHARS:
        return None
    times = md.find_times(text)
    return times if times and _meta_residue(text, times) <= META_RESIDUE_CHARS else None


def _meta_residue(text: str, times: list[md.StatedTime]) -> int:
    """Characters of `text` that are not dates, date labels, author statements or decoration."""
    spans = [(t.start, t.end) for t in times] + md.inline_author_spans(text)
    keep = [True] * len(text)
    for start, end in spans:
        label = md.label_before(text, start) or ""
        for i in range(max(0, start - len(label) - 3), min(len(text), end)):
            keep[i] = False
    rest = "".join(ch for ch, k in zip(text, keep, strict=True) if k)
    return len(re.sub(r"[\W\d_]+", "", rest))


def _context_language(lines: list[Line]) -> str:
    """Language of the longest lines that are not furniture: the article's language before the body is final."""
    candidates = sorted((ln for ln in lines if ln.reason is None), key=lambda ln: len(ln.bare), reverse=True)
    sample, size = [], 0
    for ln in candidates:
        sample.append(ln.bare)
        size += len(ln.bare)
        if size >= CONTEXT_SAMPLE_CHARS:
            break
    return detect_language("\n".join(sample)) if sample else "und"


def _clean_title(title: str) -> str | None:
    title = fold_spaces(title)
    # 'Headline | Site' / 'Headline - Site': drop a short site name after the last separator.
    parts = re.split(r"\s+[|｜–—-]\s+|\s+::\s+", title)
    if len(parts) > 1 and len(parts[-1]) <= 30 and len(" ".join(parts[:-1])) > len(parts[-1]):  # noqa: PLR2004
        title = title[: title.rfind(parts[-1])].rstrip(" |｜–—-:")
    return title or None


def _find_title(lines: list[Line], first_content: int | None) -> Line | None:
    """The heading: an early line that reads like a headline, before (or as) the first article line."""
    seen = 0
    for ln in lines:
        if first_content is not None and ln.index > first_content:
            break
        if ln.reason not in {None, "repeated"}:
            continue
        seen += 1
        if seen > TITLE_SEARCH_LINES:
            break
        if ln.bullet or ln.label_like:
            continue
        if re.search(r"[.。]\s*$", ln.bare) or ln.units > TITLE_MAX_UNITS:
            # A sentence or a long line first: the document opens with its text and states no heading.
            if ln.index == first_content:
                return None
            continue
        return ln
    return None


def _content(ln: Line, article_script: str) -> bool:
    if ln.reason is not None:
        return False
    if article_script not in {"none", ln.script.dominant}:
        return False
    return (ln.sentence and ln.units >= MIN_CONTENT_UNITS) or ln.units >= LONG_UNITS


def _switched(ln: Line, article_script: str) -> bool:
    own = ln.script.dominant
    return own not in {"none", article_script} and article_script != "none"


def _keep(ln: Line, zone: str, article_script: str, *, after_widget: bool) -> bool:
    """Whether a line that carries no furniture mark of its own stays in the body, given where it stands."""
    if zone == "core":
        # A related-articles box inside the text: the list items under a widget header go with it.
        return not (after_widget and (ln.bullet or not ln.sentence))
    if ln.bullet or ln.label_like or _switched(ln, article_script):
        return False
    return zone == "head" or ln.sentence


def _join_wrapped(paragraphs: list[str]) -> list[str]:
    """Paragraphs with hard-wrapped lines (no final punctuation, next line starts in lower case) joined."""
    out: list[str] = []
    for p in paragraphs:
        wrapped = out and len(out[-1]) >= WRAP_MIN_CHARS and not ends_sentence(out[-1])
        if wrapped and p[:1].islower() and p[:1].isascii():
            out[-1] = f"{out[-1]} {p}"
        else:
            out.append(p)
    return out


def _stated_in_text(lines: list[Line], start: int) -> tuple[md.StatedTime | None, str]:
    """The publication time a date line states: a labelled one anywhere, else an unlabelled one above the text."""
    unlabelled: tuple[md.StatedTime | None, str] = (None, "")
    for ln in lines:
        if ln.reason != "dateline":
            continue
        for t in ln.times:
            if t.modified:
                continue
            if md.label_before(ln.text, t.start):
                return t, ln.text
            if unlabelled[0] is None and ln.index < start:
                unlabelled = (t, ln.text)
    return unlabelled


def _published(
    lines: list[Line], meta: Meta, article_language: str, start: int
) -> tuple[datetime | None, str | None]:
    """Publication instant (UTC) and local ISO string; a revision time alone is not a publication time."""
    stated, source_line = md.parse_stated(meta.published_at), meta.published_at or ""
    in_text, line = _stated_in_text(lines, start)
    if in_text is not None and (stated is None or (in_text.has_time and not stated.has_time)):
        stated, source_line = in_text, line
    if stated is None:
        return None, None
    offset = (
        md.normalise_offset(meta.utc_offset)
        or md.locale_offset(source_line)
        or (md.EAST_ASIA_OFFSET if article_language in {"ko", "ja"} else None)
    )
    return stated.resolve(offset)


def _publisher(lines: list[Line], outlets: list[str], meta: Meta) -> str | None:
    """Publisher named by a copyright line, else by the byline's outlet, else by the source."""
    owners = [ln.owner for ln in lines if ln.owner]
    for candidate in [*owners, *outlets, meta.publisher]:
        if candidate and candidate.strip():
            return candidate.strip()
    return None


def _mark_title(lines: list[Line], meta: Meta, content: list[int]) -> tuple[str | None, list[int]]:
    """The title, with every line repeating it marked; and the article lines that remain."""
    title_line = None if meta.title else _find_title(lines, content[0] if content else None)
    title = _clean_title(meta.title) if meta.title else (title_line.bare if title_line else None)
    if title:
        key = norm_key(title)
        for ln in lines:
            if ln.reason in {None, "repeated"} and norm_key(ln.bare) == key:
                ln.reason = "title"
    remaining = {ln.index for ln in lines if ln.reason is None}
    return title, [i for i in content if i in remaining]


@dataclass(slots=True)
class _Body:
    paragraphs: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    outlets: list[str] = field(default_factory=list)


def _body(lines: list[Line], article_script: str, start: int, end: int) -> _Body:
    """Body paragraphs between the page furniture, and the names and outlets bylines state on the way."""
    out = _Body()
    seen: set[str] = set()
    after_widget = False
    for ln in lines:
        out.names.extend(ln.names)
        if ln.reason is not None:
            after_widget = ln.reason == "widget" or (after_widget and ln.reason != "caption")
            continue
        zone = "head" if ln.index < start else "tail" if ln.index > end else "core"
        if not _keep(ln, zone, article_script, after_widget=after_widget):
            continue
        after_widget = after_widget and not _content(ln, article_script)
        text = ln.text
        if len(out.paragraphs) < BYLINE_PARAGRAPHS and (byline := md.byline_prefix(text)) is not None:
            out.names.extend(byline.names)
            out.outlets.extend([byline.outlet] if byline.outlet else [])
            text = text[byline.end :].strip()
        key = norm_key(text)
        if text and not (key and key in seen):
            seen.add(key)
            out.paragraphs.append(text)
    out.paragraphs = _join_wrapped(out.paragraphs)
    return out


def _mark_lines(text: str, repeated: frozenset[str]) -> list[Line]:
    lines = [_line(i, t, repeated) for i, t in enumerate(fold_spaces(t) for t in text.split("\n")) if t]
    total = sum(len(ln.text) for ln in lines)
    shared = sum(len(ln.text) for ln in lines if ln.reason == "repeated")
    if total and shared / total > MAX_SHARED:
        # Mostly shared with another document: that is a copy of this article, not furniture around it.
        for ln in lines:
            if ln.reason == "repeated":
                ln.reason = None
    return lines


def clean_document(text: str, meta: Meta, repeated: frozenset[str] = frozenset()) -> CleanedDocument | Rejected:
    """Body, captions and metadata of one document whose text is already fixed (text.fix_text)."""
    lines = _mark_lines(text, repeated)
    if not lines:
        return Rejected("empty_text", "the document has no text")
    article_script = language_script(_context_language(lines))
    title, content = _mark_title(lines, meta, [ln.index for ln in lines if _content(ln, article_script)])
    if not content:
        content = [ln.index for ln in lines if ln.reason is None and not ln.bullet and not ln.label_like]
    if not content:
        reasons = sorted({ln.reason or "label" for ln in lines})
        return Rejected("boilerplate_only", "no article text left; lines were: " + ", ".join(reasons))
    body = _body(lines, article_script, content[0], content[-1])
    if not body.paragraphs:
        return Rejected("empty_body", "no text left after removing page furniture")

    language = _context_language([_plain_line(p) for p in body.paragraphs])
    captions = collapse([ln.caption for ln in lines if ln.caption is not None])
    authors = md.real_names([*(md.real_names([meta.author]) if meta.author else ()), *body.names])
    published_at, published_local = _published(lines, meta, language, content[0])
    return CleanedDocument(
        paragraphs=body.paragraphs,
        paragraph_languages=[detect_language(p, context=language) for p in body.paragraphs],
        captions=captions,
        caption_languages=[detect_language(c.text, context=language) for c in captions],
        language=language,
        title=title,
        published_at=published_at,
        published_at_local=published_local,
        authors=authors,
        publisher=_publisher(lines, body.outlets, meta),
    )


def _plain_line(text: str) -> Line:
    return Line(0, text, text, bullet=False, script=scripts(text), sentence=True)
