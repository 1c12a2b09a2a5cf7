"""The PostgreSQL + pgvector backend on a real server (tests/pg_server.py): schema migrations,
publishing an embedded build as a generation, vector search against the embedded index, a
publish killed mid-way, and the reads served over it (stats, stories, articles, the HTTP API)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pg_server import database, fresh_database, server_url  # noqa: F401 (fixtures)
from conftest import PROJECT, SEED_ARCHIVE
from test_api import call, query, serving
from test_cli import run

from archivist.errors import IndexIncompatible, IndexMissing
from archivist.storage import manifest, text_tables
from archivist.storage.postgres import generations, schema
from archivist.storage.postgres.connection import connect, redacted
from archivist.storage.postgres.vectors import PgVectorIndex
from archivist.storage.vector_index import FaissVectorIndex

SEED_QUESTIONS = ["who supported the Northern Alliance", "Lion of Panjshir", "What did the Taliban claim",
                  "Ahmad Massoud called for a national uprising", "price of cocoa in Brazil"]


def published(seed_index, url: str) -> dict:
    result = run("publish", "--index", str(seed_index), "--index-url", url, "--json", "--quiet")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def embedded(seed_index):
    live = manifest.read_manifest(seed_index)
    connection = manifest.open_live_database(seed_index, live)
    vectors = FaissVectorIndex.load(manifest.build_dir(seed_index, live["build_id"]) / manifest.VECTORS)
    return live, connection, vectors


def test_publish_copies_the_embedded_build_as_the_live_generation(seed_index, database):
    report = published(seed_index, database)
    live, source, _ = embedded(seed_index)
    assert report["generation"] == 1 and report["replaced"] is None and report["build_id"] == live["build_id"]
    with connect(database) as target:
        assert schema.schema_version(target) == schema.LATEST
        assert generations.live_generation(target) == 1
        for table in ("articles", "passages", "sentences", "copies", "mentions"):
            stored = target.execute(f"SELECT count(*) FROM {table} WHERE generation = 1").fetchone()[0]
            assert stored == source.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == report["counts"][table]
        # the passage text and its keyword vector: stemmed English words, so "supporters" finds "supported"
        passage_id = target.execute("SELECT id FROM passages WHERE tsv @@ to_tsquery('english', 'supporters') "
                                    "ORDER BY id LIMIT 1").fetchone()[0]
        assert "support" in text_tables.passage(source, passage_id).text.lower()
        # its words are those the embedded keyword index holds (acronyms spelled out beside them)
        assert target.execute("SELECT body FROM passages WHERE id = %s", (passage_id,)).fetchone()[0] == \
            source.execute("SELECT body FROM passages_fts WHERE rowid = ?", (passage_id,)).fetchone()[0]
    again = published(seed_index, database)
    assert again["generation"] == 2 and again["replaced"] == 1
    with connect(database) as target:  # the old generation is gone, partitions and all
        assert target.execute("SELECT array_agg(id) FROM generations").fetchone()[0] == [2]
        assert target.execute("SELECT to_regclass('passages_g1')").fetchone()[0] is None


def test_migrations_run_once_and_a_newer_schema_is_refused(database):
    with connect(database) as connection:
        assert schema.migrate(connection) == [m[0] for m in schema.MIGRATIONS]
        assert schema.migrate(connection) == []
        with pytest.raises(IndexMissing, match="no published build"):
            generations.live_generation(connection)
        connection.execute("INSERT INTO archivist_schema(version, description) VALUES (%s, 'from the future')",
                           (schema.LATEST + 1,))
        connection.commit()
        with pytest.raises(IndexIncompatible, match="upgrade Archivist"):
            schema.migrate(connection)


def test_vector_search_finds_what_the_embedded_index_finds(seed_index, database, real_embedder):
    published(seed_index, database)
    _, source, faiss_index = embedded(seed_index)
    queries = real_embedder.encode(SEED_QUESTIONS)
    with connect(database) as connection:
        pg = PgVectorIndex(connection, generations.live_generation(connection))
        assert pg.count == faiss_index.count
        for exact in (False, True):
            scores, ids = pg.search(queries, 5, exact=exact)
            faiss_scores, faiss_ids = faiss_index.search(queries, 5)
            assert (ids[:, 0] == faiss_ids[:, 0]).all()  # the same passage first for every question
            assert np.allclose(scores, faiss_scores, atol=2e-3)  # both store fp16
        # a filter: only the Newsweek report's passages, through the graph and exactly
        allowed = np.asarray(sorted(text_tables.passage_ids_of_article(
            source, source.execute("SELECT id FROM articles WHERE outlet = 'Newsweek'").fetchone()[0])))
        graph = PgVectorIndex(connection, 1, exact_filter_limit=0)
        for index in (pg, graph):
            _, ids = index.search(queries, 3, allowed_ids=allowed)
            _, expected = faiss_index.search(queries, 3, allowed_ids=allowed)
            assert set(ids.ravel()) - {-1} <= set(allowed.tolist())
            assert (ids == expected).all()


def test_a_publish_killed_midway_leaves_readers_on_the_previous_generation(seed_index, database, real_embedder):
    published(seed_index, database)
    env = {**os.environ, "ARCHIVIST_KILL_AT": "copying passages and their vectors"}
    killed = subprocess.run([sys.executable, "-m", "archivist", "publish", "--index", str(seed_index),
                             "--index-url", database, "--quiet"], cwd=PROJECT, env=env, capture_output=True, text=True)
    assert killed.returncode == -9
    with connect(database) as connection:
        states = dict(connection.execute("SELECT id, state FROM generations").fetchall())
        assert states == {1: "live", 2: "writing"}
        _, ids = PgVectorIndex(connection, generations.live_generation(connection)).search(
            real_embedder.encode(SEED_QUESTIONS[:1]), 3)
        assert (ids >= 0).all()  # readers still search the whole previous build
    finished = published(seed_index, database)  # the same build: resumed where it stopped
    assert finished["generation"] == 2 and finished["replaced"] == 1 and finished["resumed_articles"] == 5
    with connect(database) as connection:
        assert dict(connection.execute("SELECT id, state FROM generations").fetchall()) == {2: "live"}
    live, source, _ = embedded(seed_index)
    for table in ("articles", "passages", "sentences", "copies", "mentions"):
        assert finished["counts"][table] == source.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


class Interrupted(Exception):
    pass


def shape(connection, generation: int) -> dict[str, tuple[int, int]]:
    """Rows and indexes of each of a generation's tables (what a resume must end with as well)."""
    out = {}
    for table in schema.GENERATION_TABLES:
        name = generations.partition(table, generation)
        rows = connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        indexes = connection.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", (name,)).fetchone()[0]
        out[table] = (rows, indexes)
    connection.commit()
    return out


def live_shape(url: str) -> dict[str, tuple[int, int]]:
    with connect(url) as connection:
        return shape(connection, generations.live_generation(connection))


def test_each_article_goes_in_whole_and_an_interrupted_publish_resumes_after_the_committed_ones(
        seed_index, database, real_embedder):
    """Articles are written one group of whole articles per transaction: stopped after the second
    group, the writing generation holds complete articles only (every passage, sentence and
    mention of each), readers stay on the live build, and the next publish of the same build
    copies only the rest, ending with the same rows as a publish in one go."""
    from archivist.build.publish_postgres import publish_embedded

    published(seed_index, database)
    whole = live_shape(database)
    live, source, _ = embedded(seed_index)

    def stop_after_two_groups(passages_in: int, groups: list[int] = []) -> None:
        groups.append(passages_in)
        if len(groups) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        publish_embedded(seed_index, database, after_rows=stop_after_two_groups, batch=10)
    with connect(database) as connection:
        assert dict(connection.execute("SELECT id, state FROM generations").fetchall()) == {1: "live", 2: "writing"}
        written = [row[0] for row in connection.execute("SELECT id FROM articles_g2")]
        assert 0 < len(written) < 5
        for article_id in written:  # whole: every row of each article that is in at all
            for table, column, sql in (
                    ("passages_g2", "article_id", "SELECT count(*) FROM passages WHERE article_id = ?"),
                    ("mentions_g2", "article_id", "SELECT count(*) FROM mentions WHERE article_id = ?")):
                stored = connection.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s", (article_id,)).fetchone()
                assert stored[0] == source.execute(sql, (article_id,)).fetchone()[0], (table, article_id)
            sentences = connection.execute("SELECT count(*) FROM sentences_g2 s JOIN passages_g2 p ON p.id = s.passage_id "
                                           "WHERE p.article_id = %s", (article_id,)).fetchone()[0]
            assert sentences == source.execute("SELECT count(*) FROM sentences s JOIN passages p ON p.id = s.passage_id "
                                               "WHERE p.article_id = ?", (article_id,)).fetchone()[0]
        assert connection.execute("SELECT count(*) FROM passages_g2 WHERE article_id != ALL(%s)",
                                  (written,)).fetchone()[0] == 0
        _, ids = PgVectorIndex(connection, generations.live_generation(connection)).search(
            real_embedder.encode(SEED_QUESTIONS[:1]), 3)
        assert (ids >= 0).all() and generations.live_generation(connection) == 1
    report = publish_embedded(seed_index, database, batch=10)
    assert (report.generation, report.replaced, report.resumed_articles) == (2, 1, len(written))
    with connect(database) as connection:
        for table in ("articles", "passages", "sentences", "copies", "story_members", "relations", "mentions"):
            stored = connection.execute(f"SELECT count(*) FROM {table}_g2").fetchone()[0]
            assert stored == report.counts.get(table, stored) == source.execute(
                f"SELECT count(*) FROM {table}").fetchone()[0], table
    assert live_shape(database) == whole  # every table's rows and indexes, as a publish in one go
    searched = run("search", "Lion of Panjshir", "--index-url", database, "--json", "-k", "3")
    direct = run("search", "Lion of Panjshir", "--index", str(seed_index), "--json", "-k", "3")
    assert [r["passage"] for r in json.loads(searched.stdout)["results"]] == \
        [r["passage"] for r in json.loads(direct.stdout)["results"]]


@pytest.mark.parametrize("stopped_in", ["build_indexes", "publish"])
def test_a_publish_stopped_after_the_articles_resumes_to_the_same_generation(seed_index, database, monkeypatch,
                                                                             stopped_in):
    """Stopped while indexing (the rows that span articles are in, the indexes not), the resume
    writes those rows again, not twice; stopped after indexing (before going live), it only makes
    the generation live: the indexes and bm25 statistics are not built again."""
    from archivist.build.publish_postgres import publish_embedded

    published(seed_index, database)
    whole = live_shape(database)
    real = getattr(generations, stopped_in)
    built: list[int] = []
    real_build = generations.build_indexes
    monkeypatch.setattr(generations, stopped_in, lambda *a, **k: (_ for _ in ()).throw(Interrupted))
    with pytest.raises(Interrupted):
        publish_embedded(seed_index, database)
    monkeypatch.setattr(generations, stopped_in, real)
    monkeypatch.setattr(generations, "build_indexes", lambda c, g: (built.append(g), real_build(c, g)))
    report = publish_embedded(seed_index, database)
    assert (report.generation, report.replaced, report.resumed_articles) == (2, 1, 5)
    assert built == ([2] if stopped_in == "build_indexes" else [])
    assert live_shape(database) == whole


def test_a_different_build_after_an_interrupted_publish_starts_over(seed_index, database, tmp_path):
    from archivist.build.publish_postgres import publish_embedded

    published(seed_index, database)
    with pytest.raises(Interrupted):
        publish_embedded(seed_index, database, after_rows=lambda n: (_ for _ in ()).throw(Interrupted), batch=10)
    other = tmp_path / "other"
    shutil.copytree(seed_index, other)
    live = manifest.read_manifest(other)
    renamed = {**live, "build_id": live["build_id"] + "-other"}
    (manifest.build_dir(other, live["build_id"])).rename(manifest.build_dir(other, renamed["build_id"]))
    (other / "manifest.json").write_text(json.dumps(renamed))
    report = publish_embedded(other, database)
    assert (report.generation, report.resumed_articles) == (3, 0)
    with connect(database) as connection:
        assert dict(connection.execute("SELECT id, state FROM generations").fetchall()) == {3: "live"}


def test_a_half_written_generation_of_another_schema_is_not_resumed(seed_index, database):
    """Rows written by an Archivist of another schema version are never mixed with this one's."""
    from archivist.build.publish_postgres import publish_embedded

    published(seed_index, database)
    whole = live_shape(database)
    with pytest.raises(Interrupted):
        publish_embedded(seed_index, database, after_rows=lambda n: (_ for _ in ()).throw(Interrupted), batch=10)
    with connect(database) as connection:
        connection.execute("UPDATE generations SET counts = %s WHERE state = 'writing'",
                           (json.dumps({"writing": {"schema": schema.LATEST - 1}}),))
        connection.commit()
    report = publish_embedded(seed_index, database)
    assert (report.generation, report.resumed_articles) == (3, 0)
    assert live_shape(database) == whole


def test_bad_urls_and_unreachable_servers_get_one_line(tmp_path, seed_index):
    result = run("publish", "--index", str(seed_index), "--index-url", "mysql://x")
    assert result.returncode == 2 and "not a PostgreSQL URL" in result.stderr
    result = run("publish", "--index", str(seed_index), "--index-url",
                 f"postgresql://someone:hunter2@/nowhere?host={tmp_path}")
    assert result.returncode != 0 and "Cannot reach PostgreSQL" in result.stderr and "hunter2" not in result.stderr
    assert redacted("postgresql://u:secret@db.example.org/archive") == "postgresql://u@db.example.org/archive"


def test_ranking_on_postgres_puts_the_same_passages_first_as_the_embedded_index(seed_index, seed_searcher, database):
    """Only retrieval differs: pgvector and bm25 in SQL, fused by the same code as embedded."""
    from archivist.query.postgres_search import PostgresSearcher

    published(seed_index, database)
    ranker = PostgresSearcher(database, seed_searcher.embedder)
    try:
        for question in SEED_QUESTIONS:
            for mode in ("hybrid", "semantic", "keyword"):
                ours = ranker.rank_passages(question, None, 10, mode)
                theirs = seed_searcher.rank_passages(question, None, 10, mode)
                assert [row[0] for row in ours[:1]] == [row[0] for row in theirs[:1]], (question, mode)
        # bm25 as FTS5 computes it (idf and length), not ts_rank: where both stemmers give the same
        # words, the scores are FTS5's own.
        ours = {pid: score for pid, score, _ in ranker.rank_passages("Massoud Taliban resistance", None, 20, "keyword")}
        theirs = {pid: score for pid, score, _ in seed_searcher.rank_passages("Massoud Taliban resistance", None, 20,
                                                                             "keyword")}
        assert list(ours)[:3] == list(theirs)[:3]
        for pid in list(theirs)[:5]:
            assert ours[pid] == pytest.approx(theirs[pid], rel=0.05), (pid, ours, theirs)
        assert ranker.rank_passages("the of and", None, 10, "keyword") == []  # stop words only
        # The exact-words bonus's word frequencies, read from term_stats, are the passages holding each word.
        words = ["Taliban", "Massoud", "the", "Panjshir", "zebra", "anti-Taliban"]
        keywords = ranker.keyword_index
        counted = {word: keywords.connection.execute(
            f"SELECT count(*) FROM {keywords.tables['passages']} WHERE tsv @@ plainto_tsquery('english', %s)",
            (word,)).fetchone()[0] for word in words}
        keywords.connection.commit()
        assert keywords.document_frequencies(words) == {**counted, "the": 0}
        assert counted["Taliban"] > 0 and counted["zebra"] == 0
    finally:
        ranker.close()


def test_eval_through_postgres_scores_like_the_embedded_backend(tmp_path, database):
    from conftest import DATA

    embedded_run = run("eval", str(DATA / "tiny_beir"), "--mode", "keyword", "--json", "--quiet",
                       "--index", str(tmp_path / "index"))
    postgres_run = run("eval", str(DATA / "tiny_beir"), "--mode", "keyword", "--json", "--quiet",
                       "--index", str(tmp_path / "index"), "--index-url", database)
    assert embedded_run.returncode == 0 and postgres_run.returncode == 0, postgres_run.stderr
    ours, theirs = json.loads(postgres_run.stdout), json.loads(embedded_run.stdout)
    assert ours["backend"] == "postgresql" and theirs["backend"] == "embedded"
    for name in ("nDCG@10", "Recall@100", "MRR@10"):
        assert ours[name] == pytest.approx(theirs[name], abs=1e-4), name


def _comparable(response: dict) -> dict:
    """A search's CLI JSON without what may differ between backends: the time taken, and the
    figures (halfvec rounding in pgvector; PostgreSQL's Snowball stems count a few words' passages
    differently), which are compared as numbers."""
    loose = {"relevance", "evidence", "score"}
    return {**{k: v for k, v in response.items() if k != "took_ms"},
            "results": [{k: v for k, v in hit.items() if k not in loose} for hit in response["results"]]}


def _batch_on_both(seed_index, database: str, questions: list[str], *options: str) -> list[tuple[dict, dict]]:
    """(PostgreSQL's, the embedded index's) `search --batch --json` object for each question."""
    outputs = []
    for where in (("--index-url", database), ("--index", str(seed_index))):
        result = run("search", "--batch", "-", "--json", *options, *where, stdin="\n".join(questions) + "\n")
        assert result.returncode == 0, result.stderr
        outputs.append([json.loads(line) for line in result.stdout.splitlines()])
    assert len(outputs[0]) == len(outputs[1]) == len(questions)
    return list(zip(*outputs))


def test_search_through_postgres_prints_the_cli_json_of_the_embedded_index(seed_index, database):
    """`search --index-url` runs the embedded Searcher's own stages over Postgres: same results,
    same cards (copies, highlight, weak-match verdict), same JSON shape."""
    published(seed_index, database)
    for mode in ("hybrid", "keyword"):
        for mine, embedded_one in _batch_on_both(seed_index, database, SEED_QUESTIONS, "-k", "5", "--mode", mode):
            assert _comparable(mine) == _comparable(embedded_one), (mode, mine["query"])
            for a, b in zip(mine["results"], embedded_one["results"]):
                assert a["relevance"] == pytest.approx(b["relevance"], abs=0.05)
                assert a["score"] == pytest.approx(b["score"], rel=0.05)
    weak = json.loads(run("search", "price of cocoa in Brazil", "--json", "--index-url", database).stdout)
    assert weak["no_strong_match"] is True
    strong = json.loads(run("search", "Lion of Panjshir", "--json", "--index-url", database).stdout)
    assert strong["no_strong_match"] is False


def test_filtered_search_through_postgres_gives_the_json_of_the_embedded_index(seed_index, seed_searcher, database):
    """Outlet, author, date, undated and language filters are the embedded backend's own SQL
    condition: the same results (the JSON `search --json` prints) in every mode, and the same
    one-line refusal of a wrong one."""
    from archivist.query.postgres_search import PostgresSearcher
    from archivist.query.retrieval import Query

    published(seed_index, database)
    filter_sets = ({}, {"outlets": ["Newsweek"]}, {"since": "2021-09-01", "include_undated": False},
                   {"until": "2021-09-02"}, {"outlets": ["(unknown outlet)"]}, {"languages": ["en"]},
                   {"author": "hunter"})
    searcher = PostgresSearcher(database, seed_searcher.embedder)
    try:
        for filters in filter_sets:
            for question in SEED_QUESTIONS[:2]:
                for mode in ("hybrid", "keyword", "semantic"):
                    mine = searcher.search(question, k=5, mode=mode, highlight=True, **filters)
                    theirs = seed_searcher.search(question, k=5, mode=mode, highlight=True, **filters)
                    where = (filters, question, mode)
                    # The same passages ranked first within the filter, and the same first card.
                    # Further down, halfvec rounding may swap two passages whose scores are within
                    # a hair, and where every query word is common (bm25's idf floor) the stemmers
                    # can decide whether a neighbouring passage joins a card, so the cards' spans
                    # are compared by the CLI test above instead.
                    ranked = [[row[0] for row in s._retrieval.ranked(Query(question), 30, mode, s.filters(**filters))[:3]]
                              for s in (searcher, seed_searcher)]
                    assert ranked[0] == ranked[1], where
                    assert {h.article.id for h in mine.hits} == {h.article.id for h in theirs.hits}, where
                    if not theirs.hits:  # nothing in the filter holds every word (Keyword mode)
                        continue
                    assert mine.hits[0].passage_id == theirs.hits[0].passage_id, where
                    assert mine.no_strong_match == theirs.no_strong_match, where
                    assert mine.hits[0].score == pytest.approx(theirs.hits[0].score, rel=0.05), where
        # The filters narrow: the Newsweek filter leaves only Newsweek's article.
        newsweek = searcher.search("Massoud", outlets=["Newsweek"]).hits
        assert newsweek and {hit.article.outlet for hit in newsweek} == {"Newsweek"}
        dated = searcher.search("Massoud", since="2021-09-01", include_undated=False).hits
        assert dated and all(h.article.date and h.article.date >= "2021-09-01" for h in dated)
    finally:
        searcher.close()
    wrong = run("search", "Massoud", "--outlet", "The Daily Nowhere", "--index-url", database)
    assert wrong.returncode != 0 and len(wrong.stderr.strip().splitlines()) == 1
    assert "Unknown outlet 'The Daily Nowhere'" in wrong.stderr


SYNTAX_QUERIES = ['"Lion of Panjshir"', '"Ahmad Massoud"', "Panjshir NOT Massoud", "Panjshir -Massoud",
                  'Taliban -"Northern Alliance"', "Russia OR India", "Massou*", "resist* Panjshir",
                  '"Lion of Panjshir" Kabul OR Islamabad -Saleh', '"unbalanced quote', "x AND", "-"]
IDF_FLOOR_SCORE = 0.01  # every word in over half the seed passages: bm25 scores ~0, order is noise


def _card(hit: dict) -> tuple:
    return hit["article"]["id"], hit["start"], hit["end"]


def test_query_syntax_through_postgres_finds_what_the_embedded_index_finds(seed_index, database):
    """Phrases, exclusions, OR and prefixes are read on Postgres too (tsquery, phrase and prefix
    scored as FTS5 scores them): in every mode the same first card and as many results as the
    embedded index, nearly the same cards after it, the phrase in every result and no excluded
    word in any."""
    published(seed_index, database)
    for mode in ("hybrid", "semantic", "keyword"):
        for mine, embedded_one in _batch_on_both(seed_index, database, SYNTAX_QUERIES, "-k", "8", "--mode", mode):
            where = (mode, mine["query"])
            assert len(mine["results"]) == len(embedded_one["results"]), where
            assert mine["no_strong_match"] == embedded_one["no_strong_match"], where
            if not mine["results"]:
                continue
            if mode != "keyword" or embedded_one["results"][0]["score"] > IDF_FLOOR_SCORE:
                assert _card(mine["results"][0]) == _card(embedded_one["results"][0]), where
            if mode != "keyword":  # near ties aside (Snowball and Porter count a few words apart), the same cards
                same = {_card(h) for h in mine["results"]} & {_card(h) for h in embedded_one["results"]}
                assert len(same) >= 0.75 * len(mine["results"]), where
            texts = [hit["passage"].lower() for hit in mine["results"]]
            if mine["query"].startswith('"Lion'):
                assert all("lion of panjshir" in text for text in texts), where
            if mine["query"].startswith('"Ahmad'):
                assert all("ahmad massoud" in text for text in texts), where
            if "-Massoud" in mine["query"] or "NOT Massoud" in mine["query"]:
                assert not any("massoud" in text for text in texts), where
            if "Alliance" in mine["query"]:
                assert not any("northern alliance" in text for text in texts), where
    for query in ("Russia OR India", '"Ahmad Massoud" -Saleh'):  # Keyword mode's article count
        counts = [json.loads(run("search", query, "--json", "--mode", "keyword", "--per-article", *where).stdout)
                  ["matching_articles"] for where in (("--index-url", database), ("--index", str(seed_index)))]
        assert counts[0] == counts[1] and counts[0]["count"] > 0, query


EXPORT_QUERIES = ["Massoud", *SYNTAX_QUERIES[:9]]
# What export rows may differ in between the backends: bm25 from Snowball and Porter stems, and
# so the rank among near ties (the rows themselves must be the same).
EXPORT_LOOSE = {"rank", "score", "relevance"}


def _export_rows(text: str) -> dict[tuple, dict]:
    rows = [json.loads(line) for line in text.splitlines()]
    return {(r["article_id"], r["start"]): {k: v for k, v in r.items() if k not in EXPORT_LOOSE} for r in rows}


def test_export_and_lists_of_names_through_postgres_give_the_embedded_rows(seed_index, database):
    """`export --index-url` gives every passage the embedded index's export gives in Keyword mode
    (the query syntax applied, acronyms' spelled-out words matched as FTS5 matches them), the same
    ranked rows in Hybrid, and `search --batch --summary` the same table of names."""
    published(seed_index, database)
    total = 0
    for question in EXPORT_QUERIES:
        mine, theirs = (run("export", question, "--format", "jsonl", *where) for where in
                        (("--index-url", database), ("--index", str(seed_index))))
        assert mine.returncode == theirs.returncode == 0, (question, mine.stderr)
        assert _export_rows(mine.stdout) == _export_rows(theirs.stdout), question
        total += len(_export_rows(mine.stdout))
    assert total > 100
    first = [json.loads(run("export", API_QUESTION, "--mode", "hybrid", "--limit", "12", "--format", "jsonl",
                            *where).stdout.splitlines()[0]) for where in (("--index-url", database),
                                                                        ("--index", str(seed_index)))]
    assert {k: v for k, v in first[0].items() if k not in EXPORT_LOOSE} == \
        {k: v for k, v in first[1].items() if k not in EXPORT_LOOSE}
    names = "Ahmad Massoud\nAmrullah Saleh\n\"National Resistance Front\"\nresist*\nZanzibar\n"
    tables = [run("search", "--batch", "-", "--summary", "--mode", "keyword", *where, stdin=names)
              for where in (("--index-url", database), ("--index", str(seed_index)))]
    assert tables[0].returncode == 0, tables[0].stderr
    assert tables[0].stdout == tables[1].stdout and "Zanzibar,0" in tables[0].stdout
    bad = run("export", "-", "--index-url", database)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "no words" in bad.stderr


def test_search_through_postgres_marks_the_same_best_sentences_and_follows_a_new_publish(
        seed_index, seed_searcher, database):
    from archivist.query.postgres_search import PostgresSearcher

    first = published(seed_index, database)["generation"]
    searcher = PostgresSearcher(database, seed_searcher.embedder)
    try:
        for question in SEED_QUESTIONS[:4]:  # the page's cards: the sentence that answers, marked
            ours = searcher.search(question, k=3, highlight=True).hits
            theirs = seed_searcher.search(question, k=3, highlight=True).hits
            assert [h.highlight for h in ours] == [h.highlight for h in theirs], question
            assert any(h.highlight for h in ours), question
        before = searcher.search("Lion of Panjshir", k=3)
        second = published(seed_index, database)["generation"]
        after = searcher.search("Lion of Panjshir", k=3)
        assert second != first and searcher.generation == second
        assert [h.passage_id for h in after.hits] == [h.passage_id for h in before.hits]
    finally:
        searcher.close()


# What `stats` tells that is where and how this backend keeps the index, not what it holds.
STATS_OF_THE_BACKEND = ("index", "build_id", "vectors")


def _stats_lines(text: str) -> list[str]:
    """`stats`'s text without the lines naming the backend's own vectors, build and place."""
    return [line for line in text.splitlines() if not line.startswith(("Vectors:", "Built at:", "Index:"))]


def test_stats_and_stories_through_postgres_print_what_the_embedded_index_prints(seed_index, database):
    """`stats` and `stories` with --index-url (or $ARCHIVIST_INDEX_URL) read the live generation
    with the embedded backend's own statements: the same JSON and text, but for where the index is."""
    published(seed_index, database)
    # The test server trusts its socket, so a password in the URL is not checked: `stats` must not print it.
    with_password = database.replace(":@", ":hunter2@", 1)
    theirs = json.loads(run("stats", "--json", "--index", str(seed_index)).stdout)
    ours = json.loads(run("stats", "--json", "--index-url", with_password).stdout)
    assert {k: v for k, v in ours.items() if k not in STATS_OF_THE_BACKEND} == \
        {k: v for k, v in theirs.items() if k not in STATS_OF_THE_BACKEND}
    assert set(ours) == set(theirs) and ours["articles"] == 5 and ours["outlets"] and ours["languages"]
    assert ours["built_at"] == manifest.read_manifest(seed_index)["built_at"]  # what publish stored
    assert ours["build_id"] == "postgresql generation 1" and ours["vectors"] == {"passages": "pgvector hnsw"}
    assert ours["index"] == redacted(database) and "hunter2" not in ours["index"]
    text = run("stats", "--index-url", database)
    assert text.returncode == 0 and _stats_lines(text.stdout) == _stats_lines(run("stats", "--index", str(seed_index)).stdout)
    env = {**os.environ, "ARCHIVIST_INDEX_URL": database}
    for command in ("stats", "stories"):
        from_env = subprocess.run([sys.executable, "-m", "archivist", command, "--json"], cwd=PROJECT, env=env,
                                  capture_output=True, text=True, timeout=300)
        assert from_env.returncode == 0, from_env.stderr
        assert json.loads(from_env.stdout) == json.loads(run(command, "--json", "--index-url", database).stdout)
    embedded_stories = run("stories", "--json", "--index", str(seed_index))
    stories = run("stories", "--json", "--index-url", database)
    assert stories.returncode == 0, stories.stderr
    assert json.loads(stories.stdout) == json.loads(embedded_stories.stdout) and json.loads(stories.stdout)["stories"]
    assert run("stories", "--index-url", database).stdout == run("stories", "--index", str(seed_index)).stdout


def test_articles_through_postgres_equal_the_embedded_ones_and_follow_a_new_publish(seed_index, seed_searcher,
                                                                                    database):
    from archivist.query.postgres_search import PostgresSearcher

    published(seed_index, database)
    ids = [row[0] for row in seed_searcher.connection.execute("SELECT id FROM articles ORDER BY id")]
    searcher = PostgresSearcher(database, seed_searcher.embedder)
    try:
        for article_id in ids:
            theirs = seed_searcher.article_with_passages(article_id)
            assert searcher.article_with_passages(article_id) == theirs, article_id
            assert searcher.article(article_id) == seed_searcher.article(article_id)
        assert any(seed_searcher.article_with_passages(i)["entities"] for i in ids)  # mentions compared too
        assert searcher.article_with_passages("nope") is None and searcher.article("nope") is None
        assert searcher.stats()["build_id"] == "postgresql generation 1"
        published(seed_index, database)  # generation 1's partitions are dropped: the views move on
        assert searcher.article_with_passages(ids[0]) == seed_searcher.article_with_passages(ids[0])
        assert searcher.stats()["build_id"] == "postgresql generation 2"
        assert [s.to_json() for s in searcher.stories()] == [s.to_json() for s in seed_searcher.stories()]
    finally:
        searcher.close()


API_QUESTION = "who supported the Northern Alliance"


def test_the_api_over_postgres_answers_as_embedded_and_keeps_watches_and_clean_ups_there(seed_index, database,
                                                                                     real_embedder):
    published(seed_index, database)
    with serving(seed_index, SEED_ARCHIVE, real_embedder) as embedded_base, \
            serving(seed_index, SEED_ARCHIVE, real_embedder, index_url=database, publishes=False) as base:
        def both(path: str) -> tuple[dict, dict]:
            (status, ours, _), (embedded_status, theirs, _) = call(base + path), call(embedded_base + path)
            assert status == embedded_status == 200, (path, ours)
            return ours, theirs

        for question in (API_QUESTION, *SEED_QUESTIONS[1:3]):
            ours, theirs = both(f"/search?{query(q=question, k=5)}")
            assert _comparable(ours) == _comparable(theirs), question
            for a, b in zip(ours["results"], theirs["results"]):
                assert a["score"] == pytest.approx(b["score"], rel=0.05)
        ours, theirs = both("/stories")
        assert ours == theirs and ours["stories"]
        ours, theirs = both("/stats")
        assert {k: v for k, v in ours.items() if k not in STATS_OF_THE_BACKEND} == \
            {k: v for k, v in theirs.items() if k not in STATS_OF_THE_BACKEND}
        article_id = both(f"/search?{query(q=API_QUESTION, k=1)}")[1]["results"][0]["article"]["id"]
        ours, theirs = both(f"/articles/{article_id}")
        assert ours == theirs
        assert call(f"{base}/articles/nope")[0] == 404
        status, health, _ = call(f"{base}/health")
        assert status == 200 and health == {"status": "ok", "index": "ready", "build_id": "postgresql generation 1",
                                            "generation": 1}
        exports = []
        for where in (base, embedded_base):
            with urllib.request.urlopen(f"{where}/export?{query(q='resist* Panjshir', format='jsonl')}",
                                        timeout=60) as answer:
                exports.append(_export_rows(answer.read().decode()))
        assert exports[0] == exports[1] and exports[0]
        ours, theirs = both("/entities?limit=0")
        assert ours == theirs and ours["total"] > 0
        # The watchlist is kept in the database: the API's watch is the CLI's.
        status, added, _ = call(f"{base}/watches?{query(q='Massoud')}", method="POST")
        assert status == 201 and added["seen"] == 5
        listed = json.loads(run("watch", "list", "--json", "--index-url", database).stdout)["watches"]
        assert [(w["id"], w["query"], w["seen"]) for w in listed] == [(1, "Massoud", 5)]
        assert call(f"{base}/watches/check", method="POST")[1]["watches"][0]["new"] == []
        assert call(f"{base}/watches/1", method="DELETE")[1] == {"removed": 1}
        assert call(f"{base}/watches")[1] == {"watches": []}
        assert call(f"{base}/entities/hide?{query(name='Taliban')}", method="POST")[1] == {"hidden": "taliban"}
        assert "Taliban" not in {row["name"] for row in call(f"{base}/entities?limit=0")[1]["entities"]}
        assert call(f"{base}/entities/restore?{query(name='Taliban')}", method="POST")[0] == 200
        assert "Taliban" in {row["name"] for row in call(f"{base}/entities?limit=0")[1]["entities"]}
        # Started without an archive of its own (no --archive): reading only, reindex refused.
        for method, path in (("POST", "/reindex"), ("PUT", "/files/notes.txt")):
            status, body, _ = call(base + path, method=method)
            assert status == 400 and "--archive FOLDER" in body["error"] and "\n" not in body["error"], path
        ours, theirs = both(f"/search?{query(q='Taliban', entity='Ahmad Massoud', k=5)}")
        assert _comparable(ours) == _comparable(theirs) and ours["results"]


def test_api_searches_over_postgres_at_once_each_on_a_searcher_of_its_own(seed_index, database, real_embedder):
    """Two request threads search at once, each with its own PostgresSearcher (a psycopg
    connection carries one transaction at a time): every answer as when asked alone."""
    from archivist.api.searchers import LivePostgresSearcher

    published(seed_index, database)
    asked = [dict(q=q, k=4, mode=mode) for q in SEED_QUESTIONS[:4] for mode in ("hybrid", "keyword")] * 3
    with serving(seed_index, SEED_ARCHIVE, real_embedder, index_url=database, workers=2) as base:
        alone = {json.dumps(p, sort_keys=True): call(f"{base}/search?{query(**p)}")[1] for p in asked[:8]}
        with ThreadPoolExecutor(8) as clients:
            together = list(clients.map(lambda p: call(f"{base}/search?{query(**p)}"), asked))
    for params, (status, body, _) in zip(asked, together):
        assert status == 200, body
        assert _comparable(body) == _comparable(alone[json.dumps(params, sort_keys=True)]), params
    live = LivePostgresSearcher(database, real_embedder)
    try:
        mine = live.get()
        assert live.get() is mine
        other: list = []
        thread = threading.Thread(target=lambda: other.append(live.get()))
        thread.start()
        thread.join(60)
        assert other and other[0] is not mine and other[0].connection is not mine.connection
    finally:
        live.close()
    assert mine.connection.closed and other[0].connection.closed


def test_api_over_postgres_in_worker_processes_and_before_a_publish(seed_index, server_url, real_embedder):
    database = fresh_database(server_url)
    with serving(seed_index, SEED_ARCHIVE, real_embedder, index_url=database) as base:
        assert call(f"{base}/health")[1] == {"status": "ok", "index": "missing", "build_id": None}
        status, body, _ = call(f"{base}/search?{query(q='Massoud')}")
        assert status == 503 and "publish" in body["error"]
        published(seed_index, database)
        on_threads = call(f"{base}/search?{query(q=API_QUESTION, k=3)}")
    with serving(seed_index, SEED_ARCHIVE, real_embedder, index_url=database, workers=1, processes=True) as base:
        in_process = call(f"{base}/search?{query(q=API_QUESTION, k=3)}")
        assert call(f"{base}/stats")[1]["build_id"] == "postgresql generation 1"
    assert on_threads[0] == in_process[0] == 200
    assert _comparable(in_process[1]) == _comparable(on_threads[1])


def test_entity_names_on_postgres_carry_the_published_clean_ups_and_those_made_there(
        tmp_path, seed_index, database):
    """`entities` and `--entity` read the generation's mentions with the merges and hidden names
    made on the embedded index (publish copies them), and with those made over Postgres on top."""
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    assert run("entities", "--merge", "Ahmad Massoud", "Ahmad Shah Massoud", "--index", str(index)).returncode == 0
    assert run("entities", "--hide", "Panjshir valley", "--index", str(index)).returncode == 0
    published(index, database)
    for options in (("--json", "--limit", "0"), ("--json", "--hidden")):
        ours = json.loads(run("entities", *options, "--index-url", database).stdout)
        theirs = json.loads(run("entities", *options, "--index", str(index)).stdout)
        assert ours == theirs and ours["entities"], options
    names = {row["name"]: row for row in json.loads(run("entities", "--json", "--limit", "0",
                                                        "--index-url", database).stdout)["entities"]}
    assert "Ahmad Massoud" in names["Ahmad Shah Massoud"]["spellings"] and "Panjshir valley" not in names
    for name in ("Ahmad Massoud", "Ahmad Shah Massoud"):  # either spelling filters by the merged name
        ours, theirs = (json.loads(run("search", "Taliban", "--entity", name, "--json", "-k", "5", *where).stdout)
                        for where in (("--index-url", database), ("--index", str(index))))
        assert _comparable(ours) == _comparable(theirs) and ours["results"], name
    # Clean-ups made on the database apply on top of the published ones and outlive a publish.
    def listed(*where: str) -> dict:
        return {row["name"]: row for row in json.loads(run("entities", "--json", "--limit", "0", *where).stdout)["entities"]}

    assert run("entities", "--hide", "Taliban", "--index-url", database).returncode == 0
    assert run("entities", "--restore", "Ahmad Massoud", "--index-url", database).returncode == 0  # a published merge
    for _ in range(2):
        names = listed("--index-url", database)
        assert "Taliban" not in names and "Ahmad Massoud" in names and "Panjshir valley" not in names
        assert "Ahmad Massoud" not in names["Ahmad Shah Massoud"]["spellings"]
        assert "Taliban" in listed("--index", str(index))  # the embedded index's own list is its own
        published(index, database)  # a new generation, its clean-ups copied again: ours stay on top
    again = run("entities", "--restore", "Ahmad Massoud", "--index-url", database)
    assert again.returncode != 0 and "nothing to restore" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert run("entities", "--restore", "Taliban", "--index-url", database).returncode == 0
    assert "Taliban" in listed("--index-url", database)
    merged = run("entities", "--merge", "Panjshir", "Panjshir valley", "--index-url", database)
    assert merged.returncode == 0, merged.stderr  # "Panjshir valley" is hidden by the published layer
    assert "Panjshir" not in listed("--index-url", database)
    # A publish from a working folder without clean-ups of its own (a page's or a second
    # machine's reindex) carries the live generation's published ones forward.
    bare = tmp_path / "bare"
    shutil.copytree(seed_index, bare)
    (bare / "entity_edits.json").unlink(missing_ok=True)
    published(bare, database)
    names = listed("--index-url", database)
    assert "Ahmad Massoud" in names and "Panjshir valley" not in names and "Panjshir" not in names
    with connect(database) as connection:
        assert generations.live_entity_edits(connection)["merged"]["ahmad massoud"] == "ahmad shah massoud"
    unknown = run("search", "Taliban", "--entity", "Nobody Atall", "--index-url", database)
    assert unknown.returncode != 0 and "No article in this index names" in unknown.stderr


def test_more_like_this_and_a_deep_page_on_postgres_give_what_the_embedded_index_gives(
        seed_index, seed_searcher, database):
    """"More like this" compares a stored passage's vector on Postgres too; a search asking for more
    results than pgvector's largest beam (ef_search 1,000) still answers (the iterative scan)."""
    from archivist.query.postgres_search import PostgresSearcher

    published(seed_index, database)
    searcher = PostgresSearcher(database, seed_searcher.embedder)
    try:
        for passage_id in (seed_searcher.search(q, k=1).hits[0].passage_id for q in SEED_QUESTIONS[:3]):
            ours = searcher.more_like_passage(passage_id, k=5).to_json()
            theirs = seed_searcher.more_like_passage(passage_id, k=5).to_json()
            assert _comparable(ours) == _comparable(theirs) and ours["results"], passage_id
        deep = searcher.search(SEED_QUESTIONS[0], k=400, mode="semantic")
        assert len(deep.hits) == len(seed_searcher.search(SEED_QUESTIONS[0], k=400, mode="semantic").hits) > 10
    finally:
        searcher.close()


def test_a_file_added_through_the_api_over_postgres_is_published_there(tmp_path, seed_index, database, real_embedder):
    """PUT /files over --index-url saves the file in the server's archive, reindexes its working
    folder and publishes the build into the database: the API and any other reader (the CLI
    here) find the new article, and GET /reindex reports the publish."""
    archive = tmp_path / "archive"
    shutil.copytree(SEED_ARCHIVE, archive)
    published(seed_index, database)
    with serving(tmp_path / "work", archive, real_embedder, index_url=database) as base:
        request = urllib.request.Request(
            f"{base}/files/cocoa.txt?{query(outlet='Wire', date='2021-09-10')}", method="PUT",
            data=b"Cocoa harvest report\n\nCocoa growers in the Brazilian state of Bahia expect a record harvest.\n")
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert answer.status == 201 and json.loads(answer.read())["saved"] == ["cocoa.txt"]
        deadline = time.monotonic() + 300
        while (status := call(f"{base}/reindex")[1])["state"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert status["state"] == "done", status
        assert status["report"]["published"]["generation"] == 2 and status["report"]["passages_embedded"] > 0
        found = call(f"{base}/search?{query(q='cocoa harvest in Bahia', k=1)}")[1]["results"][0]["article"]
        assert (found["path"], found["outlet"], found["date"]) == ("cocoa.txt", "Wire", "2021-09-10")
        status, names, _ = call(f"{base}/entities?limit=0")  # read from the new generation, not the dropped one
        assert status == 200 and names["total"] > 0
    cli = json.loads(run("search", "cocoa harvest in Bahia", "--json", "-k", "1", "--index-url", database).stdout)
    assert cli["results"][0]["article"]["path"] == "cocoa.txt"


def test_an_export_stopped_early_on_postgres_lets_the_servers_cursor_go(seed_index, seed_searcher, database,
                                                                        monkeypatch):
    """Keyword export over Postgres streams its matches a batch at a time from a cursor held on
    the server; one that stops at --limit closes it at once (nothing left open on the server),
    and the rows are the embedded export's first rows."""
    from archivist.query import export
    from archivist.query.postgres_search import PostgresSearcher
    from archivist.storage.postgres import keywords

    published(seed_index, database)
    monkeypatch.setattr(keywords, "EVERY_MATCH_BATCH", 2)
    monkeypatch.setattr(export, "_READ_BATCH", 2)
    searcher = PostgresSearcher(database, seed_searcher.embedder)
    try:
        every = list(export.export_rows(searcher, "Taliban", "keyword"))
        assert len(every) == len(list(export.export_rows(seed_searcher, "Taliban", "keyword"))) > 5
        rows = export.export_rows(searcher, "Taliban", "keyword", limit=3)
        assert [r["rank"] for r in rows] == [1, 2, 3]
        open_cursors = searcher._keywords_connection.execute("SELECT count(*) FROM pg_cursors").fetchone()[0]
        searcher._keywords_connection.commit()
        assert open_cursors == 0
    finally:
        searcher.close()


def test_a_large_archive_on_postgres_leaves_its_commonest_words_out_as_embedded(seed_index, seed_searcher,
                                                                                database, monkeypatch):
    """The any-word keyword list on Postgres prunes the commonest words past PRUNE_FROM_PASSAGES
    as the embedded index does (summing their posting lists took 10 s a query at a million
    passages): with the threshold lowered to the seed archive, both lists hold the same passages."""
    from archivist.query.postgres_search import PostgresSearcher
    from archivist.query.syntax import parse_query
    from archivist.storage import keyword_index

    published(seed_index, database)
    searcher = PostgresSearcher(database, seed_searcher.embedder)
    try:
        question = parse_query("Taliban resistance Bahia Kabul")
        passages = seed_searcher.vector_index.count
        unpruned = {pid for pid, _ in searcher.keyword_index.search(question, 50, passages=passages)}
        monkeypatch.setattr(keyword_index, "PRUNE_FROM_PASSAGES", 5)
        monkeypatch.setattr(keyword_index, "COMMON_SHARE", 0.2)
        ours = {pid for pid, _ in searcher.keyword_index.search(question, 50, passages=passages)}
        theirs = {pid for pid, _ in seed_searcher.keyword_index.search(question, 50, passages=passages)}
        assert ours == theirs and ours and ours < unpruned
    finally:
        searcher.close()
