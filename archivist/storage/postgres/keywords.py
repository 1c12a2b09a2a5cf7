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

import uuid
from collections.abc import Callable, Iterator

from archivist.errors import IndexIncompatible
from archivist.records import NO_FILTERS, Filters, ParsedQuery
from archivist.storage.fts_expressions import content_words
from archivist.storage.keyword_index import Constraint, selective_terms
from archivist.storage.postgres.filtering import passage_restriction
from archivist.storage.postgres.generations import bm25_share, partition
from archivist.storage.postgres.phrase_scores import phrase_frequency, phrase_layout, prefix_frequency, term_share
from archivist.storage.postgres.tsqueries import (Parameters, by_passage_config, constraint_conditions, match_condition,
                                                  phrase_condition, prefix_condition, text_condition)

# One query's bm25: candidates by the GIN index, then each candidate's share of every query word
# it holds, plus the share of each phrase and prefix (FTS5 scores those as one term each:
# phrase_scores.py).
BM25 = f"""
SELECT p.id, coalesce((
    SELECT sum({bm25_share("%(n)s", "t.passages", "cardinality(u.positions)", "l.words", "%(average)s")})
    FROM unnest(p.tsv) u JOIN {{term_stats}} t ON t.lexeme = u.lexeme WHERE u.lexeme = ANY(%(lexemes)s)
), 0){{extra}} AS score
FROM {{passages}} p
JOIN {{passage_words}} l ON l.id = p.id
WHERE {{matches}}{{restriction}}
ORDER BY score DESC, p.id
"""
MAX_REMEMBERED_TERMS = 10_000
EVERY_MATCH_BATCH = 2_000  # rows an export fetches from the server at a time  # phrase and prefix counts kept per generation (then forgotten)
# The same scores for an any-word query, from the shares stored when the generation was built
# (joined to the passages only when filters restrict their articles).
POSTINGS = """
SELECT t.id, sum(t.score) AS score FROM {term_postings} t{join} WHERE t.lexeme = ANY(%(lexemes)s){restriction}
GROUP BY t.id ORDER BY score DESC, t.id LIMIT %(limit)s
"""


class PgKeywordIndex:
    """The keyword verbs retrieval and the exact-words bonuses read, over one generation in Postgres.

    Filters are the embedded backend's SQL condition (`filtering`); the query language's
    phrases, exclusions, OR groups and prefixes are tsquery conditions (`tsqueries`).
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
        # How many passages hold a phrase or a prefix (its idf): a published generation never
        # changes, so each is counted once, not again for every search and page that asks.
        self._holding: dict[tuple, int] = {}

    def search(self, query: ParsedQuery, limit: int, filters: Filters = NO_FILTERS, passages: int = 0,
               every_word: bool = False) -> list[tuple[int, float]]:
        """Top passages as (passage id, bm25 score; higher is better): any of the query's words,
        or with `every_word` all of them (Keyword mode); its phrases required and its excluded
        words absent either way."""
        lexemes, restriction, restricted = self._prepared(query, filters)
        if self.postings and not every_word and _plain(query):
            # As on the embedded index, a large archive leaves its commonest words out of the
            # any-word list (summing their posting lists took 10 s a query at a million passages).
            words = selective_terms(content_words(query), passages, self.document_frequencies)
            lexemes = self._all_lexemes(words)
            if not lexemes:
                return []
            join = f" JOIN {self.tables['passages']} p ON p.id = t.id" if restriction else ""
            rows = self.connection.execute(POSTINGS.format(join=join, restriction=restriction, **self.tables),
                                           {"lexemes": lexemes, "limit": limit, **restricted}).fetchall()
            self.connection.commit()
            return [(int(i), float(s)) for i, s in rows]
        scored = self._bm25(query, lexemes, restriction, restricted, every_word)
        if scored is None:
            return []
        statement, params = scored
        rows = self.connection.execute(statement + " LIMIT %(limit)s", {**params, "limit": limit}).fetchall()
        self.connection.commit()
        return [(int(i), float(s)) for i, s in rows]

    def _prepared(self, query: ParsedQuery, filters: Filters) -> tuple[list[str], str, dict]:
        """The query's words as the index's configurations stem them, and the filters' restriction."""
        return (self._all_lexemes(content_words(query)), *passage_restriction(filters, self.generation))

    def _all_lexemes(self, words: list[str]) -> list[str]:
        """The words as each of the generation's configurations stems them."""
        return sorted({word for config in self.configs for word in self._lexemes(config, words)}) if words else []

    def _bm25(self, query: ParsedQuery, lexemes: list[str], restriction: str, restricted: dict,
              every_word: bool) -> tuple[str, dict] | None:
        """The BM25 statement (best first, no limit) and its parameters; None when the query asks
        for nothing the index holds."""
        params = Parameters()
        matches = match_condition(query, self.configs, every_word, params)
        if matches is None:
            return None
        extra = "".join(f" + {share}" for share in self._phrase_and_prefix_shares(query, params))
        statement = BM25.format(matches=f"({matches})", extra=extra, restriction=restriction, **self.tables)
        return statement, {"n": self.passages, "average": float(self.average_words), "lexemes": lexemes,
                           **restricted, **params}

    def every_match(self, query: ParsedQuery, filters: Filters = NO_FILTERS) -> Iterator[tuple[int, float]]:
        """Every passage holding every word of `query` (Keyword mode's matches, phrases and
        exclusions applied), best bm25 first, fetched EVERY_MATCH_BATCH at a time from a cursor
        held on the server (WITH HOLD: it outlives the transaction, so other reads on this
        connection meanwhile do not end it); an export of a whole archive never holds every
        match in this process."""
        lexemes, restriction, restricted = self._prepared(query, filters)
        scored = self._bm25(query, lexemes, restriction, restricted, every_word=True)
        if scored is None:
            self.connection.commit()
            return
        statement, params = scored
        with self.connection.cursor(name=f"every_match_{uuid.uuid4().hex[:12]}", withhold=True) as cursor:
            cursor.itersize = EVERY_MATCH_BATCH
            cursor.execute(statement, params)
            self.connection.commit()
            for passage_id, score in cursor:
                yield int(passage_id), float(score)
        self.connection.commit()

    def _phrase_and_prefix_shares(self, query: ParsedQuery, params: Parameters) -> list[str]:
        """SQL of each phrase's and prefix's bm25 share in passage `p`, as one term each."""
        shares = []
        for phrase in query.phrases:
            layouts = {c: phrase_layout(self.connection, c, phrase) for c in self.configs}
            frequency = self._by_config({c: phrase_frequency(layout, params) if layout else "0"
                                         for c, layout in layouts.items()})
            holding = self._count(("phrase", phrase), lambda: by_passage_config(
                {c: phrase_condition(c, [phrase], params) for c in self.configs}), params)
            shares.append(term_share(frequency, holding, self.passages, self.average_words))
        for unit in query.units:
            if unit.prefix:
                frequency = self._by_config({c: prefix_frequency(self._prefix_pattern(c, unit.words[0]), params)
                                             for c in self.configs})
                holding = self._count(("prefix", unit.words[0]), lambda: by_passage_config(
                    {c: prefix_condition(c, unit, params) for c in self.configs}), params)
                shares.append(term_share(frequency, holding, self.passages, self.average_words))
        self.connection.commit()
        return shares

    def _by_config(self, expressions: dict[str, str]) -> str:
        """One SQL expression taking each passage's value under its own configuration."""
        if len(self.configs) == 1:
            return expressions[self.configs[0]]
        return f"(CASE WHEN p.stemmed THEN {expressions['english']} ELSE {expressions['simple']} END)"

    def _count(self, term: tuple, condition: Callable[[], str], params: Parameters) -> int:
        """How many passages of the generation hold `term` (its idf, over the whole index): the
        passages matching `condition`, counted the first time it is asked."""
        if term not in self._holding:
            if len(self._holding) > MAX_REMEMBERED_TERMS:
                self._holding.clear()
            self._holding[term] = int(self.connection.execute(
                f"SELECT count(*) FROM {self.tables['passages']} p WHERE {condition()}", params).fetchone()[0])
        return self._holding[term]

    def _prefix_pattern(self, config: str, word: str) -> str:
        """The LIKE pattern of the stems a prefix (word*) expands to, stemmed as `config` stems it."""
        stem = next(iter(self._lexemes(config, [word])), word)
        return stem.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

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

    def constraint(self, query: ParsedQuery) -> Constraint:
        """The passages the query's phrases allow (None: no phrase) and those its exclusions rule out."""
        params = Parameters()
        required, excluded = constraint_conditions(query, self.configs, params)
        return Constraint(self._matching(required, params) if required else None,
                          self._matching(excluded, params) if excluded else frozenset())

    def _matching(self, condition: str, params: Parameters) -> frozenset[int]:
        rows = self.connection.execute(f"SELECT p.id FROM {self.tables['passages']} p WHERE {condition}",
                                       params).fetchall()
        self.connection.commit()
        return frozenset(int(row[0]) for row in rows)

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

    def count_articles(self, query: ParsedQuery, filters: Filters = NO_FILTERS) -> int:
        """How many articles hold every word of the query in one passage's text, with its phrases
        and without its excluded words (Keyword mode's matches)."""
        params = Parameters()
        matches = match_condition(query, self.configs, True, params)
        if matches is None:
            return 0
        restriction, restricted = passage_restriction(filters, self.generation)
        count = self.connection.execute(
            f"SELECT count(DISTINCT p.article_id) FROM {self.tables['passages']} p WHERE ({matches}){restriction}",
            {**params, **restricted}).fetchone()[0]
        self.connection.commit()
        return int(count)

    def holds(self, text: str, query: ParsedQuery, every_word: bool) -> bool:
        """Whether `text` alone holds what `query` requires: every word with `every_word`
        (Keyword mode), else its phrases; stemmed as the index stems."""
        params = Parameters()
        condition = text_condition(query, self.configs, every_word, params)
        if condition is None:
            return True
        found = self.connection.execute(f"SELECT {condition}", {"text": text, **params}).fetchone()[0]
        self.connection.commit()
        return bool(found)


def _plain(query: ParsedQuery) -> bool:
    """No phrase, exclusion or prefix: an any-word query the stored postings answer."""
    return not query.constrained and not any(unit.prefix for unit in query.units)

