"""Any-word keyword queries scored from each word's cached bm25 give FTS5's own scores."""

from __future__ import annotations

import random

import numpy as np
import pytest

from archivist.records import Filters
from archivist.storage.fts_expressions import quoted
from archivist.storage.keyword_index import BODY_WEIGHT, TITLE_WEIGHT
from archivist.query.syntax import parse_query
from archivist.storage.term_scores import TermScores
from archivist.build.indexer import reindex
from archivist.query.search import Searcher
from conftest import write

WORDS = ("harbour crane ship berth night cargo strike union wage port pilot tide storm ferry dock "
         "grain coal oil tanker customs").split()


@pytest.fixture
def searcher(tmp_path, fake_embedder) -> Searcher:
    rng = random.Random(7)
    archive = tmp_path / "archive"
    for number in range(40):
        title = " ".join(rng.choices(WORDS[:6], k=3))
        # some rows past 127 tokens: their lengths take two bytes in FTS5's docsize records
        body = " ".join(rng.choices(WORDS, weights=range(len(WORDS), 0, -1), k=rng.randint(20, 220)))
        write(archive / f"{number}.txt", f"{title.title()} {number}\n\n{body.capitalize()}.\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    return Searcher.open(tmp_path / "index", embedder=fake_embedder)


def fts5_or(searcher: Searcher, words: list[str], limit: int) -> list[tuple[int, float]]:
    rows = searcher.connection.execute(
        f"SELECT rowid, -bm25(passages_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS s FROM passages_fts "
        "WHERE passages_fts MATCH ? ORDER BY s DESC, rowid LIMIT ?", (" OR ".join(map(quoted, words)), limit))
    return [(r[0], r[1]) for r in rows]


@pytest.mark.parametrize("words", [["harbour"], ["harbour", "tanker"], ["crane", "ships", "customs", "storm"],
                                   ["oil", "coal", "grain", "zebra"], ["zebra"], WORDS,
                                   ["cranes", "crane", "tide_storm"]])  # one stem twice; a phrase
def test_summed_word_scores_are_fts5_scores_of_the_or_query(searcher, words):
    scores = TermScores(searcher.connection, TITLE_WEIGHT, BODY_WEIGHT)
    stemmed = with_stems(searcher, words)
    got, want = scores.top(stemmed, 15), fts5_or(searcher, words, 15)
    assert [pid for pid, _ in got] == [pid for pid, _ in want]
    assert np.allclose([s for _, s in got], [s for _, s in want], rtol=1e-9, atol=1e-12)
    assert scores.top(stemmed, 15) == got  # again, from memory


def with_stems(searcher: Searcher, words: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    return list(zip(words, searcher.keyword_index.stemmed.stems(words)))


def test_hybrid_keyword_list_is_the_same_with_and_without_the_word_cache(searcher):
    index = searcher.keyword_index
    query = parse_query("harbour cranes in a storm")
    fast = index.search(query, 20)
    # A filter that every (undated) article passes takes FTS5's own path: the same list.
    filtered = index.search(query, 20, Filters(since="1900-01-01"))
    assert [p for p, _ in fast] == [p for p, _ in fts5_or(searcher, ["harbour", "cranes", "storm"], 20)]
    assert len(fast) == 20
    assert dict(fast).keys() == dict(filtered).keys()
    assert all(abs(dict(fast)[p] - score) < 1e-9 for p, score in filtered)


def test_the_cache_keeps_to_its_budget_and_still_answers(searcher):
    scores = TermScores(searcher.connection, TITLE_WEIGHT, BODY_WEIGHT, budget=30)
    want = fts5_or(searcher, ["harbour", "crane", "ship"], 10)
    for word in with_stems(searcher, WORDS):
        scores.of(word)
    assert scores._held <= 30 or len(scores._cache) == 1
    got = scores.top(with_stems(searcher, ["harbour", "crane", "ship"]), 10)
    assert [p for p, _ in got] == [p for p, _ in want]


def test_which_passages_hold_a_word_comes_from_its_list_once_read(searcher):
    scores = TermScores(searcher.connection, TITLE_WEIGHT, BODY_WEIGHT)
    ids = np.arange(1, 41, dtype=np.int64)
    tanker = with_stems(searcher, ["tanker"])[0]
    assert scores.holding(*tanker, ids) is None  # not read yet: the caller asks FTS5
    holding = set(scores.of(tanker)[0].tolist())
    assert holding and scores.holding(*tanker, ids).tolist() == [int(i) in holding for i in ids]
    held = searcher.keyword_index.terms_held(ids.tolist(), ["tanker", "customs"])
    fresh = TermScores(searcher.connection, TITLE_WEIGHT, BODY_WEIGHT)
    customs = with_stems(searcher, ["customs"])[0]
    assert {pid for pid, terms in held.items() if "customs" in terms} == set(fresh.of(customs)[0].tolist())
