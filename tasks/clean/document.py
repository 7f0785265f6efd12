"""One document cleaned: body paragraphs, captions and stated metadata, decided line by line."""

# ruff: noqa: RUF001, RUF003 - Korean and Japanese punctuation (，：（）) is what this module matches.

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from tasks.clean import metadata as md
from tasks.clean.captions import Caption, collapse, parse_caption
from tasks.clean.furniture import is_breadcrumb, is_link_only, is_widget
from tasks.clean.language import detect_language, detect_language_of_lines
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
MAX_SHORT_CHARS = 100  # links, trails, bylines and date lines are no longer than this
UNLABELLED_RESIDUE_CHARS = 2
CONTEXT_SAMPLE_CHARS = 1500
BYLINE_PARAGRAPHS = 3  # an agency byline opens one of the first paragraphs
MAX_SHARED = 0.5  # above this share of repeated text a document is a copy, and its repeated lines are its text
WRAP_MIN_CHARS = 40  # a hard-wrapped line is at least this long
SHORT_BODY_LETTERS = 100  # a body with fewer letters is identified together with its title
SITE_NAME_CHARS = 30  # a short last part after ' | ' or ' - ' is the site's name


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
    elif len(text) <= MAX_SHORT_CHARS:
        _mark_short(line, repeated)
    elif (caption := parse_caption(bare)) is not None:
        # Long lines are text, a caption at most: links, trails, bylines and date lines are all short.
        line.reason, line.caption = "caption", caption
    return line


def _mark_short(line: Line, repeated: frozenset[str]) -> None:
    text, bare = line.text, line.bare
    if is_link_only(bare):
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


def _dateline(text: str) -> list[md.StatedTime] | None:
    """The dates of a line that holds little else (dates, labels, author statements)."""
    times = md.find_times(text)
    if not times:
        return None
    labelled = md.has_inline_author_label(text) or any(md.label_before(text, t.start) for t in times)
    # A labelled line may carry a little more ('• 입력 2020-02-04 18:49 | 수정 ...'); an unlabelled one is only a
    # date, or it is a headline or sentence that mentions one ('2014년 8월 18일 뉴스브리핑').
    allowed = META_RESIDUE_CHARS if labelled else UNLABELLED_RESIDUE_CHARS
    return times if _meta_residue(text, times) <= allowed else None


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


def _context_language(texts: list[tuple[str, Scripts]]) -> str:
    """Language of the longest of the texts (with their scripts): the article's language before the body is final."""
    candidates = sorted(texts, key=lambda t: len(t[0]), reverse=True)
    sample: list[tuple[str, Scripts]] = []
    size = 0
    for text, script in candidates:
        sample.append((text, script))
        size += len(text)
        if size >= CONTEXT_SAMPLE_CHARS:
            break
    return detect_language_of_lines(sample) if sample else "und"


_TITLE_SEPARATOR = re.compile(r"\s+[|｜–—-]\s+|\s+::\s+")


def _clean_title(title: str, publisher: str | None) -> str | None:
    """A stated title without the site name pages append ('Headline | Site', 'Headline - Site')."""
    title = fold_spaces(title)
    site = norm_key(publisher or "")
    while True:
        parts = _TITLE_SEPARATOR.split(title)
        last, head = parts[-1], title[: title.rfind(parts[-1])].rstrip(" |｜–—-:")
        if len(parts) < 2 or not head:  # noqa: PLR2004 - a separator needs two sides
            return title or None
        named = bool(site) and (norm_key(last) in site or site in norm_key(last))
        if not (named or (len(last) <= SITE_NAME_CHARS and len(head) > len(last))):
            return title or None
        title = head


def _site_name_only(title: str, publisher: str | None) -> bool:
    """Whether a stated title is just the site's name (pages without their own title metadata)."""
    site, key = norm_key(publisher or ""), norm_key(title)
    return bool(site) and bool(key) and key in site


def _find_title(lines: list[Line], content: list[int]) -> Line | None:
    """The heading: an early line that reads like a headline, before (or as) the first article line."""
    first_content = content[0] if content else None
    candidates = [ln for ln in lines if ln.reason in {None, "repeated"}][:TITLE_SEARCH_LINES]
    for position, ln in enumerate(candidates):
        if first_content is not None and ln.index > first_content:
            break
        if ln.bullet:
            continue
        if ln.label_like:
            # A short heading ('천안함 침몰') is told from a section label by the article text right below it.
            below = candidates[position + 1] if position + 1 < len(candidates) else None
            if position == 0 and below is not None and below.index == first_content:
                return ln
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


def _published(lines: list[Line], meta: Meta, article_language: str, start: int) -> tuple[datetime | None, str | None]:
    """Publication instant (UTC) and local ISO string; a revision time alone is not a publication time."""
    stated, source_line, label = md.parse_stated(meta.published_at), meta.published_at or "", ""
    in_text, line = _stated_in_text(lines, start)
    if in_text is not None and (stated is None or (in_text.has_time and not stated.has_time)):
        stated, source_line, label = in_text, line, md.label_before(line, in_text.start) or ""
    if stated is None:
        return None, None
    offset = (
        md.normalise_offset(meta.utc_offset)
        or md.locale_offset(source_line)
        # Every non-ASCII date label we know (입력, 公開日 ...) is Korean or Japanese.
        or (md.EAST_ASIA_OFFSET if not label.isascii() else None)
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
    stated = _clean_title(meta.title, meta.publisher) if meta.title else None
    if stated and not _site_name_only(stated, meta.publisher):
        title: str | None = stated
    else:
        # No stated title, or the page states only its site name ('엔터 미디어'): the heading in the text.
        title_line = _find_title(lines, content)
        title = title_line.bare if title_line else stated
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
    # The longest lines that are not furniture.
    article_script = language_script(_context_language([(ln.bare, ln.script) for ln in lines if ln.reason is None]))
    title, content = _mark_title(lines, meta, [ln.index for ln in lines if _content(ln, article_script)])
    if not content:
        content = [ln.index for ln in lines if ln.reason is None and not ln.bullet and not ln.label_like]
    if not content:
        reasons = sorted({ln.reason or "label" for ln in lines})
        return Rejected("boilerplate_only", "no article text left; lines were: " + ", ".join(reasons))
    body = _body(lines, article_script, content[0], content[-1])
    if not body.paragraphs:
        return Rejected("empty_body", "no text left after removing page furniture")

    language = _context_language([(p, scripts(p)) for p in body.paragraphs])
    if title and sum(scripts(p).letters for p in body.paragraphs) < SHORT_BODY_LETTERS:
        # A body of a few words says little about its language; the headline above it says more.
        language = detect_language(f"{title}\n{body_text(body.paragraphs)}")
    if language == "und" and meta.language:
        # No letters to go by (a table of figures): the language the source declares is all there is.
        language = meta.language.split("-")[0].lower()
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


def body_text(paragraphs: list[str]) -> str:
    """The body: paragraphs separated by a blank line."""
    return "\n\n".join(paragraphs)
