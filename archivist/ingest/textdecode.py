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
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise UndecodableText("not text in a recognisable encoding (binary file?)")
    if _western_fits(matches, best.chaos):
        return _normalise_newlines(data.decode("cp1252", errors="replace"))
    return _normalise_newlines(str(best))


_WESTERN = {"cp1252", "latin_1", "iso8859_15"}
# How much more "chaos" (charset_normalizer's mess score) a Western reading may have than the best
# guess and still win: short texts score several code pages alike, and news is mostly Western.
_WESTERN_TOLERANCE = 0.1


def _western_fits(matches, best_chaos: float) -> bool:
    for match in matches:
        candidates = {match.encoding, *match.could_be_from_charset}
        if candidates & _WESTERN and match.chaos <= best_chaos + _WESTERN_TOLERANCE:
            return True
    return False


def _normalise_newlines(text: str) -> str:
    """Offsets are kept into the normalised text, so every reader must apply the same rule."""
    if "\x00" in text:
        raise UndecodableText("contains NUL bytes (binary file?)")
    return text.replace("\r\n", "\n").replace("\r", "\n")
