"""Bytes to text: declared charset first, then detection; never mojibake silently."""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decoded:
    """Decoded text and the encoding used."""

    text: str
    encoding: str


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we can trust."""


_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def looks_binary(data: bytes) -> bool:
    """True for bytes that are clearly not text (NULs outside UTF-16, known binary magic numbers)."""
    head = data[:4096]
    if head.startswith((b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b")):
        return True
    if any(head.startswith(bom) for bom, _ in _BOMS[1:]):
        return False
    return b"\x00" in head


def decode_bytes(data: bytes, declared: str | None = None) -> Decoded:
    """Decode with a BOM, the declared charset, UTF-8, then charset detection, in that order."""
    if looks_binary(data):
        raise UndecodableError("binary content")
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return Decoded(data.decode(enc), enc)
    candidates = [declared] if declared else []
    candidates.append("utf-8")
    for enc in candidates:
        if not enc:
            continue
        try:
            return Decoded(data.decode(enc), codecs.lookup(enc).name)
        except (LookupError, UnicodeDecodeError):
            continue
    from charset_normalizer import from_bytes  # lazy: only undeclared non-UTF-8 input pays for it

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise UndecodableError("no encoding fits the bytes")
    return Decoded(str(best), best.encoding)
