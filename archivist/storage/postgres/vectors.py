"""Vector search on pgvector: the VectorIndex verbs search reads with, over one generation.

HNSW (halfvec, inner product on normalised vectors, so the score is the cosine). A filter is a
WHERE on the same scan, and pgvector >= 0.8's iterative scan keeps walking the graph until k
rows pass it (or `hnsw.max_scan_tuples` are seen), so a narrow filter does not return fewer
results than asked; a filter allowing at most EXACT_FILTER_LIMIT passages is scored exactly
instead (as the embedded index does). The per-query settings are `set_config(..., true)`, the
same as SET LOCAL: they last one transaction, which is also what reaches Citus workers.
benchmarks/postgres.py measures recall@10 of both paths against exact search.
"""

from __future__ import annotations

import numpy as np

from archivist.storage.postgres.generations import partition

EF_SEARCH = 200  # the beam of a graph search; pgvector's default is 40
MAX_EF_SEARCH = 1_000  # the largest beam pgvector accepts
EXACT_FILTER_LIMIT = 2_000
MAX_SCAN_TUPLES = 40_000  # how far an iterative scan may walk for a filtered query


class PgVectorIndex:
    """Passage vectors of one generation in PostgreSQL."""

    kind = "pgvector hnsw"  # what `stats` names the vectors

    def __init__(self, connection, generation: int, exact_filter_limit: int = EXACT_FILTER_LIMIT,
                 ef_search: int = EF_SEARCH) -> None:
        self.connection = connection
        self.ef_search = ef_search  # a benchmark sweeps it (recall against time)
        self.table = partition("passages", generation)
        self.exact_filter_limit = exact_filter_limit
        self._count: int | None = None

    @property
    def count(self) -> int:
        if self._count is None:
            self._count = self.connection.execute(f"SELECT count(*) FROM {self.table}").fetchone()[0]
            self.connection.commit()
        return self._count

    def search(self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None = None,
               exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query, -1 padded; `allowed_ids` restricts it; `exact` scans
        every allowed vector (what recall is measured against)."""
        from pgvector import HalfVector

        queries = np.asarray(queries, dtype=np.float32).reshape(-1, queries.shape[-1])
        scores = np.zeros((len(queries), k), dtype=np.float32)
        ids = -np.ones((len(queries), k), dtype=np.int64)
        if allowed_ids is not None and len(allowed_ids) == 0:
            return scores, ids
        allowed = None if allowed_ids is None else [int(i) for i in allowed_ids]
        exact = exact or (allowed is not None and len(allowed) <= self.exact_filter_limit)
        where = "" if allowed is None else "WHERE id = ANY(%(allowed)s)"
        for row, query in enumerate(queries):
            with self.connection.transaction():
                if exact:  # no graph: every allowed vector is scored
                    self.connection.execute("SELECT set_config('enable_indexscan', 'off', true)")
                else:
                    # pgvector caps the beam at 1,000; the iterative scan goes on past it for a larger k.
                    self.connection.execute("SELECT set_config('hnsw.ef_search', %s, true)",
                                            (str(min(MAX_EF_SEARCH, max(self.ef_search, k))),))
                    self.connection.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
                    self.connection.execute("SELECT set_config('hnsw.max_scan_tuples', %s, true)", (str(MAX_SCAN_TUPLES),))
                found = self.connection.execute(
                    f"SELECT id, -(embedding <#> %(q)s) FROM {self.table} {where} "
                    f"ORDER BY embedding <#> %(q)s LIMIT %(k)s",
                    {"q": HalfVector(query), "k": k, "allowed": allowed}).fetchall()
            found.sort(key=lambda pair: -pair[1])  # relaxed order: nearly sorted; made exact here
            for column, (passage_id, score) in enumerate(found):
                ids[row, column], scores[row, column] = passage_id, score
        return scores, ids

    def vector(self, passage_id: int) -> np.ndarray:
        """The stored vector of one passage as a (1, d) array (for "more like this")."""
        return self.vectors(np.asarray([int(passage_id)])).reshape(1, -1)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of `ids`, in that order (fp16 as stored, widened)."""
        wanted = [int(i) for i in ids]
        rows = dict(self.connection.execute(f"SELECT id, embedding FROM {self.table} WHERE id = ANY(%s)",
                                            (wanted,)).fetchall())
        self.connection.commit()
        return np.stack([np.asarray(rows[i].to_numpy(), dtype=np.float32) for i in wanted]) if wanted else \
            np.zeros((0, 384), dtype=np.float32)

    def cosines(self, ids: list[int], query: np.ndarray) -> list[float]:
        if not ids:
            return []
        return (self.vectors(np.asarray(ids)) @ np.asarray(query, dtype=np.float32).reshape(-1)).tolist()
