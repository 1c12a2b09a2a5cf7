"""The keyword index: SQLite FTS5 (bm25, porter stemming) over passages, safe for any text a user types.

`KeywordIndex` is the interface search and the indexer use (add, remove, search with filters,
finish a build); `Fts5KeywordIndex` is the embedded implementation over the build's database,
and every statement over `passages_fts` and `term_frequencies` lives here.
"""

from __future__ import annotations

import heapq
import sqlite3
import threading
from dataclasses import dataclass
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Protocol

from archivist.storage import text_tables
from archivist.storage.database import FTS_TOKENIZER, PLAIN_TOKENIZER, rows_for_ids
import numpy as np

from archivist.records import NO_FILTERS, Filters, ParsedQuery
from archivist.storage.fts_expressions import (all_words_expression, constraint_expressions, content_words,
                                               quoted, ranking_expression)
from archivist.storage.term_scores import TermScores

# Past this many passages an OR over common words makes FTS5 score most of the archive (265 ms
# a query at a million passages); there the commonest words are left out of the keyword query.
# Below it nothing is pruned, so quality on smaller collections is exactly plain bm25's.
PRUNE_FROM_PASSAGES = 200_000
# A word in more than this share of passages carries little bm25 weight and costs the most.
COMMON_SHARE = 0.01
MAX_TERMS = 6
MAX_REMEMBERED_STEMS = 100_000
_SCRATCH_LOCK = threading.Lock()


def selective_terms(terms: list[str], passages: int,
                    document_frequencies: Callable[[list[str]], dict[str, int]]) -> list[str]:
    """The query's terms, without the commonest when the archive is large enough for them to be
    slow (both backends: an any-word list over a million passages sums most of the archive).

    Keeps at most MAX_TERMS rarest terms that occur in at most COMMON_SHARE of passages; when all
    are common, the two rarest, so a query of everyday words still finds something."""
    if passages < PRUNE_FROM_PASSAGES or not terms:
        return terms
    frequencies = document_frequencies(terms)
    rarest = sorted((t for t in terms if frequencies[t] > 0), key=frequencies.__getitem__)
    kept = [t for t in rarest if frequencies[t] <= COMMON_SHARE * passages][:MAX_TERMS] or rarest[:2]
    return [t for t in terms if t in kept]

# bm25 column weights: (title, body). Equal: on SciFact's train split title 0.5 gave hybrid nDCG@10
# 0.745, 1.0 gave 0.749 and 2.0 0.748 (keyword alone 0.694 / 0.699 / 0.701); the seed questions
# ranked the same under all three.
TITLE_WEIGHT = 1.0
BODY_WEIGHT = 1.0


@dataclass(frozen=True)
class FtsTable:
    """One FTS5 table of passages and what goes with it: how it splits words, its term counts and
    the suffix of its scratch tables (each tokenizer needs its own)."""

    name: str
    tokenizer: str
    terms: str
    suffix: str


# English and undetected text: Porter-stemmed ("supported" finds "supports").
STEMMED = FtsTable("passages_fts", FTS_TOKENIZER, "term_frequencies", "")
# Text in another language: Porter's English suffix rules would join unrelated words there, so its
# words are matched as written (accents folded as in the stemmed table).
PLAIN = FtsTable("passages_fts_plain", PLAIN_TOKENIZER, "term_frequencies_plain", "_plain")


def settings() -> dict:
    """What shapes the stored keyword index, for the build's settings record."""
    return {"tokenizer": FTS_TOKENIZER, "other_languages_tokenizer": PLAIN_TOKENIZER}


class KeywordIndex(Protocol):
    """What search and the indexer need of a keyword index, whatever engine holds it."""

    def add(self, rows: Iterable[tuple[int, str, str]], plain_ids: Collection[int] = ()) -> None:
        """Index (passage id, headline, text) rows; those of `plain_ids` (another language than
        English) without English stemming."""

    def remove(self, passage_ids: Sequence[int]) -> None: ...

    def finish_build(self) -> None: ...

    def search(self, query: ParsedQuery, limit: int, filters: Filters = NO_FILTERS, passages: int = 0,
               every_word: bool = False) -> list[tuple[int, float]]: ...

    def constraint(self, query: ParsedQuery) -> "Constraint": ...

    def document_frequencies(self, words: list[str]) -> dict[str, int]: ...

    def terms_held(self, passage_ids: list[int], terms: list[str]) -> dict[int, set[str]]: ...


class Fts5KeywordIndex:
    """bm25 over one FTS5 table of a build's database: `passages_fts` (Porter-stemmed, the default)
    or `passages_fts_plain` (other languages' passages, words as written: PLAIN)."""

    def __init__(self, connection: sqlite3.Connection, table: "FtsTable | None" = None) -> None:
        self.connection = connection
        self.table = table or STEMMED
        # Summed per-word scores (term_scores.py) read the stemmed table's own structures.
        self.term_scores = TermScores(connection, TITLE_WEIGHT, BODY_WEIGHT)
        self._stems: dict[str, tuple[str, ...]] = {}

    def add(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """Index (passage id, headline, passage text as keyword-indexed) rows into this table."""
        self.connection.executemany(f"INSERT INTO {self.table.name}(rowid, title, body) VALUES (?, ?, ?)", rows)

    def remove(self, passage_ids: Sequence[int]) -> None:
        rows_for_ids(self.connection, f"DELETE FROM {self.table.name} WHERE rowid IN ({{marks}})", passage_ids)

    def finish_build(self) -> None:
        """Copy each stemmed term's passage count out of the FTS5 index (one scan: 4 s at a million
        passages) so a query can look its words up by key; fts5vocab itself counts on every read."""
        c = self.connection
        c.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab{self.table.suffix} USING fts5vocab(main, {self.table.name}, 'row')")
        c.execute(f"DELETE FROM {self.table.terms}")
        c.execute(f"INSERT INTO {self.table.terms}(term, passages) SELECT term, doc FROM temp.fts_vocab{self.table.suffix}")

    def document_frequencies(self, words: list[str]) -> dict[str, int]:
        """Passages containing each word, as FTS5 stems it (its own tokenizer, on a scratch table)."""
        frequencies = dict.fromkeys(words, 0)
        # One join: each word's stems (a word can hold several tokens) with their passage counts.
        for number, passages in self._scratch_words(
                words, f"SELECT q.doc, t.passages FROM temp.query_stems{self.table.suffix} q JOIN {self.table.terms} t ON t.term = q.term"):
            frequencies[words[number]] = max(frequencies[words[number]], passages)
        return frequencies

    def stems(self, words: list[str]) -> list[tuple[str, ...]]:
        """Each word's tokens as FTS5 stems them (usually one; "foo_bar" gives two). Remembered:
        a search asks for its words' stems twice (its keyword list, then its rating)."""
        unknown = [w for w in dict.fromkeys(words) if w not in self._stems]
        if unknown:
            found: list[list[str]] = [[] for _ in unknown]
            for number, term in self._scratch_words(unknown, f"SELECT doc, term FROM temp.query_stems{self.table.suffix} ORDER BY doc, offset"):
                found[number].append(term)
            if len(self._stems) > MAX_REMEMBERED_STEMS:
                self._stems.clear()
            self._stems.update(zip(unknown, map(tuple, found)))
        return [self._stems[w] for w in words]

    def _scratch_words(self, words: list[str], select: str) -> list[tuple]:
        """Rows of `select` over the scratch table holding `words` (row i: words[i]).

        Works on a read-only connection: the scratch tables live in the temp schema. One lookup at a
        time, since searches of several threads share a connection and so its scratch tables."""
        with _SCRATCH_LOCK:
            c = self.connection
            try:
                c.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_words{self.table.suffix} USING fts5(word, tokenize = '{self.table.tokenizer}')")
                c.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_stems{self.table.suffix} USING fts5vocab(temp, query_words{self.table.suffix}, 'instance')")
                c.execute(f"DELETE FROM temp.query_words{self.table.suffix}")
                c.executemany(f"INSERT INTO temp.query_words{self.table.suffix}(rowid, word) VALUES (?, ?)",
                              ((number, word) for number, word in enumerate(words)))
                rows = c.execute(select).fetchall()
                c.execute(f"DELETE FROM temp.query_words{self.table.suffix}")
                return rows
            finally:
                c.commit()  # end the implicit transaction the scratch writes opened

    def count_articles(self, query: ParsedQuery, filters: Filters = NO_FILTERS) -> int:
        """How many articles hold every word of the query in one passage (Keyword mode's matches)."""
        expression = all_words_expression(query)
        if expression is None:
            return 0
        clause, params = text_tables.filter_clause(filters) if filters.active else ("", ())
        return self.connection.execute(
            f"SELECT count(DISTINCT p.article_id) FROM {self.table.name} JOIN passages p ON p.id = {self.table.name}.rowid "
            f"JOIN articles a ON a.id = p.article_id WHERE {self.table.name} MATCH ?" + (f" AND {clause}" if clause else ""),
            (expression, *params)).fetchone()[0]

    def phrase_ids(self, words: list[str], limit: int, filters: Filters = NO_FILTERS) -> list[int]:
        """Passages whose text holds `words` in this order (at most `limit`), within `filters`."""
        sql = f"SELECT {self.table.name}.rowid FROM {self.table.name} "
        clause, params = text_tables.filter_clause(filters) if filters.active else ("", ())
        if clause:
            sql += f"JOIN passages p ON p.id = {self.table.name}.rowid JOIN articles a ON a.id = p.article_id "
        sql += f"WHERE {self.table.name} MATCH ? " + (f"AND {clause} " if clause else "") + "LIMIT ?"
        return [r[0] for r in self.connection.execute(sql, (f"body : {quoted(' '.join(words))}", *params, limit))]

    def terms_held(self, passage_ids: list[int], terms: list[str]) -> dict[int, set[str]]:
        """Which of `terms` (as FTS5 stems them) each passage holds, in its headline or text: one
        indexed lookup a term among the given passages (1.3 ms for ten hits of a Reuters headline)."""
        held: dict[int, set[str]] = {pid: set() for pid in passage_ids}
        marks = ",".join("?" * len(passage_ids))
        ids = np.asarray(passage_ids, dtype=np.int64)
        for term, stems in zip(terms, self.stems(terms)):
            holding = self.term_scores.holding(term, stems, ids)
            if holding is not None:  # its passage list is in memory: no statement needed
                for pid in ids[holding]:
                    held[int(pid)].add(term)
                continue
            for (pid,) in self.connection.execute(
                    f"SELECT rowid FROM {self.table.name} WHERE {self.table.name} MATCH ? AND rowid IN ({marks})",
                    (quoted(term), *passage_ids)):
                held[pid].add(term)
        return held

    def selective_terms(self, terms: list[str], passages: int) -> list[str]:
        return selective_terms(terms, passages, self.document_frequencies)

    def search(self, query: ParsedQuery, limit: int, filters: Filters = NO_FILTERS, passages: int = 0,
               every_word: bool = False) -> list[tuple[int, float]]:
        """Top passages as (passage id, bm25 score; higher is better) for `query`: any of its words
        (bm25 ranks by how many and how rare), or with `every_word` all of them (Keyword mode);
        its phrases required and its excluded words absent either way.

        `passages` (the archive's passage count) lets large archives leave out their commonest
        words from an any-word query."""
        if every_word:
            expression = all_words_expression(query)
        else:
            terms = self.selective_terms(content_words(query), passages)
            if not filters.active and _only_plain_words(query):
                # The same bm25 as the OR query, summed per word (term_scores.py).
                return self.term_scores.top(list(zip(terms, self.stems(terms))), limit)
            expression = ranking_expression(query, terms)
        if expression is None:
            return []
        sql = (f"SELECT {self.table.name}.rowid AS id, -bm25({self.table.name}, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS score "
               f"FROM {self.table.name} ")
        clause, params = text_tables.filter_clause(filters) if filters.active else ("", ())
        if clause:
            sql += (f"JOIN passages p ON p.id = {self.table.name}.rowid JOIN articles a ON a.id = p.article_id "
                    f"WHERE {self.table.name} MATCH ? AND {clause} ")
        else:
            sql += f"WHERE {self.table.name} MATCH ? "
        # Ordering by the selected score computes bm25 once a row (ordering by a second bm25() call
        # computed it twice).
        sql += "ORDER BY score DESC LIMIT ?"
        rows = self.connection.execute(sql, (expression, *params, limit)).fetchall()
        return [(int(r["id"]), float(r["score"])) for r in rows]

    def every_match(self, query: ParsedQuery, filters: Filters = NO_FILTERS) -> Iterator[tuple[int, float]]:
        """Every passage holding every word of `query` (Keyword mode's matches, phrases and
        exclusions applied), best bm25 first, read from the cursor as the caller goes: an export
        of a whole archive never holds more than SQLite's sort in memory."""
        expression = all_words_expression(query)
        if expression is None:
            return
        clause, params = text_tables.filter_clause(filters) if filters.active else ("", ())
        sql = (f"SELECT {self.table.name}.rowid, -bm25({self.table.name}, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS score "
               f"FROM {self.table.name} ")
        if clause:
            sql += f"JOIN passages p ON p.id = {self.table.name}.rowid JOIN articles a ON a.id = p.article_id "
        sql += f"WHERE {self.table.name} MATCH ? " + (f"AND {clause} " if clause else "") + "ORDER BY score DESC"
        for passage_id, score in self.connection.execute(sql, (expression, *params)):
            yield int(passage_id), float(score)

    def holds(self, text: str, query: ParsedQuery, every_word: bool) -> bool:
        """Whether `text` alone holds what `query` requires: every word with `every_word`
        (Keyword mode), else its phrases. A result trimmed to what a better one does not already
        show must still hold the words it was found by."""
        expression = all_words_expression(query) if every_word else constraint_expressions(query)[0]
        return expression is None or self._text_matches(text, expression)

    def _text_matches(self, text: str, expression: str) -> bool:
        """Whether `text` alone matches an FTS5 expression, stemmed as the index stems."""
        with _SCRATCH_LOCK:
            c = self.connection
            try:
                c.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.check_text{self.table.suffix} USING fts5(title, body, "
                          f"tokenize = '{self.table.tokenizer}')")
                c.execute(f"DELETE FROM temp.check_text{self.table.suffix}")
                c.execute(f"INSERT INTO temp.check_text{self.table.suffix}(rowid, title, body) VALUES (1, '', ?)", (text,))
                return c.execute(f"SELECT 1 FROM temp.check_text{self.table.suffix} WHERE check_text{self.table.suffix} MATCH ?", (expression,)).fetchone() is not None
            finally:
                c.execute(f"DELETE FROM temp.check_text{self.table.suffix}")
                c.commit()

    def constraint(self, query: ParsedQuery) -> "Constraint":
        """The passages the query's phrases allow (None: no phrase) and those its exclusions rule out."""
        required, excluded = constraint_expressions(query)
        return Constraint(self._matching(required) if required else None,
                          self._matching(excluded) if excluded else frozenset())

    def _matching(self, expression: str) -> frozenset[int]:
        return frozenset(r[0] for r in self.connection.execute(
            f"SELECT rowid FROM {self.table.name} WHERE {self.table.name} MATCH ?", (expression,)))


class LanguageSplitKeywordIndex:
    """The keyword index a build searches: English (and undetected) passages in the stemmed table,
    passages of other languages in the plain one, every read asked of both and merged by score.

    bm25 scores of the two tables come from their own collections; each is bm25 over the passages
    of its kind, which is what a reader of that language's results wants. While the plain table
    is empty (an English archive) it is never queried, so English search costs what it did."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.stemmed = Fts5KeywordIndex(connection, STEMMED)
        self.plain = Fts5KeywordIndex(connection, PLAIN)
        self._has_plain: bool | None = None

    @property
    def parts(self) -> list[Fts5KeywordIndex]:
        if self._has_plain is None:
            self._has_plain = self.connection.execute(
                f"SELECT 1 FROM {PLAIN.name} LIMIT 1").fetchone() is not None
        return [self.stemmed, self.plain] if self._has_plain else [self.stemmed]

    def add(self, rows: Iterable[tuple[int, str, str]], plain_ids: Collection[int] = ()) -> None:
        """Index rows as Fts5KeywordIndex.add does; those of `plain_ids` unstemmed."""
        rows = list(rows)
        self.stemmed.add(r for r in rows if r[0] not in plain_ids)
        self.plain.add(r for r in rows if r[0] in plain_ids)
        self._has_plain = None

    def remove(self, passage_ids: Sequence[int]) -> None:
        self.stemmed.remove(passage_ids)
        self.plain.remove(passage_ids)

    def finish_build(self) -> None:
        self.stemmed.finish_build()
        self.plain.finish_build()

    def search(self, query: ParsedQuery, limit: int, filters: Filters = NO_FILTERS, passages: int = 0,
               every_word: bool = False) -> list[tuple[int, float]]:
        found = [hit for part in self.parts for hit in part.search(query, limit, filters, passages, every_word)]
        return sorted(found, key=lambda hit: -hit[1])[:limit] if len(self.parts) > 1 else found

    def every_match(self, query: ParsedQuery, filters: Filters = NO_FILTERS) -> Iterator[tuple[int, float]]:
        return heapq.merge(*(part.every_match(query, filters) for part in self.parts), key=lambda hit: -hit[1])

    def count_articles(self, query: ParsedQuery, filters: Filters = NO_FILTERS) -> int:
        return sum(part.count_articles(query, filters) for part in self.parts)  # an article is one language

    def phrase_ids(self, words: list[str], limit: int, filters: Filters = NO_FILTERS) -> list[int]:
        return [pid for part in self.parts for pid in part.phrase_ids(words, limit, filters)][:limit]

    def terms_held(self, passage_ids: list[int], terms: list[str]) -> dict[int, set[str]]:
        held: dict[int, set[str]] = {pid: set() for pid in passage_ids}
        for part in self.parts:
            for pid, found in part.terms_held(passage_ids, terms).items():
                held[pid] |= found
        return held

    def document_frequencies(self, words: list[str]) -> dict[str, int]:
        frequencies = dict.fromkeys(words, 0)
        for part in self.parts:
            for word, count in part.document_frequencies(words).items():
                frequencies[word] += count
        return frequencies

    def holds(self, text: str, query: ParsedQuery, every_word: bool) -> bool:
        return any(part.holds(text, query, every_word) for part in self.parts)

    def constraint(self, query: ParsedQuery) -> "Constraint":
        found = [part.constraint(query) for part in self.parts]
        required = [c.required for c in found if c.required is not None]
        return Constraint(frozenset().union(*required) if required else None,
                          frozenset().union(*(c.excluded for c in found)))


def _only_plain_words(query: ParsedQuery) -> bool:
    """Whether the query is words alone: no prefix, phrase or excluded word for FTS5 to apply."""
    return not (query.phrases or query.excluded or any(u.prefix for u in query.units))


@dataclass(frozen=True)
class Constraint:
    """A query's hard constraints as passage ids, for retrievers that cannot read the query language."""

    required: frozenset[int] | None  # the only passages allowed (they hold every phrase); None: any
    excluded: frozenset[int]  # passages holding an excluded word

    def allows(self, passage_id: int) -> bool:
        return passage_id not in self.excluded and (self.required is None or passage_id in self.required)

    def allowed_ids(self, allowed: np.ndarray | None) -> np.ndarray | None:
        """`allowed` (None: every passage) narrowed to what the constraint allows, as far as ids
        can say it without the full list: required phrases narrow it, exclusions only a given list."""
        if self.required is not None:
            required = np.fromiter(self.required, dtype=np.int64, count=len(self.required))
            allowed = required if allowed is None else np.intersect1d(allowed, required)
        if allowed is not None and self.excluded:
            allowed = allowed[~np.isin(allowed, np.fromiter(self.excluded, dtype=np.int64))]
        return allowed


NO_CONSTRAINT = Constraint(None, frozenset())
