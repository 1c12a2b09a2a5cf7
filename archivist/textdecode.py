"""Turn raw bytes of any common encoding into text, so scraped files in Latin-1 or UTF-16 read correctly."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes


class UndecodableText(ValueError):
    """The bytes are not text in any encoding we can recognise (likely a binary file)."""


_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_bytes(data: bytes) -> str:
    """Decode `data`, trying a BOM, then strict UTF-8, then charset detection.

    UTF-8 first because almost every modern file is UTF-8 and detection on short texts can
    guess a wrong single-byte code page. NUL bytes without a UTF-16 BOM mean binary data.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _normalise_newlines(data.decode(encoding, errors="replace"))
    try:
        return _normalise_newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None:
        raise UndecodableText("not text in a recognisable encoding (binary file?)")
    text = str(best)
    if "\x00" in text:
        raise UndecodableText("contains NUL bytes (binary file?)")
    return _normalise_newlines(text)


def _normalise_newlines(text: str) -> str:
    """Offsets are kept into the normalised text, so every reader must apply the same rule."""
    if "\x00" in text:
        raise UndecodableText("contains NUL bytes (binary file?)")
    return text.replace("\r\n", "\n").replace("\r", "\n")
