"""bm25 of an any-word query summed from each word's share, kept in memory once read.

FTS5 scores a query `"a" OR "b" OR ...` per matching passage, and that per-row scoring is what
costs: on Reuters-21578 (36k passages) a headline such as "u.s. energy costs rose in february
by 1.9 pct" matches 28k passages and took 35-41 ms, because words like "s" (of "u.s.") and "pct"
sit in a quarter to a half of all passages. bm25 is a sum over the query's phrases, each
phrase's term computed from that phrase alone (its idf over the whole table, its count in the
row, the row's length), so the score of the OR query is exactly the sum of each word's own
bm25, read once per build per word and kept. A warm query then costs a few numpy operations
over the words' passage lists instead of one FTS5 scoring pass over every passage that holds any
of them; the first read of a word costs about 2 us a passage holding it (once per process).
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from archivist.storage.fts_expressions import quoted

# Passages kept in all the cached lists together (12 bytes each: 48 MB), least recently used first out.
MAX_CACHED_PASSAGES = 4_000_000
# FTS5's bm25 constants (fts5_aux.c), which the scores computed here must reproduce.
K1 = 1.2
B = 0.75

Scored = tuple[np.ndarray, np.ndarray]  # (passage ids ascending, int64; bm25 share of each, float64)
Word = tuple[str, tuple[str, ...]]  # a query word and its tokens as FTS5 stems them


class TermScores:
    """Each word's bm25 contribution to every passage holding it, computed on first use and kept.

    A word that is one token is read from FTS5's own index through its instance vocabulary (one
    row per occurrence: 4 ms for a stem in half of Reuters' passages, where scoring the same rows
    with bm25() took 31 ms) and scored here with FTS5's formula, over the row lengths read once
    from its docsize table. A word of several tokens (FTS5 reads it as a phrase) is scored by
    FTS5 itself. tests/test_term_scores.py checks the scores against FTS5's."""

    def __init__(self, connection: sqlite3.Connection, title_weight: float, body_weight: float,
                 budget: int = MAX_CACHED_PASSAGES) -> None:
        self.connection = connection
        self.weights = (title_weight, body_weight)
        self.budget = budget
        self._cache: OrderedDict[str, Scored] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()
        self._lengths: np.ndarray | None = None  # tokens of each row, by rowid
        self._rows = 0
        self._average = 0.0

    def cached(self, word: Word) -> Scored | None:
        key = _key(word)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
            return found

    def of(self, word: Word) -> Scored:
        """The passages holding `word` (as FTS5 matches the quoted word) and its bm25 in each."""
        found = self.cached(word)
        if found is not None:
            return found
        found = self._read_stem(word[1][0]) if self._by_stem(word) else self._read_phrase(word[0])
        key = _key(word)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = found
                self._held += len(found[0])
            while self._held > self.budget and len(self._cache) > 1:
                _, dropped = self._cache.popitem(last=False)
                self._held -= len(dropped[0])
        return found

    def _by_stem(self, word: Word) -> bool:
        # Equal column weights make a row's count of a stem its weighted frequency, as FTS5 sums it.
        return len(word[1]) == 1 and self.weights[0] == self.weights[1]

    def _read_stem(self, stem: str) -> Scored:
        self._read_lengths()
        (occurrences,) = self.connection.execute(
            "SELECT group_concat(doc) FROM temp.fts_instances WHERE term = ?", (stem,)).fetchone()
        if not occurrences:
            return _empty()
        ids, counts = np.unique(np.array(occurrences.split(","), dtype=np.int64), return_counts=True)
        frequency = counts * self.weights[1]
        idf = math.log((self._rows - len(ids) + 0.5) / (len(ids) + 0.5))
        idf = idf if idf > 0 else 1e-6  # as FTS5 does: a word in over half the rows still counts a little
        lengths = self._lengths[ids]
        return ids, idf * (frequency * (K1 + 1.0)) / (frequency + K1 * (1.0 - B + B * lengths / self._average))

    def _read_lengths(self) -> None:
        """Each row's length in tokens (all columns), from FTS5's docsize table, once per build."""
        if self._lengths is not None:
            return
        with self._lock:
            if self._lengths is not None:
                return
            self.connection.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_instances "
                                    "USING fts5vocab(main, passages_fts, 'instance')")
            self.connection.commit()
            rows = self.connection.execute("SELECT id, sz FROM passages_fts_docsize").fetchall()
            lengths = np.zeros(max((r[0] for r in rows), default=0) + 1, dtype=np.float64)
            for rowid, size in rows:
                lengths[rowid] = _varint_sum(size)
            self._rows = len(rows)
            self._average = float(lengths.sum()) / max(1, len(rows))
            self._lengths = lengths

    def _read_phrase(self, word: str) -> Scored:
        # group_concat hands the whole list over as two strings (half the time of one row each);
        # the inner LIMIT keeps SQLite from flattening bm25() into the aggregate, where it cannot run.
        ids, scores = self.connection.execute(
            "SELECT group_concat(id), group_concat(score) FROM (SELECT rowid AS id, "
            f"-bm25(passages_fts, {self.weights[0]}, {self.weights[1]}) AS score FROM passages_fts "
            "WHERE passages_fts MATCH ? ORDER BY rowid LIMIT -1)", (quoted(word),)).fetchone()
        if not ids:
            return _empty()
        return np.array(ids.split(","), dtype=np.int64), np.array(scores.split(","), dtype=np.float64)

    def top(self, words: Sequence[Word], limit: int) -> list[tuple[int, float]]:
        """The `limit` best (passage id, bm25) for a passage holding any of `words`, best first
        (ties by id): the scores FTS5 gives the OR of the quoted words (a word repeated in
        another form, "cost" and "costs", counts twice there too)."""
        parts = [self.of(word) for word in words if word[1]]
        parts = [p for p in parts if len(p[0])]
        if not parts or limit < 1:
            return []
        ids = np.concatenate([p[0] for p in parts])
        scores = np.concatenate([p[1] for p in parts])
        if len(parts) > 1:
            ids, scores = _summed_by_id(ids, scores)
        count = min(limit, len(ids))
        best = np.argpartition(-scores, count - 1)[:count] if count < len(ids) else np.arange(len(ids))
        best = best[np.lexsort((ids[best], -scores[best]))]
        return [(int(i), float(s)) for i, s in zip(ids[best], scores[best])]

    def holding(self, word: str, stems: tuple[str, ...], passage_ids: np.ndarray) -> np.ndarray | None:
        """Which of `passage_ids` hold `word`, when its list is already read (else None)."""
        found = self.cached((word, stems))
        if found is None:
            return None
        ids = found[0]
        if not len(ids):
            return np.zeros(len(passage_ids), dtype=bool)
        at = np.searchsorted(ids, passage_ids)
        return (at < len(ids)) & (ids[np.minimum(at, len(ids) - 1)] == passage_ids)


def _key(word: Word) -> str:
    """One cache entry per stem for one-token words ("cost" and "costs" share it), else per word."""
    return f"stem:{word[1][0]}" if len(word[1]) == 1 else f"word:{word[0]}"


def _empty() -> Scored:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)


def _varint_sum(blob: bytes) -> int:
    """The sum of the varints in an FTS5 docsize record (one per column; SQLite's varints put the
    high bits first, and a set top bit means another byte follows)."""
    total = value = 0
    for byte in blob:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            total, value = total + value, 0
    return total


def _summed_by_id(ids: np.ndarray, scores: np.ndarray) -> Scored:
    """One (id, summed score) per distinct id, ids ascending: by a dense count over the id range
    when it is not much wider than the lists (the usual case), else by sorting."""
    widest = int(ids.max()) + 1
    if widest <= 8 * len(ids):
        present = np.flatnonzero(np.bincount(ids, minlength=widest))
        return present, np.bincount(ids, weights=scores, minlength=widest)[present]
    unique, inverse = np.unique(ids, return_inverse=True)
    return unique, np.bincount(inverse, weights=scores, minlength=len(unique))
