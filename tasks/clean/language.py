"""Language identification for articles, paragraphs, captions and titles (lingua, with a script fast path)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from tasks.clean.text import Scripts, joined_scripts, language_script, scripts

if TYPE_CHECKING:
    from lingua import LanguageDetector

# Languages the detector chooses among. Beyond the sources' en/ko/ja it covers the languages news about Korea is
# most often syndicated in, so such text is labelled for what it is instead of being forced into en/ko/ja; a
# smaller set keeps lingua accurate on short text and its models small.
DETECTABLE: tuple[str, ...] = (
    "en", "ko", "ja", "zh", "ru", "uk", "fr", "de", "es", "pt", "it", "nl", "vi", "th", "id", "ar", "hi", "tr",
)  # fmt: skip
UNDETERMINED = "und"
# Below this many letters a paragraph in the article's script takes the article's language: lingua cannot tell
# "Seoul, Korea" from Dutch or "光州広域市" from Chinese, and the article around it can.
SHORT_LETTERS = 40
# Whole articles are identified from a sample: lingua's cost grows with length, its answer stops changing long
# before an article ends.
SAMPLE_CHARS = 1500
# The most frequent function words of the Latin-script languages in DETECTABLE. Prose of a dozen words or more
# is identified by which list it hits most, without lingua (whose Latin-script models cost ~0.3-0.5 ms per
# paragraph); short, mixed or undecided text still goes to lingua.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and of to that with was were which their this have has from by are is it be been will for not but"
        " they he she his her its an at on as or had would there who",
        "fr": "le les des du une est et qui dans pour pas sur au aux avec ce il elle sont ont été cette par plus ne se"
        " nous vous leur",
        "de": "der die das und ist nicht mit sich des dem den ein eine zu auf für von im auch es wird sind werden wurde"
        " einer nach bei aus",
        "es": "el los las del y en un una por con para es se lo su al como más pero fue muy ha sus esta este",
        "pt": "o os do da dos das em um uma com não no na por é mais foi ao pela pelo seu sua são também",
        "it": "il gli della di che è per con non sono nel alla anche più ha dei delle degli questo una un",
        "nl": "het een van en dat op te niet met zijn voor ook er aan maar bij naar heeft werd wordt deze",
        "id": "yang dan di ini itu dengan untuk dari dalam tidak akan pada juga ke adalah oleh sebagai telah",
        "tr": "ve bir bu da için ile olarak daha çok gibi olan ama ne kadar sonra göre",
        "vi": "của và là các có được cho trong không những một với này người đã",
    }.items()
}
_WORD_LANGUAGES: dict[str, tuple[str, ...]] = {}
for _lang, _words in _FUNCTION_WORDS.items():
    for _w in _words:
        _WORD_LANGUAGES[_w] = (*_WORD_LANGUAGES.get(_w, ()), _lang)
_MIN_WORDS = 12  # fewer words than this: lingua decides
_MIN_HITS = 3
_MIN_CONTEXT_WORDS = 5
_MIN_CONTEXT_HITS = 2
_LEAD = 2.0  # the winning list must have this many times the hits of the runner-up
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_NOT_LATIN = re.compile(r"[^\sA-Za-z\u00c0-\u024f'\u2019-]+")


@cache
def _detector(languages: tuple[str, ...] = DETECTABLE) -> LanguageDetector:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
    # Models load when a text first needs them (the same models, so the same answers). Preloading all 18 cost
    # 2.7-3.4 s of CPU and ~430 MB per process; the Latin-script ones that warm_up loads are ~2 s and ~300 MB, and
    # the rest mostly never load (rules settle Hangul, kana, Thai, Arabic and Devanagari without models).
    return LanguageDetectorBuilder.from_languages(*chosen).build()


def warm_up() -> None:
    """Build the detector and load the Latin-script models now (the first Latin-script text would otherwise pay)."""
    _detector().detect_language_of("Mayor Lee announced the plan")


@lru_cache(maxsize=4096)
def _lingua(text: str) -> str | None:
    # Cached: lingua takes ~0.5 ms per call, and the short texts it gets (bylines, captions, place lines, the
    # paragraphs of syndicated copies) repeat.
    found = _detector().detect_language_of(text)
    return None if found is None else str(found.iso_code_639_1.name).lower()


def _by_function_words(text: str, context: str | None) -> str | None:
    """The Latin-script language whose function words the text uses clearly most, or None when unclear.

    Inside an article a shorter paragraph suffices when it is the article's own language that it uses.
    """
    words = _WORD.findall(text[:800].lower())
    if len(words) < _MIN_CONTEXT_WORDS:
        return None
    counts = dict.fromkeys(_FUNCTION_WORDS, 0)
    # Count each distinct word once (Counter counts in C; prose repeats its function words).
    tally = Counter(words)
    for w in tally.keys() & _WORD_LANGUAGES.keys():
        for lang in _WORD_LANGUAGES[w]:
            counts[lang] += tally[w]
    ranked = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
    (lang, best), (_, second) = ranked[0], ranked[1]
    if best < _LEAD * second:
        return None
    if len(words) >= _MIN_WORDS and best >= _MIN_HITS:
        return lang
    return lang if lang == context and best >= _MIN_CONTEXT_HITS else None


def _cjk(sample: str, kana: int, han: int) -> str:
    # Kana is written only in Japanese; Han without kana is Chinese unless lingua hears Japanese in it.
    if kana >= max(2, (kana + han) // 20):
        return "ja"
    return "ja" if _lingua(sample) == "ja" else "zh"


def detect_language(text: str, *, context: str | None = None) -> str:
    """ISO 639-1 language of `text`; `context` (the enclosing article's language) settles text too short to tell."""
    sample = text if len(text) <= SAMPLE_CHARS else text[:SAMPLE_CHARS]
    return _detect(sample, scripts(sample), context)


def detect_language_of_lines(lines: Sequence[tuple[str, Scripts]]) -> str:
    """detect_language of the lines joined by line breaks, given each line's scripts (no second count of the text)."""
    text = "\n".join(line for line, _ in lines)
    sample = text if len(text) <= SAMPLE_CHARS else text[:SAMPLE_CHARS]
    return _detect(sample, joined_scripts(lines, SAMPLE_CHARS), None)


def _detect(sample: str, s: Scripts, context: str | None) -> str:
    dominant = s.dominant
    if s.letters == 0 or (context and s.letters < SHORT_LETTERS and language_script(context) == dominant):
        return context or UNDETERMINED
    if dominant == "hangul":
        return "ko"
    if dominant == "cjk":
        return _cjk(sample, s.kana, s.han)
    if dominant == "latin" and (s.hangul or s.kana or s.han):
        # Score only the Latin part: stray Hangul or kana would pull lingua away from the text's language.
        sample = _NOT_LATIN.sub(" ", sample)
    if dominant == "latin" and (by_words := _by_function_words(sample, context)) is not None:
        return by_words
    found = _lingua(sample)
    if found is None:
        return context if context and language_script(context) == dominant else UNDETERMINED
    return found


def detect_languages(texts: Sequence[str], *, context: str | None = None) -> list[str]:
    """Languages of several texts (paragraphs or captions of one article)."""
    return [detect_language(t, context=context) for t in texts]
