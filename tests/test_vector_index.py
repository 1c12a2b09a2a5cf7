"""Index type chosen by size, and the approximate index answering as exact search does."""

from __future__ import annotations

import numpy as np

from archivist.storage import vector_index as vectors
from archivist.storage.vector_index import FaissVectorIndex
from archivist.build.indexer import reindex
from archivist.query.search import Searcher
from conftest import write


def clustered(count: int, seed: int = 7) -> np.ndarray:
    """Unit vectors around 50 topics, like embeddings of news passages (not uniform noise)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, 384))
    data = centres[rng.integers(0, 50, count)] + 0.6 * rng.normal(size=(count, 384))
    return (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)


def test_exact_search_while_small_and_a_graph_past_the_limit(monkeypatch):
    assert vectors.kind_for(vectors.EXACT_LIMIT) == "flat"
    assert vectors.kind_for(vectors.EXACT_LIMIT + 1) == "hnsw"
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 1000)
    small = FaissVectorIndex.build(clustered(1000), np.arange(1000))
    large = FaissVectorIndex.build(clustered(1001), np.arange(1001))
    assert small.kind == "flat" and large.kind == "hnsw"


def test_the_graph_index_finds_what_exact_search_finds(tmp_path):
    data = clustered(5000)
    ids = np.arange(100, 5100)
    exact = FaissVectorIndex.build(data, ids, kind="flat")
    graph = FaissVectorIndex.build(data, ids, kind="hnsw")
    graph.save(tmp_path / "graph.faiss")
    graph = FaissVectorIndex.load(tmp_path / "graph.faiss")
    queries = clustered(200, seed=11)
    _, want = exact.search(queries, 10)
    _, got = graph.search(queries, 10)
    recall = np.mean([len(set(w) & set(g)) / 10 for w, g in zip(want, got)])
    assert recall >= 0.95
    # With a filter the graph still returns only allowed ids, and the right ones.
    allowed = ids[::7]
    _, want = exact.search(queries[:20], 10, allowed)
    _, got = graph.search(queries[:20], 10, allowed)
    assert set(got.ravel()) <= set(allowed)
    assert np.mean([len(set(w) & set(g)) / 10 for w, g in zip(want, got)]) >= 0.9
    assert np.array_equal(graph.vector(105), data[5:6])


def test_a_large_archive_gets_a_graph_index_recorded_in_the_manifest(tmp_path, fake_embedder, monkeypatch):
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 10)
    archive = tmp_path / "archive"
    for number in range(12):
        write(archive / f"{number:02d}.txt", f"Report {number}\n\nThe harbour crane number {number} was "
                                             f"repaired on day {number} after a storm damaged the pier.\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=fake_embedder)
    assert searcher.manifest["vectors"]["types"]["passages"] == "hnsw"
    assert searcher.stats()["vectors"]["passages"] == "hnsw"
    top = searcher.search("Report 7 crane number 7 day 7", k=1, mode="semantic").hits[0]
    assert top.article.path == "07.txt"


def test_a_narrow_filter_on_the_graph_index_still_finds_the_best_allowed_vectors():
    data = clustered(30000, seed=3)
    ids = np.arange(30000)
    exact = FaissVectorIndex.build(data, ids, kind="flat")
    graph = FaissVectorIndex.build(data, ids, kind="hnsw")
    allowed = ids[::500]  # 60 of 30,000 (one outlet, one week)
    queries = clustered(20, seed=4)
    _, want = exact.search(queries, 10, allowed)
    scores, got = graph.search(queries, 10, allowed)
    assert np.array_equal(got, want)
    assert np.all(np.diff(scores, axis=1) <= 0)
