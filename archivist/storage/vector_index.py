"""The vector index: FAISS inner product over normalised vectors, ids = passage rowids.

Exact (flat) search while it is fast; past EXACT_LIMIT vectors an HNSW graph, whose recall@10
against exact search is measured on real embeddings in benchmarks/speed.py. The type chosen is
recorded in the manifest.

`VectorIndex` is the interface search and the indexer use (build, add, remove, search with a
filter, save, load); `FaissVectorIndex` is the embedded implementation. A server engine
(pgvector) would be a second class with the same verbs.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np


# A flat scan of 100k x 384 takes about 6 ms on two cores (61 ms at 1M; fp32); beyond that a query
# would spend most of its budget scanning, so the graph index takes over.
EXACT_LIMIT = 100_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 40
# Candidates the graph search keeps: a wide search is cheap (0.6 ms) and buys the recall that a
# quick construction (efConstruction 40, 1.5x faster to build than 80) gives up: 166k Reuters
# sentence vectors (a denser cloud than passages) reached recall@10 0.948 at 256, 0.966 at 512.
HNSW_EF_SEARCH = 512
# A filter allowing at most this many vectors of a graph index is searched exactly (a 20k x 384
# scan is ~2 ms); wider filters search the graph with a wider beam.
EXACT_FILTER_LIMIT = 20_000
# Below this many queries in one call, search runs on the calling thread only.
FEW_QUERIES = 16


def kind_for(count: int) -> str:
    """The index type for `count` vectors: exact while it is fast enough, else HNSW."""
    return "flat" if count <= EXACT_LIMIT else "hnsw"


def settings() -> dict:
    """What shapes a built vector index, for the build's settings record."""
    return {"metric": "inner_product", "normalised": True, "exact_limit": EXACT_LIMIT, "flat_codes": "fp16",
            "hnsw_neighbours": HNSW_NEIGHBOURS, "hnsw_ef_construction": HNSW_EF_CONSTRUCTION}


Scored = tuple[np.ndarray, np.ndarray]  # (scores, ids) per query, best first; id -1 pads


class VectorIndex(Protocol):
    """What search and the indexer need of a vector index, whatever engine holds it."""

    @property
    def count(self) -> int: ...

    @property
    def kind(self) -> str: ...

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> Scored: ...

    def cosines(self, ids: list[int], query: np.ndarray) -> list[float]: ...

    def vector(self, passage_id: int) -> np.ndarray: ...

    def vectors(self, ids: np.ndarray) -> np.ndarray: ...

    def ids(self) -> np.ndarray: ...

    def save(self, path: Path) -> None: ...


class FaissVectorIndex:
    """An id-mapped FAISS index (flat or HNSW) of normalised passage vectors."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def build(cls, vectors: np.ndarray, ids: np.ndarray, kind: str | None = None,
              dimension: int = 384) -> "FaissVectorIndex":
        """An index of `vectors`; the type is chosen by size unless `kind` says."""
        dimension = vectors.shape[1] if vectors.size else dimension
        kind = kind or kind_for(len(ids))
        if kind == "hnsw":
            inner = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            # Exact scan over half-precision codes: the scan is memory-bound, and 36k Reuters
            # passages scanned in 0.99 ms as fp16 against 2.34 ms as fp32 (recall@10 1.000 over
            # 200 queries; a cosine moves by about 1e-4).
            inner = faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        built = cls(faiss.IndexIDMap2(inner))
        built.add(vectors, ids)
        return built

    @classmethod
    def load(cls, path: Path) -> "FaissVectorIndex":
        loaded = cls(faiss.read_index(str(path)))
        if loaded.kind == "hnsw":
            faiss.downcast_index(loaded._index.index).hnsw.efSearch = HNSW_EF_SEARCH
        return loaded

    def save(self, path: Path) -> None:
        """Write the index; FAISS reports write failures (disk full) as RuntimeError, turned into OSError."""
        try:
            faiss.write_index(self._index, str(path))
        except RuntimeError as error:
            reason = "No space left on device" if "No space" in str(error) else "write error"
            raise OSError(errno.EIO, reason, str(path)) from None

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        inner = faiss.downcast_index(self._index.index)
        return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                     np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        """Drop vectors by id (a flat index only: FAISS graphs cannot remove; rebuild them)."""
        if self.kind == "hnsw":
            raise NotImplementedError("an HNSW index cannot remove vectors; build it again")
        self._index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64)))

    def search(self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> Scored:
        """Top-k (scores, ids) per query; `allowed_ids` restricts the search (filters), -1 pads."""
        if self.count == 0:
            return _nothing(len(queries))
        k = max(1, min(k, self.count))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if len(queries) < FEW_QUERIES:
            # One query gains nothing from OpenMP threads, and their barrier spins cost 8 ms a query on
            # a busy 2-core machine (0.5 ms single-threaded). The setting is per calling thread.
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                return self._search(queries, k, allowed_ids)
            finally:
                faiss.omp_set_num_threads(threads)
        return self._search(queries, k, allowed_ids)

    def _search(self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None) -> Scored:
        if allowed_ids is None:
            return self._index.search(queries, k)
        if len(allowed_ids) == 0:
            return _nothing(len(queries))
        allowed_ids = np.asarray(allowed_ids, dtype=np.int64)
        if self.kind == "hnsw" and len(allowed_ids) <= EXACT_FILTER_LIMIT:
            # A narrow filter leaves the graph few reachable allowed nodes (recall 0.17 with 60 of
            # 30k allowed): score the allowed vectors exactly instead, which is cheap at this size.
            return self._exact_subset(queries, k, allowed_ids)
        # A filter leaves fewer reachable neighbours: search the graph wider the fewer are allowed.
        wider = int(k * self.count / len(allowed_ids))
        selector = faiss.IDSelectorBatch(allowed_ids)
        return self._index.search(queries, k, params=self._params(selector, min(max(HNSW_EF_SEARCH, 4 * k, wider), 8192)))

    def _params(self, selector: faiss.IDSelector, graph_beam: int) -> faiss.SearchParameters:
        """Search parameters restricting the index to `selector`; a graph also gets its beam width."""
        if self.kind == "hnsw":
            return faiss.SearchParametersHNSW(sel=selector, efSearch=graph_beam)
        return faiss.SearchParameters(sel=selector)

    def _exact_subset(self, queries: np.ndarray, k: int, allowed_ids: np.ndarray) -> Scored:
        stored = self.vectors(allowed_ids)
        scores = queries @ stored.T
        k = min(k, len(allowed_ids))
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, top, axis=1).astype(np.float32), allowed_ids[top]

    def cosines(self, ids: list[int], query: np.ndarray) -> list[float]:
        """Exact inner products of one normalised query with stored vectors, by id: scores the
        candidates another retriever found that this index's search did not return."""
        if not ids:
            return []
        stored = self.vectors(np.asarray(ids, dtype=np.int64))
        return (stored @ np.asarray(query, dtype=np.float32).reshape(-1)).tolist()

    def vector(self, passage_id: int) -> np.ndarray:
        """The stored vector of one passage as a (1, d) array (for "more like this")."""
        return self._index.reconstruct(int(passage_id)).reshape(1, -1)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return self._index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def ids(self) -> np.ndarray:
        """Every id held, in insertion order."""
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)


def _nothing(queries: int) -> Scored:
    return np.zeros((queries, 1), dtype=np.float32), -np.ones((queries, 1), dtype=np.int64)
