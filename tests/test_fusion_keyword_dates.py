"""Small pure pieces: score fusion, FTS5 query building, date normalisation."""

from __future__ import annotations

import sqlite3

import pytest

from archivist.storage import database
from archivist.query.syntax import parse_query
from archivist.storage.keyword_index import Fts5KeywordIndex
from archivist.ingest.dates import normalise_date, parse_user_date
from archivist.errors import BadInput
from archivist.query.fusion import score_fusion


def test_score_fusion_matches_hand_computed_scores():
    scored = {"semantic": [(1, 0.8), (2, 0.6)],
              "keyword": [(3, 10.0), (2, 5.0)]}
    asked = []

    def cosines(ids):
        asked.append(sorted(ids))
        return {3: 0.5}

    fused = score_fusion(scored, {"keyword": 2.0}, cosines)
    scores = {i: s for i, s, _ in fused}
    assert asked == [[3]]                                # only the missing passage cosine
    assert scores[1] == pytest.approx(0.8)               # no keyword match: 0
    assert scores[2] == pytest.approx(0.6 + 2.0 * 0.5)   # bm25 5 of the top 10
    assert scores[3] == pytest.approx(0.5 + 2.0 * 1.0)   # found by keywords only, cosine computed
    assert [i for i, _, _ in fused] == [3, 2, 1]
    assert fused[0][2] == {"keyword": 1}
    assert fused[1][2] == {"semantic": 2, "keyword": 2}


def test_score_fusion_keeps_how_far_apart_hits_are():
    """Rank fusion would tie these two (each first in one list); scores keep the close call close."""
    fused = score_fusion({"semantic": [(1, 0.9), (2, 0.2)], "keyword": [(2, 3.0), (1, 2.9)]},
                         {"keyword": 1.0}, lambda ids: {})
    assert [i for i, _, _ in fused] == [1, 2]
    no_keywords = score_fusion({"semantic": [(1, 0.9), (2, 0.3)], "keyword": []}, {"keyword": 1.0}, lambda ids: {})
    assert [i for i, _, _ in no_keywords] == [1, 2]
    assert [s for _, s, _ in no_keywords] == pytest.approx([0.9, 0.3])  # cosines alone when bm25 finds nothing


@pytest.mark.parametrize("query", ['"unbalanced', "AND (", "NEAR(valley, 3)", "valley*", "^start",
                                   "title:valley", "'; DROP TABLE articles; --", "a OR", "", "   ", 'x "a b', "-", "NOT", "OR",
                                   '-"x', "a -", "val* NOT", '"" x', "*", "-valley",
                                   "ولادی", "潘杰希尔", "🔥🔥"])
def test_user_text_never_breaks_the_fts_syntax(tmp_path, query):
    connection = database.connect(tmp_path / "db.sqlite")
    connection.execute("INSERT INTO passages_fts(rowid, title, body) VALUES (1, 'Valley', 'the valley and the start')")
    try:
        parsed = parse_query(query)
    except BadInput:  # only an exclusion: refused with a sentence before FTS5 sees it
        return
    for every_word in (False, True):
        results = Fts5KeywordIndex(connection).search(parsed, 10, every_word=every_word)
        assert isinstance(results, list)
    Fts5KeywordIndex(connection).constraint(parsed)


def test_keyword_search_stems_and_ranks(tmp_path):
    connection = database.connect(tmp_path / "db.sqlite")
    connection.executemany("INSERT INTO passages_fts(rowid, title, body) VALUES (?, ?, ?)",
                           [(1, "t", "nothing relevant here"), (2, "t", "they supported the alliance"),
                            (3, "t", "support")])
    ids = [i for i, _ in Fts5KeywordIndex(connection).search(parse_query("who supports the Alliance?"), 10)]
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
