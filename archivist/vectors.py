"""The dense index: FAISS inner product over normalised vectors, ids = passage rowids."""

from __future__ import annotations

import errno
from pathlib import Path

import faiss
import numpy as np


def build(vectors: np.ndarray, ids: np.ndarray) -> faiss.Index:
    """Exact search: at archive sizes up to ~10^5 passages a flat scan takes milliseconds."""
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1] if vectors.size else 384))
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
    return index


def save(index: faiss.Index, path: Path) -> None:
    """Write the index; FAISS reports write failures (disk full) as RuntimeError, turned into OSError."""
    try:
        faiss.write_index(index, str(path))
    except RuntimeError as error:
        reason = "No space left on device" if "No space" in str(error) else "write error"
        raise OSError(errno.EIO, reason, str(path)) from None


def load(path: Path) -> faiss.Index:
    return faiss.read_index(str(path))


def search(index: faiss.Index, queries: np.ndarray, k: int,
           allowed_ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) per query; `allowed_ids` restricts the search (filters), -1 pads."""
    k = max(1, min(k, index.ntotal)) if index.ntotal else 1
    if index.ntotal == 0:
        n = len(queries)
        return np.zeros((n, 1), dtype=np.float32), -np.ones((n, 1), dtype=np.int64)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    if allowed_ids is None:
        return index.search(queries, k)
    if len(allowed_ids) == 0:
        n = len(queries)
        return np.zeros((n, 1), dtype=np.float32), -np.ones((n, 1), dtype=np.int64)
    selector = faiss.IDSelectorBatch(np.asarray(allowed_ids, dtype=np.int64))
    return index.search(queries, k, params=faiss.SearchParameters(sel=selector))


def reconstruct(index: faiss.Index, passage_id: int) -> np.ndarray:
    """The stored vector of one passage (for "more like this")."""
    return index.reconstruct(int(passage_id)).reshape(1, -1)
