"""Small pure pieces: reciprocal rank fusion, FTS5 query building, date normalisation."""

from __future__ import annotations

import sqlite3

import pytest

from archivist import keyword, store
from archivist.dates import normalise_date, parse_user_date
from archivist.errors import BadInput
from archivist.fusion import reciprocal_rank_fusion


def test_rrf_matches_hand_computed_scores():
    fused = reciprocal_rank_fusion({"a": [1, 2, 3], "b": [3, 1]}, k=10)
    scores = {i: s for i, s, _ in fused}
    assert scores[1] == pytest.approx(1 / 11 + 1 / 12)
    assert scores[2] == pytest.approx(1 / 12)
    assert scores[3] == pytest.approx(1 / 13 + 1 / 11)
    assert [i for i, _, _ in fused] == [1, 3, 2]
    assert fused[0][2] == {"a": 1, "b": 2}


def test_rrf_weights_and_duplicates():
    fused = reciprocal_rank_fusion({"a": [1, 1, 2], "b": [2]}, k=0, weights={"a": 1.0, "b": 3.0})
    scores = {i: s for i, s, _ in fused}
    assert scores[1] == pytest.approx(1.0)          # counted once, at its best rank
    assert scores[2] == pytest.approx(1 / 3 + 3.0)


@pytest.mark.parametrize("query", ['"unbalanced', "AND (", "NEAR(valley, 3)", "valley*", "^start",
                                   "title:valley", "'; DROP TABLE articles; --", "a OR", "", "   ",
                                   "ولادی", "潘杰希尔", "🔥🔥"])
def test_user_text_never_breaks_the_fts_syntax(tmp_path, query):
    connection = store.connect(tmp_path / "db.sqlite")
    connection.execute("INSERT INTO passages_fts(rowid, title, body) VALUES (1, 'Valley', 'the valley and the start')")
    results = keyword.search(connection, query, 10)
    assert isinstance(results, list)


def test_keyword_search_stems_and_ranks(tmp_path):
    connection = store.connect(tmp_path / "db.sqlite")
    connection.executemany("INSERT INTO passages_fts(rowid, title, body) VALUES (?, ?, ?)",
                           [(1, "t", "nothing relevant here"), (2, "t", "they supported the alliance"),
                            (3, "t", "support")])
    ids = [i for i, _ in keyword.search(connection, "who supports the Alliance?", 10)]
    assert ids[0] == 2 and 3 in ids and 1 not in ids


def test_dates():
    assert normalise_date("2021-09-03") == "2021-09-03"
    assert normalise_date("3 September 2021") == "2021-09-03"
    assert normalise_date("2021-09-02T10:00:00Z") == "2021-09-02"
    assert normalise_date("not a date") is None
    assert normalise_date("2021-02-30") is None
    assert parse_user_date("2021-09-01", "--since") == "2021-09-01"
    with pytest.raises(BadInput, match="--since 'yesterday-ish' is not a date"):
        parse_user_date("yesterday-ish", "--since")
    with pytest.raises(sqlite3.Error):
        sqlite3.connect(":memory:").execute("SELECT * FROM missing")


@pytest.mark.parametrize("value", ["Monday", "12:30", "3", "March"])
def test_partial_dates_are_not_invented(value):
    assert normalise_date(value) is None
