"""Bytes to text: BOM, then the declared charset (HTTP header, <meta>, XML declaration), then detection.

A decoding is only accepted when it is strict (no invalid byte sequences) and does not read as mojibake, so a
wrong declaration (latin-1 headers on UTF-8 pages, EUC-KR labels on CP949 text) falls through to the next candidate
instead of publishing garbled text.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decoded:
    """Decoded text and the encoding used."""

    text: str
    encoding: str


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we can trust."""


class BinaryContentError(UndecodableError):
    """The bytes are an image, archive, PDF or other non-text format."""


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"(\xb5/\xfd",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\x7fELF",
    b"MZ",
    b"OggS",
    b"ID3",
    b"\x00\x00\x01\x00",
    b"wOFF",
    b"wOF2",
    b"\xd0\xcf\x11\xe0",
    b"{\\rtf",
)
_RIFF_OR_MEDIA = re.compile(rb"^(?:RIFF....(?:WEBP|WAVE|AVI )|....ftyp)", re.DOTALL)

# WHATWG's label mapping where Python's codec of the same name is narrower than what the web actually sends:
# pages labelled EUC-KR are CP949, Shift_JIS pages are Windows-31J, latin-1 pages are windows-1252.
_SUPERSETS = {
    "euc_kr": "cp949",
    "ks_c_5601_1987": "cp949",
    "shift_jis": "cp932",
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
}
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Latin-script single-byte code pages detection confuses with each other; for our sources windows-1252 is the one.
_LATIN_SINGLE_BYTE = frozenset(
    {"cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "latin_1", "mac_roman", "mac_latin2"}
    | {f"iso8859_{n}" for n in (2, 3, 4, 9, 10, 13, 14, 15, 16)}
)
_SINGLE_BYTE = _LATIN_SINGLE_BYTE | {"cp1251", "koi8_r", "koi8_u", "iso8859_5", "cp866", "mac_cyrillic"}


def charset_from_content_type(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header value."""
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def declared_in_document(data: bytes) -> str | None:
    """The charset an HTML <meta> or XML declaration states in the document's first bytes."""
    head = data[:4096]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii", "ignore") if match else None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().lower()).name.replace("-", "_")
    except LookupError:
        return None
    return _SUPERSETS.get(name, name).replace("_", "-")


_MIN_UTF16_NULS = 4  # fewer NULs than this say nothing about byte order


def _utf16_without_bom(head: bytes) -> str | None:
    # ASCII-range characters in UTF-16 put a NUL in every other byte; which half tells the byte order.
    even, odd = head[0::2], head[1::2]
    zeros_even, zeros_odd = even.count(0), odd.count(0)
    if max(zeros_even, zeros_odd) < _MIN_UTF16_NULS:
        return None
    if zeros_odd > len(odd) // 8 and zeros_even * 4 < zeros_odd:
        return "utf-16-le"
    if zeros_even > len(even) // 8 and zeros_odd * 4 < zeros_even:
        return "utf-16-be"
    return None


def looks_binary(data: bytes) -> bool:
    """True for bytes that are clearly not text (known binary magic numbers, NULs outside UTF-16/32)."""
    head = data[:4096]
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return False
    if head.startswith(_MAGIC) or _RIFF_OR_MEDIA.match(head):
        return True
    return b"\x00" in head and _utf16_without_bom(head) is None


def _mojibake(text: str) -> bool:
    import ftfy.badness  # lazy: only non-UTF-8 input pays for it

    return bool(ftfy.badness.is_bad(text[:20000]))


def _try(data: bytes, codec: str) -> str | None:
    try:
        text = data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    if codec.replace("-", "_") in _SINGLE_BYTE and _mojibake(text):
        return None
    return text


def _lenient(data: bytes, codec: str) -> str | None:
    # Real CJK pages often carry a stray invalid byte; a few U+FFFD are better than losing the article.
    try:
        text = data.decode(codec, errors="replace")
    except LookupError:
        return None
    bad = text.count("\ufffd")
    return text if bad * 1000 <= max(len(text), 1) and not _mojibake(text) else None


def decode_bytes(data: bytes, declared: str | None = None) -> Decoded:  # noqa: C901 - the documented order
    """Decode with a BOM, the declared charset, the in-document declaration, UTF-8, then detection."""
    if looks_binary(data):
        raise BinaryContentError("binary content (file signature or NUL bytes)")
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(enc), enc)
            except UnicodeDecodeError as exc:
                raise UndecodableError(f"invalid {enc} after its byte order mark: {exc}") from exc
    candidates: list[str] = []
    utf16 = _utf16_without_bom(data[:4096]) if b"\x00" in data[:4096] else None
    for label in (utf16, declared, declared_in_document(data), "utf-8"):
        codec = _codec(label)
        if codec and codec not in candidates:
            candidates.append(codec)
    for codec in candidates:
        text = _try(data, codec)
        if text is not None:
            return Decoded(text, codec)
    detected = _detect(data)
    if detected is not None:
        return detected
    for codec in candidates[:-1]:  # declared charsets, leniently; never UTF-8 guessed with replacements
        text = _lenient(data, codec)
        if text is not None:
            return Decoded(text, codec)
    raise UndecodableError(f"no encoding fits the bytes (tried {', '.join(candidates)} and detection)")


def _detect(data: bytes) -> Decoded | None:
    from charset_normalizer import from_bytes  # lazy: only undeclared non-UTF-8 input pays for it

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        return None
    codec = _SUPERSETS.get(best.encoding, best.encoding)
    if codec in _LATIN_SINGLE_BYTE and _try(data, "cp1252") is not None:
        codec = "cp1252"
    codec = codec.replace("_", "-")
    text = _try(data, codec) or str(best)
    return None if _mojibake(text) else Decoded(text, codec)
