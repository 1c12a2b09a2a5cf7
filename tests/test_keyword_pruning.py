"""Large archives leave their commonest words out of the keyword query (speed), small ones do not."""

from __future__ import annotations

from archivist.storage import keyword_index as keyword
from archivist.build.indexer import reindex
from archivist.query.search import Searcher
from conftest import write


def build(tmp_path, fake_embedder) -> Searcher:
    archive = tmp_path / "archive"
    for number in range(10):
        extra = " A pelican landed on the crane." if number == 3 else ""
        write(archive / f"{number}.txt", f"Port report {number}\n\nThe harbour cranes worked through the night "
                                          f"at berth {number} while ships waited.{extra}\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    return Searcher.open(tmp_path / "index", embedder=fake_embedder)


def test_frequencies_are_counted_on_stems_as_fts5_indexes_them(tmp_path, fake_embedder):
    searcher = build(tmp_path, fake_embedder)
    frequencies = searcher.keyword_index.document_frequencies(["harbours", "crane", "pelicans", "zebra"])
    assert frequencies == {"harbours": 10, "crane": 10, "pelicans": 1, "zebra": 0}


def test_common_words_are_dropped_only_in_a_large_archive(tmp_path, fake_embedder, monkeypatch):
    searcher = build(tmp_path, fake_embedder)
    terms = ["harbour", "cranes", "pelican"]
    assert searcher.keyword_index.stemmed.selective_terms(terms, passages=10) == terms  # small: untouched
    monkeypatch.setattr(keyword, "PRUNE_FROM_PASSAGES", 5)
    monkeypatch.setattr(keyword, "COMMON_SHARE", 0.5)
    assert searcher.keyword_index.stemmed.selective_terms(terms, passages=10) == ["pelican"]
    # Only everyday words: the two rarest are kept so the query still finds passages.
    assert len(searcher.keyword_index.stemmed.selective_terms(["harbour", "cranes", "ships"], passages=10)) == 2
    top = searcher.search("harbour cranes pelican", k=1, mode="keyword").hits[0]
    assert top.article.path == "3.txt"


def test_pruned_keyword_searches_from_several_threads_agree_with_one_thread(tmp_path, fake_embedder, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    searcher = build(tmp_path, fake_embedder)
    monkeypatch.setattr(keyword, "PRUNE_FROM_PASSAGES", 5)
    monkeypatch.setattr(keyword, "COMMON_SHARE", 0.5)
    queries = ["harbour cranes pelican", "ships waited berth 4", "night cranes pelican landed"] * 20
    want = [searcher.search(q, k=3, mode="keyword").to_json()["results"] for q in queries]
    with ThreadPoolExecutor(4) as pool:  # the page's sessions share one Searcher and connection
        got = list(pool.map(lambda q: searcher.search(q, k=3, mode="keyword").to_json()["results"], queries))
    assert got == want
    assert not searcher.connection.in_transaction
