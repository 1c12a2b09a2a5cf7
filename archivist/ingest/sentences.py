"""Split text into sentences with character offsets, so passages and highlights point into the original."""

from __future__ import annotations

import re
from collections.abc import Iterator

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "sgt", "capt", "gov",
    "sen", "rep", "rev", "pres", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "no", "vs", "etc", "inc", "corp", "ltd", "co", "mt", "ft", "approx", "est",
    "dept", "univ", "fig", "al", "maj", "adm", "cmdr", "brig", "hon", "messrs", "op", "vol",
}
# End punctuation, optional closing quotes/brackets, whitespace, then something that starts a sentence.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])")
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def sentence_spans(text: str, start: int = 0, end: int | None = None,
                   split_lines: bool = True) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each sentence in text[start:end]; each line break also ends a sentence.

    Lines are split first because scraped articles put headlines, captions and paragraphs on
    their own lines without end punctuation. For hard-wrapped text (newswire), pass
    `split_lines=False` so a newline inside a paragraph is just a space.
    """
    end = len(text) if end is None else end
    if not split_lines:
        yield from _spans_in_line(text, start, end)
        return
    line_start = start
    while line_start < end:
        newline = text.find("\n", line_start, end)
        line_end = end if newline == -1 else newline
        yield from _spans_in_line(text, line_start, line_end)
        line_start = line_end + 1


def _spans_in_line(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        if _is_abbreviation(text[cursor:match.start()]):
            continue
        yield from _trimmed(text, cursor, match.end())
        cursor = match.end()
    yield from _trimmed(text, cursor, end)


def _is_abbreviation(before: str) -> bool:
    """'Mr.', 'Aug.', 'U.S.' and single initials end with a period but not a sentence."""
    match = _WORD_BEFORE.search(before)
    if not match:
        return False
    word = match.group(1)
    bare = word.rstrip(".").lower()
    if bare in _ABBREVIATIONS:
        return True
    # Initials and dotted acronyms: "J", "U.S", "D.C"
    return bool(re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", word.rstrip(".")))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end
