"""Retrieval: the candidate lists of a query, one per retriever, fused into one ranking.

Each retriever has the same verb, `retrieve(query, depth, filters)`, and returns (passage id,
score) best first; `Retrieval` runs the ones a mode needs side by side and fuses their lists.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from archivist.errors import BadInput
from archivist.query.fusion import score_fusion
from archivist.query.exactness import exact_boosts
from archivist.query.syntax import parse_query
from archivist.records import Filters, ParsedQuery
from archivist.storage.keyword_index import NO_CONSTRAINT, Constraint, KeywordIndex
from archivist.storage.vector_index import VectorIndex

MODES = ("hybrid", "semantic", "keyword")
# Score fusion: passage cosine + 0.3 x bm25 / the query's top bm25 (see fusion.score_fusion).
# Chosen on SciFact's train split, where score fusion beat every rank fusion tried; keyword 0.4-0.5
# scored 0.002-0.003 higher there, within noise, and 0.4 had put seed answers below third before.
FUSION_WEIGHTS = {"keyword": 0.3}
# An aside (a photo caption, a keyword line, a link to another story: ingest/clutter.py) ranks
# below text that answers as well: it loses this share of its score (fused, or bm25 in Keyword
# mode). A share, not a fixed amount: a teaser that repeats a headline word for word embeds
# closer to a query of those words than the article's own longer paragraph does (cosine 1.0
# against 0.86 in tests/test_asides.py), and still ranks below it. An aside that alone holds what
# was asked ("Black Hawk helicopter", a caption's words) still leads.
ASIDE_DEMOTION = {"fused": 0.2, "keyword": 0.5}
# An excluded word is honoured by fetching this many more vector candidates at most, then dropping them.
MAX_EXCLUDED_OVERFETCH = 20_000

Ranked = list[tuple[int, float, dict[str, int]]]  # (passage id, fused score, {list: rank}) best first
Candidates = list[tuple[int, float]]


@dataclass
class Query:
    """What the user asked: its words read for operators, and its embedding once a retriever needed it."""

    text: str
    vector: np.ndarray | None = None  # (1, d), L2-normalised
    parsed: ParsedQuery | None = None
    constraint: Constraint = NO_CONSTRAINT

    def __post_init__(self) -> None:
        if self.parsed is None:
            self.parsed = parse_query(self.text)

    @property
    def embed_text(self) -> str:
        """What the model reads: the query without its operators and excluded words."""
        return self.parsed.text


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise BadInput(f"Unknown search mode {mode!r}; use one of: {', '.join(MODES)}.")
    return mode


def demote_asides(ranked: Ranked, asides: Collection[int], keyword_scale: bool) -> Ranked:
    """`ranked` with each aside's score lowered by its share (ASIDE_DEMOTION), best first."""
    if not asides or not any(row[0] in asides for row in ranked):
        return ranked
    share = ASIDE_DEMOTION["keyword" if keyword_scale else "fused"]
    rows = [(pid, score - share * abs(score) if pid in asides else score, ranks) for pid, score, ranks in ranked]
    return sorted(rows, key=lambda row: -row[1])


def with_boosts(fused: Ranked, boosts: dict[int, float], cosines: Callable[[list[int]], dict[int, float]]) -> Ranked:
    """The fused ranking with each boosted passage's bonus added (a passage neither list found
    enters with its cosine), best first again; the bonus shows as the "exact" list's rank 1."""
    if not boosts:
        return fused
    scores = {pid: (score, ranks) for pid, score, ranks in fused}
    missing = [pid for pid in boosts if pid not in scores]
    for pid, cosine in cosines(missing).items():
        scores[pid] = (cosine, {})
    for pid, bonus in boosts.items():
        score, ranks = scores[pid]
        scores[pid] = (score + bonus, {**ranks, "exact": 1})
    return sorted(((pid, s, r) for pid, (s, r) in scores.items()), key=lambda row: -row[1])


class DenseRetriever:
    """Passages by meaning: the query vector against the vector index, filters as an allow list."""

    name = "semantic"

    def __init__(self, index: VectorIndex, allowed_ids: Callable[[Filters], np.ndarray]) -> None:
        self.index = index
        self.allowed_ids = allowed_ids

    def retrieve(self, query: Query, depth: int, filters: Filters) -> Candidates:
        allowed = query.constraint.allowed_ids(self.allowed_ids(filters) if filters.active else None)
        fetch = depth
        if allowed is None and query.constraint.excluded:  # over-fetch, then drop what is excluded
            fetch = min(depth + len(query.constraint.excluded), depth + MAX_EXCLUDED_OVERFETCH)
        scores, ids = self.index.search(query.vector, fetch, allowed)
        found = [(int(i), float(s)) for s, i in zip(scores[0], ids[0]) if i >= 0]
        return [pair for pair in found if pair[0] not in query.constraint.excluded][:depth]


class KeywordRetriever:
    """Passages by words: bm25 over the keyword index."""

    name = "keyword"

    def __init__(self, index: KeywordIndex, passages: int) -> None:
        self.index = index
        self.passages = passages  # the archive's size, so a large one can leave out common words

    def retrieve(self, query: Query, depth: int, filters: Filters, every_word: bool = False) -> Candidates:
        """Any of the query's words ranks; with `every_word` (Keyword mode) a passage needs them all."""
        return self.index.search(query.parsed, depth, filters, passages=self.passages, every_word=every_word)


class Retrieval:
    """The fused ranking of a query in one mode, from the retrievers that mode needs."""

    def __init__(self, dense: DenseRetriever, keyword: KeywordRetriever,
                 embed_query: Callable[[str], np.ndarray], asides: Collection[int] = ()) -> None:
        self.asides = asides  # passage ids of captions, keyword lines and links (demote_asides)
        self.dense = dense
        self.keyword = keyword
        self.embed_query = embed_query
        # bm25 runs in SQLite (no GIL) beside the query embedding and vector search: on two cores
        # the slowest list, not the sum of all three, sets the search time.
        self._keyword_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archivist-keyword")

    def ranked(self, query: Query, depth: int, mode: str, filters: Filters, every_word: bool = True) -> Ranked:
        """Fused (passage id, score, ranks per list) from `depth` candidates of each retriever; a
        dense mode embeds `query` here unless it carries its vector. Keyword mode requires every
        word of the query unless `every_word` is False (evaluation ranks the bm25 list itself)."""
        check_mode(mode)
        if mode == "keyword":
            return demote_asides([(i, s, {"keyword": r}) for r, (i, s) in enumerate(
                self.keyword.retrieve(query, depth, filters, every_word=every_word), start=1)], self.asides, True)
        keyword_later = (self._keyword_worker.submit(self.keyword.retrieve, query, depth, filters)
                         if mode == "hybrid" else None)
        if query.parsed.constrained:
            query.constraint = self.keyword.index.constraint(query.parsed)
        lists: dict[str, Candidates] = {}
        if query.vector is None:
            query.vector = self.embed_query(query.embed_text)
        lists["semantic"] = self.dense.retrieve(query, depth, filters)
        if keyword_later is not None:
            lists["keyword"] = keyword_later.result()
        cosines = lambda ids: dict(zip(ids, self.dense.index.cosines(ids, query.vector)))  # noqa: E731
        fused = with_boosts(score_fusion(lists, FUSION_WEIGHTS, cosines),
                            exact_boosts(query.parsed, self.keyword.index, self.keyword.passages, filters), cosines)
        fused = demote_asides(fused, self.asides, False)
        return [r for r in fused if query.constraint.allows(r[0])] if query.parsed.constrained else fused

    def close(self) -> None:
        self._keyword_worker.shutdown(wait=True)
