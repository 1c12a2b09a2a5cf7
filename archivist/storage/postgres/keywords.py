"""bm25 on PostgreSQL: the keyword list of the Postgres backend, scored as the embedded one scores it.

PostgreSQL's own `ts_rank` counts how often and how close the query's words occur but knows
nothing of how rare a word is (no idf), so "the effect of vitamin D" ranks passages by "effect"
as much as by "vitamin". bm25 needs two numbers a tsvector does not carry: each word's passage
count and each passage's length. Both are computed once per generation when it is built
(`generations.KEYWORD_STATISTICS`: `ts_stat` over the partition, and the positions in each
tsvector) and kept in tables, so a query costs one GIN lookup for the candidates plus a sum over
the query's words in each candidate. The formula and constants are FTS5's (k1 1.2, b 0.75, idf
ln((N - n + 0.5) / (n + 0.5)), at least 1e-6), title and body weighted alike as the embedded
backend weights them; the words are PostgreSQL's English stems (Snowball, stop words dropped)
where the embedded index uses Porter's, so scores are close, not equal.
`benchmarks/postgres.py --quality` compares SciFact and TIME nDCG@10 with the embedded backend.
"""

from __future__ import annotations

from archivist.errors import BadInput, IndexIncompatible
from archivist.records import NO_FILTERS, Filters, ParsedQuery
from archivist.storage.fts_expressions import content_words
from archivist.storage.postgres.filtering import passage_restriction
from archivist.storage.postgres.generations import bm25_share, partition

# One query's bm25: candidates by the GIN index, then each candidate's share of every query word.
BM25 = f"""
SELECT p.id, sum({bm25_share("%(n)s", "t.passages", "u.tf", "l.words", "%(average)s")}) AS score
FROM {{passages}} p
JOIN {{passage_words}} l ON l.id = p.id
CROSS JOIN LATERAL (SELECT lexeme, cardinality(positions) AS tf FROM unnest(p.tsv)) u
JOIN {{term_stats}} t ON t.lexeme = u.lexeme AND t.lexeme = ANY(%(lexemes)s)
WHERE p.tsv @@ ({{matches}}){{body_only}}{{restriction}}
GROUP BY p.id ORDER BY score DESC, p.id LIMIT %(limit)s
"""
# The same scores for an any-word query, from the shares stored when the generation was built
# (joined to the passages only when filters restrict their articles).
POSTINGS = """
SELECT t.id, sum(t.score) AS score FROM {term_postings} t{join} WHERE t.lexeme = ANY(%(lexemes)s){restriction}
GROUP BY t.id ORDER BY score DESC, t.id LIMIT %(limit)s
"""


class PgKeywordIndex:
    """The keyword verbs retrieval and the exact-words bonuses read, over one generation in Postgres.

    Filters and query operators (phrases, exclusions) are not read here yet: a search that uses
    them on this backend is refused with a one-line message rather than answered wrongly.
    """

    def __init__(self, connection, generation: int) -> None:
        self.connection = connection
        self.generation = generation
        self.tables = {name: partition(name, generation)
                       for name in ("passages", "passage_words", "term_stats", "term_postings")}
        exists = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (self.tables["term_stats"],)).fetchone()[0]
        if not exists:
            connection.rollback()
            raise IndexIncompatible("This PostgreSQL generation has no bm25 statistics (it was published by an "
                                    "older Archivist); publish the index again with `archivist publish --index-url`.")
        self.passages, self.average_words = connection.execute(
            f"SELECT count(*), coalesce(avg(words), 1) FROM {self.tables['passage_words']}").fetchone()
        # A generation published before schema migration 4 has no postings: bm25 is summed from the tsvectors.
        self.postings = connection.execute("SELECT to_regclass(%s) IS NOT NULL",
                                           (self.tables["term_postings"],)).fetchone()[0]
        # Passages in languages other than English hold words as written ('simple'), not stemmed.
        self.configs = ("english", "simple") if connection.execute(
            f"SELECT EXISTS (SELECT 1 FROM {self.tables['passages']} WHERE NOT stemmed)").fetchone()[0] else ("english",)
        connection.commit()

    def search(self, query: ParsedQuery, limit: int, filters: Filters = NO_FILTERS, passages: int = 0,
               every_word: bool = False) -> list[tuple[int, float]]:
        """Top passages as (passage id, bm25 score; higher is better): any of the query's words, or all."""
        _refuse_what_is_not_read_yet(query)
        lexemes = {config: self._lexemes(config, query.terms) for config in self.configs} if query.terms else {}
        used = {config: found for config, found in lexemes.items() if found}
        if not used:
            return []
        lexemes = sorted({word for found in used.values() for word in found})
        restriction, restricted = passage_restriction(filters, self.generation)
        if self.postings and not every_word:
            join = f" JOIN {self.tables['passages']} p ON p.id = t.id" if restriction else ""
            rows = self.connection.execute(POSTINGS.format(join=join, restriction=restriction, **self.tables),
                                           {"lexemes": lexemes, "limit": limit, **restricted}).fetchall()
            self.connection.commit()
            return [(int(i), float(s)) for i, s in rows]
        joiner = " & " if every_word else " | "
        matches = " || ".join(f"to_tsquery('{config}', %({config})s)" for config in used)
        # Keyword mode holds every word in the passage's text, as the embedded index's "body :" does.
        body_only = f" AND ts_filter(p.tsv, '{{d}}') @@ ({matches})" if every_word else ""
        statement = BM25.format(matches=matches, body_only=body_only, restriction=restriction, **self.tables)
        rows = self.connection.execute(statement, {
            "n": self.passages, "average": float(self.average_words), "limit": limit,
            "lexemes": lexemes, **restricted,
            **{config: joiner.join(_quoted(found)) for config, found in used.items()}}).fetchall()
        self.connection.commit()
        return [(int(i), float(s)) for i, s in rows]

    def _lexemes(self, config: str, words: list[str]) -> list[str]:
        """The query words as `config` stems them (stop words drop out)."""
        rows = self.connection.execute(
            "SELECT DISTINCT lexeme FROM unnest(tsvector_to_array(to_tsvector(%s::regconfig, %s))) AS lexeme",
            (config, " ".join(words))).fetchall()
        return sorted(row[0] for row in rows)

    def document_frequencies(self, words: list[str]) -> dict[str, int]:
        """How many passages hold each word (as stemmed; a stop word counts as held by none)."""
        found: dict[str, int] = {}
        for word in words:
            lexemes = self._lexemes("english", [word])
            if len(lexemes) == 1:  # one stem: its passage count was kept when the generation was built
                row = self.connection.execute(f"SELECT passages FROM {self.tables['term_stats']} WHERE lexeme = %s",
                                              (lexemes[0],)).fetchone()
                found[word] = int(row[0]) if row else 0
            else:  # none (a stop word), or a word the stemmer splits ("e-mail"): counted
                found[word] = self.connection.execute(
                    f"SELECT count(*) FROM {self.tables['passages']} WHERE tsv @@ plainto_tsquery('english', %s)",
                    (word,)).fetchone()[0] if lexemes else 0
        self.connection.commit()
        return found

    def phrase_ids(self, words: list[str], limit: int, filters: Filters = NO_FILTERS) -> list[int]:
        """Passages holding `words` in this order (stop words in between count as any word)."""
        restriction, restricted = passage_restriction(filters, self.generation)
        rows = self.connection.execute(
            f"SELECT p.id FROM {self.tables['passages']} p WHERE p.tsv @@ phraseto_tsquery('english', %(words)s)"
            f"{restriction} ORDER BY p.id LIMIT %(limit)s",
            {"words": " ".join(words), "limit": limit, **restricted}).fetchall()
        self.connection.commit()
        return [int(row[0]) for row in rows]

    def constraint(self, query: ParsedQuery):
        _refuse_what_is_not_read_yet(query)

    def terms_held(self, passage_ids: list[int], terms: list[str]) -> dict[int, set[str]]:
        """Which of `terms` each passage holds, in its headline or text (the relevance scale's coverage)."""
        held: dict[int, set[str]] = {int(pid): set() for pid in passage_ids}
        wanted = list(held)
        for term in terms:
            matches = " OR ".join(f"tsv @@ plainto_tsquery('{config}', %(term)s)" for config in self.configs)
            for (pid,) in self.connection.execute(
                    f"SELECT id FROM {self.tables['passages']} WHERE id = ANY(%(ids)s) AND ({matches})",
                    {"ids": wanted, "term": term}).fetchall():
                held[int(pid)].add(term)
        self.connection.commit()
        return held

    def _every_word(self, query: ParsedQuery) -> dict[str, str]:
        """{config: to_tsquery text} of Keyword mode's words, for each config that keeps any
        (stop words drop out; a query of stop words alone keeps them, as the embedded index does)."""
        words = content_words(query)
        found = {config: self._lexemes(config, words) for config in self.configs} if words else {}
        return {config: " & ".join(_quoted(lexemes)) for config, lexemes in found.items() if lexemes}

    def count_articles(self, query: ParsedQuery, filters: Filters = NO_FILTERS) -> int:
        """How many articles hold every word of the query in one passage's text (Keyword mode's matches)."""
        _refuse_what_is_not_read_yet(query)
        wanted = self._every_word(query)
        if not wanted:
            return 0
        matches = " OR ".join(f"(p.tsv @@ to_tsquery('{c}', %({c})s) AND ts_filter(p.tsv, '{{d}}') @@ to_tsquery('{c}', %({c})s))"
                              for c in wanted)
        restriction, restricted = passage_restriction(filters, self.generation)
        count = self.connection.execute(
            f"SELECT count(DISTINCT p.article_id) FROM {self.tables['passages']} p WHERE ({matches}){restriction}",
            {**wanted, **restricted}).fetchone()[0]
        self.connection.commit()
        return int(count)

    def holds(self, text: str, query: ParsedQuery, every_word: bool) -> bool:
        """Whether `text` alone holds every word of the query (Keyword mode), stemmed as the index
        stems; with phrases refused on this backend, nothing else is required of a text."""
        if not every_word:
            return True
        wanted = self._every_word(query)
        if not wanted:
            return True
        matches = " OR ".join(f"to_tsvector('{c}', %(text)s) @@ to_tsquery('{c}', %({c})s)" for c in wanted)
        found = self.connection.execute(f"SELECT {matches}", {"text": text, **wanted}).fetchone()[0]
        self.connection.commit()
        return bool(found)


def _quoted(lexemes: list[str]) -> list[str]:
    """Lexemes as to_tsquery operands: quoted, so no word is read as an operator."""
    return ["'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" for lexeme in lexemes]


def _refuse_what_is_not_read_yet(query: ParsedQuery) -> None:
    if query.constrained:
        raise BadInput("Phrases and excluded words are not available on the PostgreSQL backend yet; "
                       "search the embedded index for them.")
    if any(unit.prefix or len(unit.words) > 1 for unit in query.units):
        raise BadInput("Prefixes (word*) and OR are not available on the PostgreSQL backend yet; "
                       "search the embedded index for them.")
