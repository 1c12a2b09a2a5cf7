"""The dense indexes: FAISS inner product over normalised vectors, ids = passage rowids.

Exact (flat) search while it is fast; past EXACT_LIMIT vectors an HNSW graph, whose recall@10
against exact search is measured on real embeddings in benchmarks/speed.py. The type chosen is
recorded in the manifest.
"""

from __future__ import annotations

import errno
from pathlib import Path

import faiss
import numpy as np


# A flat scan of 100k x 384 takes about 6 ms on two cores (61 ms at 1M); beyond that a query
# would spend most of its budget scanning, so the graph index takes over.
EXACT_LIMIT = 100_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 40
# Candidates the graph search keeps: a wide search is cheap (0.6 ms) and buys the recall that a
# quick construction (efConstruction 40, 1.5x faster to build than 80) gives up: 166k Reuters
# sentence vectors (a denser cloud than passages) reached recall@10 0.948 at 256, 0.966 at 512.
HNSW_EF_SEARCH = 512
KINDS = ("flat", "hnsw")
# A filter allowing at most this many vectors of a graph index is searched exactly (a 20k x 384
# scan is ~2 ms); wider filters search the graph with a wider beam.
EXACT_FILTER_LIMIT = 20_000
# Below this many queries in one call, search runs on the calling thread only.
FEW_QUERIES = 16


def kind_for(count: int) -> str:
    """The index type for `count` vectors: exact while it is fast enough, else HNSW."""
    return "flat" if count <= EXACT_LIMIT else "hnsw"


def build(vectors: np.ndarray, ids: np.ndarray, kind: str | None = None) -> faiss.Index:
    """An id-mapped index of `vectors`; the type is chosen by size unless `kind` says."""
    dimension = vectors.shape[1] if vectors.size else 384
    kind = kind or kind_for(len(ids))
    if kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        inner = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIDMap2(inner)
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
    return index


def kind_of(index: faiss.Index) -> str:
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"


def save(index: faiss.Index, path: Path) -> None:
    """Write the index; FAISS reports write failures (disk full) as RuntimeError, turned into OSError."""
    try:
        faiss.write_index(index, str(path))
    except RuntimeError as error:
        reason = "No space left on device" if "No space" in str(error) else "write error"
        raise OSError(errno.EIO, reason, str(path)) from None


def load(path: Path) -> faiss.Index:
    index = faiss.read_index(str(path))
    if kind_of(index) == "hnsw":
        faiss.downcast_index(index.index).hnsw.efSearch = HNSW_EF_SEARCH
    return index


def search(index: faiss.Index, queries: np.ndarray, k: int,
           allowed_ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) per query; `allowed_ids` restricts the search (filters), -1 pads."""
    k = max(1, min(k, index.ntotal)) if index.ntotal else 1
    if index.ntotal == 0:
        n = len(queries)
        return np.zeros((n, 1), dtype=np.float32), -np.ones((n, 1), dtype=np.int64)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    if len(queries) < FEW_QUERIES:
        # One query gains nothing from OpenMP threads, and their barrier spins cost 8 ms a query on
        # a busy 2-core machine (0.5 ms single-threaded). The setting is per calling thread.
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return _search(index, queries, k, allowed_ids)
        finally:
            faiss.omp_set_num_threads(threads)
    return _search(index, queries, k, allowed_ids)


def _search(index: faiss.Index, queries: np.ndarray, k: int,
            allowed_ids: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if allowed_ids is None:
        return index.search(queries, k)
    if len(allowed_ids) == 0:
        n = len(queries)
        return np.zeros((n, 1), dtype=np.float32), -np.ones((n, 1), dtype=np.int64)
    allowed_ids = np.asarray(allowed_ids, dtype=np.int64)
    if kind_of(index) == "hnsw" and len(allowed_ids) <= EXACT_FILTER_LIMIT:
        # A narrow filter leaves the graph few reachable allowed nodes (recall 0.17 with 60 of
        # 30k allowed): score the allowed vectors exactly instead, which is cheap at this size.
        return _exact_subset(index, queries, k, allowed_ids)
    # A filter leaves fewer reachable neighbours: search the graph wider the fewer are allowed.
    wider = int(k * index.ntotal / len(allowed_ids))
    selector = faiss.IDSelectorBatch(allowed_ids)
    return index.search(queries, k, params=_params(index, selector, min(max(HNSW_EF_SEARCH, 4 * k, wider), 8192)))


def _params(index: faiss.Index, selector: faiss.IDSelector, graph_beam: int) -> faiss.SearchParameters:
    """Search parameters restricting `index` to `selector`; a graph also gets its beam width."""
    if kind_of(index) == "hnsw":
        return faiss.SearchParametersHNSW(sel=selector, efSearch=graph_beam)
    return faiss.SearchParameters(sel=selector)


def _exact_subset(index: faiss.Index, queries: np.ndarray, k: int,
                  allowed_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stored = index.reconstruct_batch(allowed_ids)
    scores = queries @ stored.T
    k = min(k, len(allowed_ids))
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, top, axis=1).astype(np.float32), allowed_ids[top]


def cosines(index: faiss.Index, ids: list[int], query: np.ndarray) -> list[float]:
    """Exact inner products of one normalised query with stored vectors, by id: scores the
    candidates another retriever found that this index's search did not return."""
    if not ids:
        return []
    stored = index.reconstruct_batch(np.asarray(ids, dtype=np.int64))
    return (stored @ np.asarray(query, dtype=np.float32).reshape(-1)).tolist()


def reconstruct(index: faiss.Index, passage_id: int) -> np.ndarray:
    """The stored vector of one passage (for "more like this")."""
    return index.reconstruct(int(passage_id)).reshape(1, -1)


def stored_ids(index: faiss.Index) -> np.ndarray:
    """Every id held by an id-mapped index, in insertion order."""
    return faiss.vector_to_array(index.id_map).astype(np.int64)
