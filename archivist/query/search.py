"""Search: the one object the CLI, the page and evaluation use to query a published build.

A facade over the query stages, each a module of its own: syntax (the query language), filters
(checked), retrieval (dense and keyword lists, fused, exact-words bonuses), grouping (hits with
copies and neighbours), relevance (the calibrated scale), best_sentence; browse holds the reads
that are not searches. It opens
the live build named by the manifest and switches to a newer build after a reindex publishes one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from archivist.errors import BadInput
from archivist.model.embedding import Embedder
from archivist.query.best_sentence import mark_best_sentences
from archivist.query.browse import ArchiveBrowser, IndexLookups
from archivist.query.filters import check_filters
from archivist.query.grouping import group_hits, one_per_article
from archivist.query.relevance import STRONG, no_strong_match, rate_hits
from archivist.query.retrieval import MODES, DenseRetriever, KeywordRetriever, Query, Ranked, Retrieval
from archivist.query.syntax import plain_query
from archivist.records import NO_FILTERS, Filters, Hit
from archivist.storage import copy_table, manifest, text_tables
from archivist.storage.cache import EmbeddingCache
from archivist.storage.keyword_index import LanguageSplitKeywordIndex
from archivist.storage.vector_index import FaissVectorIndex

__all__ = ["MODES", "SearchResponse", "Searcher", "check_page", "current_build_id"]
MAX_QUERY_CHARS = 2000
# Candidates fetched from each retriever per result wanted; copies and overlaps are folded away.
CANDIDATES_PER_RESULT = 5
MIN_CANDIDATES = 50
# One card per article needs more candidates: several of the best passages share an article.
PER_ARTICLE_SPREAD = 3
# Sorting by date orders the strong matches among this many best-ranked results (plus the page).
SORT_POOL = 100
SORTS = ("relevance", "newest", "oldest")
# The filter keywords of Searcher.search (and Searcher.filters): what export, watches and lists pass on.
FILTER_NAMES = ("outlets", "since", "until", "include_undated", "author", "languages", "entity")
MAX_K = 1000  # results one search returns at most (a page of them; `offset` pages on)
MAX_RESULTS = 5000  # how deep paging reaches (offset + k)

current_build_id = manifest.current_build_id


@dataclass
class SearchResponse:
    query: str
    hits: list[Hit]
    took_ms: float
    mode: str = "hybrid"
    # The query's embedding, so a caller asking again (the page's timeline) need not embed it twice.
    vector: np.ndarray | None = None
    # No hit reaches the calibrated strong-match relevance (query/relevance.py): the archive may
    # not answer this question, and the closest passages are shown for what they are.
    no_strong_match: bool = False
    # With one hit per article: how many articles match, exactly (Keyword mode) or about.
    matching_articles: int | None = None
    matching_exact: bool = False

    def to_json(self) -> dict:
        out = {"query": self.query, "mode": self.mode, "took_ms": round(self.took_ms, 2),
               "no_strong_match": self.no_strong_match, "results": [h.to_json() for h in self.hits]}
        if self.matching_articles is not None:
            out["matching_articles"] = {"count": self.matching_articles, "exact": self.matching_exact}
        return out


class Searcher(ArchiveBrowser):
    """Reads one published build; cheap to query, loads the model on the first query (every mode
    rates its hits by meaning).

    With `follow_updates` (the default, for one-thread use such as the CLI) each query first
    switches to a newer published build. A multi-threaded owner such as the page passes False
    and opens a new Searcher per build instead, so no query ever sees a build swapped under it.
    """

    def __init__(self, index: Path, embedder: Embedder | None = None, follow_updates: bool = True) -> None:
        self.index = index
        self.embedder = embedder or Embedder()
        self.follow_updates = follow_updates
        self._retrieval: Retrieval | None = None
        self._open()

    @classmethod
    def open(cls, index: Path, embedder: Embedder | None = None, follow_updates: bool = True) -> "Searcher":
        return cls(index, embedder, follow_updates)

    def _open(self) -> None:
        live = manifest.read_manifest(self.index)
        build = manifest.build_dir(self.index, live["build_id"])
        connection = manifest.open_live_database(self.index, live)
        try:
            vector_index = FaissVectorIndex.load(build / manifest.VECTORS)
        except Exception as error:  # RuntimeError from FAISS
            connection.close()
            raise manifest.damaged(self.index, error) from None
        self.manifest, self.build_id, self.connection = live, live["build_id"], connection
        self.vector_index = vector_index
        self.keyword_index = LanguageSplitKeywordIndex(connection)
        self.cache = EmbeddingCache(connection, self.embedder.name, self.embedder.dimension)
        self.lookups = IndexLookups(connection)
        previous, self._retrieval = self._retrieval, Retrieval(
            DenseRetriever(vector_index, lambda filters: text_tables.allowed_passage_ids(connection, filters)),
            KeywordRetriever(self.keyword_index, vector_index.count), self.embedder.encode_query,
            text_tables.aside_ids(connection))
        if previous is not None:
            previous.close()  # the old connection is left to the garbage collector: a thread may read it

    def refresh(self) -> bool:
        """Switch to a newer published build if there is one (and updates are followed)."""
        if not self.follow_updates:
            return False
        live = manifest.current_build_id(self.index)
        if live and live != self.build_id:
            self._open()
            return True
        return False

    def search(self, query: str, k: int = 10, mode: str = "hybrid", outlets: list[str] | None = None,
               since: str | None = None, until: str | None = None, include_undated: bool = True,
               highlight: bool = False, vector: np.ndarray | None = None, per_article: bool = False,
               offset: int = 0, author: str | None = None, sort: str = "relevance",
               languages: list[str] | None = None, entity: str | None = None) -> SearchResponse:
        """The best `k` passages for `query`, one per story passage, with the articles that carry it.

        `per_article` gives one hit per article (its best passage, with how many more matched) and
        counts the matching articles; `sort` "newest" or "oldest" orders the strong matches among
        the best-ranked by date; `offset` skips that many results (paging: the same results a
        larger k would rank there). `vector` is the query's embedding when the caller has it.
        `took_ms` counts the search itself; the one-time model load happens before the clock starts.
        """
        check_page(k, offset)
        check_sort(sort)
        self.embedder.load()  # every mode rates its hits by meaning too (query/relevance.py)
        started = time.perf_counter()
        asked = Query(_check_query(query), vector)
        self.refresh()
        filters = self.filters(outlets, since, until, include_undated, author, languages, entity)
        hits = self._pool(asked, mode, filters, offset + k if sort == "relevance" else SORT_POOL + offset + k,
                          per_article)
        if asked.vector is None:  # Keyword mode: the relevance scale needs the question's meaning too
            asked.vector = self.embedder.encode_query(asked.embed_text)
        rate_hits(hits if per_article or sort != "relevance" else hits[offset:offset + k], asked.parsed,
                  asked.vector, self.vector_index, self.keyword_index)
        count = self._count(asked, mode, filters, hits) if per_article else None
        hits = by_date(hits, sort)[offset:offset + k]
        for rank, hit in enumerate(hits, start=offset + 1):
            hit.rank = rank
        if highlight:  # a best sentence only where the passage answers: a weak one is not marked
            mark_best_sentences([h for h in hits if h.relevance >= STRONG], self.cache, asked.vector)
        terms = asked.parsed.terms
        for hit in hits:
            hit.terms = terms
        return SearchResponse(asked.text, hits, (time.perf_counter() - started) * 1000, mode, asked.vector,
                              no_strong_match(hits), count, mode == "keyword")

    def query_vectors(self, queries: list[str]) -> np.ndarray:
        """The embeddings `search` would make for each question (n, d), in one model pass: a
        server with several searches waiting embeds them together, cheaper than one by one."""
        return self.embedder.encode([Query(_check_query(q)).embed_text for q in queries])

    def _pool(self, asked: Query, mode: str, filters: Filters, wanted: int, per_article: bool) -> list[Hit]:
        """The best `wanted` hits (one per article with `per_article`), best first."""
        every_word = mode == "keyword"
        must_hold = ((lambda passage: self.keyword_index.holds(passage, asked.parsed, every_word))
                     if every_word or asked.parsed.phrases else None)
        if per_article:
            ranked = self._retrieval.ranked(asked, _depth(wanted * PER_ARTICLE_SPREAD), mode, filters)
            return one_per_article(group_hits(ranked, len(ranked), self.lookups, must_hold), wanted)
        return group_hits(self._retrieval.ranked(asked, _depth(wanted), mode, filters), wanted, self.lookups,
                          must_hold)

    def _count(self, asked: Query, mode: str, filters: Filters, hits: list[Hit]) -> int:
        """Articles that match: exactly in Keyword mode (every article holding every word), else
        about (the articles among the best-ranked candidates that match strongly)."""
        if mode == "keyword":
            return self.keyword_index.count_articles(asked.parsed, filters)
        return len({h.article.id for h in hits if (h.relevance or 0.0) >= STRONG})

    def more_like_passage(self, passage_id: int, k: int = 10, outlets: list[str] | None = None,
                          since: str | None = None, until: str | None = None,
                          include_undated: bool = True, author: str | None = None,
                          languages: list[str] | None = None, entity: str | None = None) -> SearchResponse:
        """Passages of other articles closest in meaning to a stored passage (its copies left out)."""
        started = time.perf_counter()
        self.refresh()
        row = self.lookups.passage(passage_id)
        if row is None:
            raise BadInput(f"Passage {passage_id} is no longer in the index (the archive was reindexed "
                           "since); search again to get fresh results.")
        filters = self.filters(outlets, since, until, include_undated, author, languages, entity)
        ranked = self._retrieval.ranked(Query("", self.vector_index.vector(passage_id)), _depth(k * 3),
                                        "semantic", filters)
        # Copies of any passage of the article, not just this one: a result may show two of its
        # passages joined, and another outlet's copy of either is not "more like" it, it is it.
        left_out = (text_tables.passage_ids_of_article(self.connection, row.article.id, self.tables["passages"],
                                                       self.mark)
                    | copy_table.copies_of_article(self.connection, row.article.id, self.tables["copies"],
                                                   self.tables["passages"], self.mark))
        hits = group_hits([r for r in ranked if r[0] not in left_out], k, self.lookups)
        return SearchResponse(f"more like: {row.article.title}", hits, (time.perf_counter() - started) * 1000,
                              "semantic")

    def rank_passages(self, query: str, vector: np.ndarray | None, depth: int, mode: str = "hybrid") -> Ranked:
        """Fused passage ranking with no grouping, for evaluation; `vector` may be precomputed.
        The query is read as prose (no operators): benchmark questions quote and hyphenate freely;
        keyword mode ranks bm25 over any of its words (the keyword list hybrid fuses)."""
        if vector is not None:
            vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        return self._retrieval.ranked(Query(query, vector, parsed=plain_query(query)), depth, mode, NO_FILTERS,
                                      every_word=False)

    def passage_paths(self) -> dict[int, str]:
        """{passage id: its article's path}: how evaluation maps passages to corpus documents."""
        return text_tables.passage_paths(self.connection)

    def filters(self, outlets: list[str] | None = None, since: str | None = None, until: str | None = None,
                include_undated: bool = True, author: str | None = None, languages: list[str] | None = None,
                entity: str | None = None) -> Filters:
        """The user's filters, checked against this index (one-line BadInput when they are wrong)."""
        known = [o["outlet"] for o in self.outlets()] if outlets else []
        checked = check_filters(outlets, since, until, include_undated, known, author,
                                languages, [row["language"] for row in self.languages()] if languages else ())
        if entity and entity.strip():
            checked = replace(checked, entity_keys=self.entity_names().keys_for(entity))
        return checked

    def close(self) -> None:
        if self._retrieval is not None:
            self._retrieval.close()
        self.connection.close()


def _depth(k: int) -> int:
    """Candidates fetched from each retriever for `k` results; copies and overlaps fold some away."""
    return max(MIN_CANDIDATES, k * CANDIDATES_PER_RESULT)


def check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise BadInput(f"Unknown sort {sort!r}; use one of: {', '.join(SORTS)}.")


def by_date(hits: list[Hit], sort: str) -> list[Hit]:
    """`hits` as ranked, or its strong matches newest or oldest first (undated last); when none
    is strong, all of them by date, so the closest passages still show."""
    if sort == "relevance":
        return hits
    strong = [h for h in hits if (h.relevance or 0.0) >= STRONG] or hits
    dated = sorted((h for h in strong if h.article.date), key=lambda h: h.article.date, reverse=sort == "newest")
    return dated + [h for h in strong if not h.article.date]


def check_page(k: int, offset: int) -> None:
    """A page of results the index can rank: 1 to MAX_K of them, at most MAX_RESULTS deep."""
    if not 1 <= k <= MAX_K:
        raise BadInput(f"-k {k} is out of range; use a number from 1 to {MAX_K}.")
    if offset < 0 or offset + k > MAX_RESULTS:
        raise BadInput(f"The offset {offset} is out of range; results are ranked {MAX_RESULTS:,} deep at most "
                       f"(offset + k), so use an offset from 0 to {MAX_RESULTS - k:,}.")


def _check_query(query: str) -> str:
    if query is None or not query.strip():
        raise BadInput("The query is empty; type a question or some words to search for.")
    query = " ".join(query.split())
    # Very long input (a pasted article) is cut: the model reads 256 tokens anyway.
    return query[:MAX_QUERY_CHARS]
