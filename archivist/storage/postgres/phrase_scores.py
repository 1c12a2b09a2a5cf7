"""bm25 of a phrase or a prefix on PostgreSQL, scored as FTS5 scores it: as one term.

FTS5's bm25 sums over the phrases of the MATCH expression, and a quoted phrase or a prefix is
one phrase there: its frequency in a passage is how often the whole phrase occurs (or how many
words start with the prefix), its idf comes from how many passages hold it. Summing the shares
of the phrase's single words instead would rank a passage that mentions "Ahmad" and "Massoud"
apart alike with one that says "Ahmad Massoud", and the two backends would order such results
differently. A tsvector keeps each word's positions and weights, so a phrase's occurrences in a
passage's text (weight D, as FTS5's `body :` column filter) are counted from them in SQL.
"""

from __future__ import annotations

import re

from archivist.storage.postgres.generations import bm25_share
from archivist.storage.postgres.tsqueries import Parameters

_PHRASE_PART = re.compile(r"'((?:[^']|'')*)'|<(\d+|-)>")


def phrase_layout(connection, config: str, words: tuple[str, ...]) -> list[tuple[str, int]]:
    """[(lexeme, offset from the phrase's first lexeme)] as `phraseto_tsquery` places them (a
    stop word inside a phrase leaves a gap; one at either end drops out)."""
    text = connection.execute("SELECT phraseto_tsquery(%s::regconfig, %s)::text", (config, " ".join(words))).fetchone()[0]
    layout: list[tuple[str, int]] = []
    offset = 0
    for lexeme, distance in _PHRASE_PART.findall(text):
        if distance:
            offset += 1 if distance == "-" else int(distance)
        else:
            layout.append((lexeme.replace("''", "'"), offset))
    return layout


def phrase_frequency(layout: list[tuple[str, int]], params: Parameters) -> str:
    """SQL: how often the phrase occurs in the text of passage `p` (its first word at weight D)."""
    first, _ = layout[0]
    rest = " AND ".join(
        f"EXISTS (SELECT 1 FROM unnest(p.tsv) w{n}, unnest(w{n}.positions) AS at{n}(position) "
        f"WHERE w{n}.lexeme = {params.add(lexeme)} AND at{n}.position = start.position + {int(offset)})"
        for n, (lexeme, offset) in enumerate(layout[1:], start=1))
    return (f"(SELECT count(*) FROM unnest(p.tsv) w0, unnest(w0.positions, w0.weights) AS start(position, weight) "
            f"WHERE w0.lexeme = {params.add(first)} AND start.weight = 'D'" + (f" AND {rest}" if rest else "") + ")")


def prefix_frequency(pattern: str, params: Parameters) -> str:
    """SQL: how many words of passage `p` start with the prefix (a LIKE pattern over its stems)."""
    return (f"(SELECT coalesce(sum(cardinality(w.positions)), 0) FROM unnest(p.tsv) w "
            f"WHERE w.lexeme LIKE {params.add(pattern)})")


def term_share(frequency: str, holding: int, passages: int, average: float) -> str:
    """SQL: one term's bm25 share in passage `p` (`l` its word count row), 0 where it is absent."""
    return f"coalesce({bm25_share(str(int(passages)), str(int(holding)), frequency, 'l.words', repr(float(average)))}, 0)"
