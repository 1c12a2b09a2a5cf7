"""Keyword retrieval with SQLite FTS5 (bm25, porter stemming), safe for any text a user types."""

from __future__ import annotations

import re
import sqlite3
import threading

from archivist import store

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

# Past this many passages an OR over common words makes FTS5 score most of the archive (265 ms
# a query at a million passages); there the commonest words are left out of the keyword query.
# Below it nothing is pruned, so quality on smaller collections is exactly plain bm25's.
PRUNE_FROM_PASSAGES = 200_000
# A word in more than this share of passages carries little bm25 weight and costs the most.
COMMON_SHARE = 0.01
MAX_TERMS = 6
_SCRATCH_LOCK = threading.Lock()

# bm25 column weights: (title, body). Equal: on SciFact's train split title 0.5 gave hybrid nDCG@10
# 0.745, 1.0 gave 0.749 and 2.0 0.748 (keyword alone 0.694 / 0.699 / 0.701); the seed questions
# ranked the same under all three.
TITLE_WEIGHT = 1.0
BODY_WEIGHT = 1.0


def lowercase_words(text: str) -> list[str]:
    """Every run of word characters, lowercased: how queries and story signatures see text."""
    return [w.lower() for w in _WORD.findall(text)]


def query_terms(query: str) -> list[str]:
    """Content words of the query, lowercase, in order, without duplicates.

    Only word characters survive, so FTS5 syntax in user text (quotes, AND, NEAR, *, ^, col:)
    can never reach the query parser; all-stopword queries keep their words.
    """
    words = lowercase_words(query)
    content = [w for w in words if w not in STOPWORDS] or words
    return list(dict.fromkeys(content))


def fts_expression(terms: list[str]) -> str | None:
    """Each term as a quoted FTS5 string, OR-ed: any term may match, bm25 ranks by how many and how rare."""
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def store_term_frequencies(connection: sqlite3.Connection) -> None:
    """Copy each stemmed term's passage count out of the FTS5 index (one scan: 4 s at a million
    passages) so a query can look its words up by key; fts5vocab itself counts on every read."""
    connection.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab USING fts5vocab(main, passages_fts, 'row')")
    connection.execute("DELETE FROM term_frequencies")
    connection.execute("INSERT INTO term_frequencies(term, passages) SELECT term, doc FROM temp.fts_vocab")


def document_frequencies(connection: sqlite3.Connection, words: list[str]) -> dict[str, int]:
    """Passages containing each word, as FTS5 stems it (its own tokenizer, on a scratch table).

    Works on a read-only connection: the scratch tables live in the temp schema. One lookup at a
    time, since searches of several threads share a connection and so its scratch tables."""
    with _SCRATCH_LOCK:
        try:
            return _frequencies(connection, words)
        finally:
            connection.commit()  # end the implicit transaction the scratch writes opened


def _frequencies(connection: sqlite3.Connection, words: list[str]) -> dict[str, int]:
    connection.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_words USING fts5(word, tokenize = '{store.FTS_TOKENIZER}')")
    connection.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_stems USING fts5vocab(temp, query_words, 'instance')")
    connection.execute("DELETE FROM temp.query_words")
    connection.executemany("INSERT INTO temp.query_words(rowid, word) VALUES (?, ?)",
                           ((number, word) for number, word in enumerate(words)))
    frequencies = dict.fromkeys(words, 0)
    # One join: each word's stems (a word can hold several tokens) with their passage counts.
    for number, passages in connection.execute(
            "SELECT q.doc, t.passages FROM temp.query_stems q JOIN term_frequencies t ON t.term = q.term").fetchall():
        frequencies[words[number]] = max(frequencies[words[number]], passages)
    connection.execute("DELETE FROM temp.query_words")
    return frequencies


def selective_terms(connection: sqlite3.Connection, terms: list[str], passages: int) -> list[str]:
    """The query's terms, without the commonest when the archive is large enough for them to be slow.

    Keeps at most MAX_TERMS rarest terms that occur in at most COMMON_SHARE of passages; when all
    are common, the two rarest, so a query of everyday words still finds something."""
    if passages < PRUNE_FROM_PASSAGES or not terms:
        return terms
    frequencies = document_frequencies(connection, terms)
    rarest = sorted((t for t in terms if frequencies[t] > 0), key=frequencies.__getitem__)
    kept = [t for t in rarest if frequencies[t] <= COMMON_SHARE * passages][:MAX_TERMS] or rarest[:2]
    return [t for t in terms if t in kept]


def search(connection: sqlite3.Connection, query: str, limit: int,
           allowed_clause: str = "", params: tuple = (), passages: int = 0) -> list[tuple[int, float]]:
    """Top passages as (passage id, bm25 score; higher is better) for `query`.

    `passages` (the archive's passage count) lets large archives leave out their commonest words."""
    expression = fts_expression(selective_terms(connection, query_terms(query), passages))
    if expression is None:
        return []
    sql = (f"SELECT passages_fts.rowid AS id, -bm25(passages_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS score "
           "FROM passages_fts ")
    if allowed_clause:
        sql += ("JOIN passages p ON p.id = passages_fts.rowid JOIN articles a ON a.id = p.article_id "
                f"WHERE passages_fts MATCH ? AND {allowed_clause} ")
    else:
        sql += "WHERE passages_fts MATCH ? "
    # Ordering by the selected score computes bm25 once a row (ordering by a second bm25() call
    # computed it twice).
    sql += "ORDER BY score DESC LIMIT ?"
    rows = connection.execute(sql, (expression, *params, limit)).fetchall()
    return [(int(r["id"]), float(r["score"])) for r in rows]
