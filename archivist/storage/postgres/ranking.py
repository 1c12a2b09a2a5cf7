"""Passage ranking over the live PostgreSQL generation, through the embedded backend's own fusion.

Only retrieval differs between the backends: the dense list comes from pgvector's HNSW graph
(`vectors.PgVectorIndex`), the keyword list from bm25 computed in SQL (`keywords.PgKeywordIndex`),
and both go through `query.retrieval.Retrieval`: the same score fusion, exact-words bonuses and
demotion of asides as a search of the embedded index. The two lists run side by side (keyword
on a thread, as embedded), so each has its own connection: one psycopg connection must not carry
two transactions at once. This is what `archivist eval --index-url` ranks with.
"""

from __future__ import annotations

import numpy as np

from archivist.model.embedding import Embedder
from archivist.query.retrieval import DenseRetriever, KeywordRetriever, Query, Ranked, Retrieval
from archivist.query.syntax import plain_query
from archivist.records import NO_FILTERS
from archivist.storage.postgres import generations, schema
from archivist.storage.postgres.connection import connect
from archivist.storage.postgres.keywords import PgKeywordIndex
from archivist.storage.postgres.vectors import PgVectorIndex


class PostgresRanker:
    """Fused passage rankings from one published generation of a PostgreSQL index."""

    def __init__(self, url: str, embedder: Embedder | None = None) -> None:
        self.embedder = embedder or Embedder()
        self._vectors_connection = connect(url)
        self._keywords_connection = connect(url)
        try:
            schema.check_version(self._vectors_connection)
            self.generation = generations.live_generation(self._vectors_connection)
            self._vectors_connection.commit()
            self.vector_index = PgVectorIndex(self._vectors_connection, self.generation)
            self.keyword_index = PgKeywordIndex(self._keywords_connection, self.generation)
            passages = generations.partition("passages", self.generation)
            asides = frozenset(row[0] for row in self._vectors_connection.execute(
                f"SELECT id FROM {passages} WHERE kind != 'text'"))
            self._vectors_connection.commit()
        except Exception:
            self.close()
            raise
        self._retrieval = Retrieval(DenseRetriever(self.vector_index, _no_filters),
                                    KeywordRetriever(self.keyword_index, self.vector_index.count),
                                    self.embedder.encode_query, asides)

    def rank_passages(self, query: str, vector: np.ndarray | None, depth: int, mode: str = "hybrid") -> Ranked:
        """As `Searcher.rank_passages`: the query read as prose, no filters, no grouping."""
        if vector is not None:
            vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        return self._retrieval.ranked(Query(query, vector, parsed=plain_query(query)), depth, mode, NO_FILTERS,
                                      every_word=False)

    def passage_paths(self) -> dict[int, str]:
        """{passage id: its article's path}, as `text_tables.passage_paths` gives for an embedded build."""
        passages = generations.partition("passages", self.generation)
        articles = generations.partition("articles", self.generation)
        rows = self._vectors_connection.execute(
            f"SELECT p.id, a.path FROM {passages} p JOIN {articles} a ON a.id = p.article_id").fetchall()
        self._vectors_connection.commit()
        return {int(passage): path for passage, path in rows}

    def close(self) -> None:
        if getattr(self, "_retrieval", None) is not None:
            self._retrieval.close()
        self._vectors_connection.close()
        self._keywords_connection.close()


def _no_filters(filters) -> None:
    """The dense list's allow list: none (filtered ranking on Postgres is not built yet)."""
    return None
