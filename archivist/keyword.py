"""Keyword retrieval with SQLite FTS5 (bm25, porter stemming), safe for any text a user types."""

from __future__ import annotations

import re
import sqlite3

_WORD = re.compile(r"\w+", re.UNICODE)

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves say said tell told did does
""".split())

# bm25 column weights: (title, body). A headline match counts less than the passage saying it.
TITLE_WEIGHT = 0.5
BODY_WEIGHT = 1.0


def query_terms(query: str) -> list[str]:
    """Content words of the query, lowercase, in order, without duplicates.

    Only word characters survive, so FTS5 syntax in user text (quotes, AND, NEAR, *, ^, col:)
    can never reach the query parser; all-stopword queries keep their words.
    """
    words = [w.lower() for w in _WORD.findall(query)]
    content = [w for w in words if w not in STOPWORDS] or words
    return list(dict.fromkeys(content))


def fts_expression(terms: list[str]) -> str | None:
    """Each term as a quoted FTS5 string, OR-ed: any term may match, bm25 ranks by how many and how rare."""
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def search(connection: sqlite3.Connection, query: str, limit: int,
           allowed_clause: str = "", params: tuple = ()) -> list[tuple[int, float]]:
    """Top passages as (passage id, bm25 score; higher is better) for `query`."""
    expression = fts_expression(query_terms(query))
    if expression is None:
        return []
    sql = (f"SELECT passages_fts.rowid AS id, -bm25(passages_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS score "
           "FROM passages_fts ")
    if allowed_clause:
        sql += ("JOIN passages p ON p.id = passages_fts.rowid JOIN articles a ON a.id = p.article_id "
                f"WHERE passages_fts MATCH ? AND {allowed_clause} ")
    else:
        sql += "WHERE passages_fts MATCH ? "
    sql += "ORDER BY bm25(passages_fts, ?, ?) LIMIT ?"
    rows = connection.execute(sql, (expression, *params, TITLE_WEIGHT, BODY_WEIGHT, limit)).fetchall()
    return [(int(r["id"]), float(r["score"])) for r in rows]
