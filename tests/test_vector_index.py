"""Index type chosen by size, and the approximate index answering as exact search does."""

from __future__ import annotations

import numpy as np

from archivist import vectors
from archivist.indexer import reindex
from archivist.search import Searcher
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
    small = vectors.build(clustered(1000), np.arange(1000))
    large = vectors.build(clustered(1001), np.arange(1001))
    assert vectors.kind_of(small) == "flat" and vectors.kind_of(large) == "hnsw"


def test_the_graph_index_finds_what_exact_search_finds(tmp_path):
    data = clustered(5000)
    ids = np.arange(100, 5100)
    exact = vectors.build(data, ids, kind="flat")
    graph = vectors.build(data, ids, kind="hnsw")
    vectors.save(graph, tmp_path / "graph.faiss")
    graph = vectors.load(tmp_path / "graph.faiss")
    queries = clustered(200, seed=11)
    _, want = vectors.search(exact, queries, 10)
    _, got = vectors.search(graph, queries, 10)
    recall = np.mean([len(set(w) & set(g)) / 10 for w, g in zip(want, got)])
    assert recall >= 0.95
    # With a filter the graph still returns only allowed ids, and the right ones.
    allowed = ids[::7]
    _, want = vectors.search(exact, queries[:20], 10, allowed)
    _, got = vectors.search(graph, queries[:20], 10, allowed)
    assert set(got.ravel()) <= set(allowed)
    assert np.mean([len(set(w) & set(g)) / 10 for w, g in zip(want, got)]) >= 0.9
    assert np.array_equal(vectors.reconstruct(graph, 105), data[5:6])


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
    assert top.article["path"] == "07.txt"


def test_a_narrow_filter_on_the_graph_index_still_finds_the_best_allowed_vectors():
    data = clustered(30000, seed=3)
    ids = np.arange(30000)
    exact = vectors.build(data, ids, kind="flat")
    graph = vectors.build(data, ids, kind="hnsw")
    allowed = ids[::500]  # 60 of 30,000 (one outlet, one week)
    queries = clustered(20, seed=4)
    _, want = vectors.search(exact, queries, 10, allowed)
    scores, got = vectors.search(graph, queries, 10, allowed)
    assert np.array_equal(got, want)
    assert np.all(np.diff(scores, axis=1) <= 0)


def test_without_a_sentence_list_search_still_answers_and_highlights(tmp_path, fake_embedder, monkeypatch):
    monkeypatch.setattr(vectors, "SENTENCE_INDEX_LIMIT", 5)  # as in an archive too large for one
    archive = tmp_path / "archive"
    for number in range(4):
        write(archive / f"{number}.txt", f"Report {number}\n\nThe ferry left at dawn. The crane number {number} "
                                         "was repaired after the storm. Traders waited on the quay.\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=fake_embedder)
    assert searcher.manifest["vectors"]["types"]["sentences"] == "off"
    hit = searcher.search("crane number 2 repaired", k=1, highlight=True).hits[0]
    assert hit.article["path"] == "2.txt"
    start, end = hit.highlight
    assert "crane number 2" in searcher.article(hit.article["id"])["text"][start:end]


def _sentence_counts(index) -> tuple[int, int]:
    """(vectors in the sentence graph, sentences in the database) of the live build, after
    checking that every live sentence is in the graph exactly once."""
    searcher = Searcher.open(index)
    live_ids = [r[0] for r in searcher.connection.execute("SELECT id FROM sentences")]
    stored = vectors.stored_ids(searcher.sentence_dense).tolist()
    assert len(stored) == len(set(stored))
    assert set(live_ids) <= set(stored)
    return len(stored), len(live_ids)


def test_a_small_change_extends_the_sentence_graph_and_search_ignores_what_was_replaced(
        tmp_path, fake_embedder, monkeypatch):
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 10)
    archive, index = tmp_path / "archive", tmp_path / "index"
    for number in range(20):
        write(archive / f"{number:02d}.txt", f"Report {number}\n\nThe harbour crane {number} was repaired. "
                                             f"Dockers of shift {number} unloaded grain. The pier reopened.\n")
    reindex(archive, index, embedder=fake_embedder)
    in_graph, live = _sentence_counts(index)
    assert in_graph == live and live > 10

    write(archive / "07.txt", "Report 7\n\nThe lighthouse keeper counted seventeen gulls at noon.\n")
    reindex(archive, index, embedder=fake_embedder)
    in_graph, live_now = _sentence_counts(index)
    assert in_graph > live_now  # extended: the replaced sentences stay in the graph as orphans
    assert in_graph - live_now <= 0.1 * live_now
    searcher = Searcher.open(index, embedder=fake_embedder)
    hits = searcher.search("lighthouse keeper counted seventeen gulls", k=3, mode="semantic").hits
    assert hits[0].article["path"] == "07.txt" and "gulls" in hits[0].passage
    replaced = searcher.search("Dockers of shift 7 unloaded grain", k=20, mode="semantic").hits
    assert all("shift 7 " not in h.passage for h in replaced)
    # the orphans are left out of the graph search itself, not dropped after it
    query = fake_embedder.encode(["The pier reopened."])
    _, found = vectors.search(searcher.sentence_dense, query, 25, None, searcher.sentence_orphans)
    live = {r[0] for r in searcher.connection.execute("SELECT id FROM sentences")}
    assert len(searcher.sentence_orphans) == in_graph - live_now
    assert set(found[0].tolist()) <= live and len(found[0]) == 25
    # a filtered search scores the allowed (live) sentences, the new ones among them
    filtered = searcher.search("lighthouse keeper counted seventeen gulls", k=3, mode="semantic", since="2000-01-01")
    assert filtered.hits[0].article["path"] == "07.txt"

    for number in range(5):  # more orphans than the graph may hold: it is built again
        write(archive / f"{number:02d}.txt", f"Report {number}\n\nA new text number {number} about tides.\n")
    reindex(archive, index, embedder=fake_embedder)
    in_graph, live_now = _sentence_counts(index)
    assert in_graph == live_now


def test_a_rebuilt_database_never_extends_the_old_sentence_graph(tmp_path, fake_embedder, monkeypatch):
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 10)
    archive, index = tmp_path / "archive", tmp_path / "index"
    for number in range(12):
        write(archive / f"{number:03d}.txt", f"Report {number}\n\nThe harbour crane {number} was repaired.\n")
    reindex(archive, index, embedder=fake_embedder)
    from archivist import store

    database = store.build_dir(index, store.current_build_id(index)) / store.DATABASE
    database.write_bytes(b"not a database" * 100)
    # The archive grows tenfold, so the old graph would be few enough "orphans" to extend; but the
    # rebuilt database numbers its sentences from 1 again, the very ids the old graph holds.
    for number in range(12, 150):
        write(archive / f"{number:03d}.txt", f"Report {number}\n\nThe lighthouse {number} counted gulls.\n")
    reindex(archive, index, embedder=fake_embedder)
    in_graph, live = _sentence_counts(index)
    assert in_graph == live
    searcher = Searcher.open(index, embedder=fake_embedder)
    assert searcher.search("The harbour crane 3 was repaired", k=1, mode="semantic").hits[0].article["path"] == "003.txt"


def test_a_database_swapped_under_the_live_build_is_not_extended(tmp_path, fake_embedder, monkeypatch):
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 10)
    archive, index = tmp_path / "archive", tmp_path / "index"
    for number in range(40):  # enough that two orphans stay under the share that forces a rebuild
        write(archive / f"{number:02d}.txt", f"Report {number}\n\nThe harbour crane {number} was repaired.\n")
    reindex(archive, index, embedder=fake_embedder)
    from archivist import store

    live = store.build_dir(index, store.current_build_id(index)) / store.DATABASE
    older = tmp_path / "older.sqlite"
    older.write_bytes(live.read_bytes())
    write(archive / "03.txt", "Report 3\n\nA tanker ran aground at the harbour mouth.\n")
    reindex(archive, index, embedder=fake_embedder)
    # someone puts an older database back under the live build: its ids no longer match the graph
    live = store.build_dir(index, store.current_build_id(index)) / store.DATABASE
    live.write_bytes(older.read_bytes())
    write(archive / "04.txt", "Report 4\n\nThe lighthouse keeper counted gulls.\n")
    reindex(archive, index, embedder=fake_embedder)
    in_graph, live_count = _sentence_counts(index)
    assert in_graph == live_count
    hits = Searcher.open(index, embedder=fake_embedder).search("lighthouse keeper counted gulls", k=1,
                                                               mode="semantic").hits
    assert hits[0].article["path"] == "04.txt"
