"""People, organisations and places (issue 17): extracted at reindex, counted, a search filter,
and merges and hides that survive reindexing; through the core, the CLI and the API."""

from __future__ import annotations

import json

import pytest
from conftest import write
from test_api import call, query, serving
from test_cli import run

from archivist.build.indexer import reindex
from archivist.errors import BadInput
from archivist.query.export import export_rows
from archivist.query.search import Searcher

ARTICLES = {
    "visit.txt": "Minister in Nairobi\n\nKenya's finance minister Njeri Kamau met officials of the World Bank "
                 "in Nairobi on Monday to discuss a new loan.\n",
    "loan.txt": "Loan approved\n\nThe World Bank approved the loan on Thursday, Njeri Kamau told reporters "
                "in Mombasa.\n",
    "typo.txt": "Budget speech\n\nFinance minister Njeri Kamawu presented the budget in Nairobi.\n",
}


@pytest.fixture
def kenya(tmp_path, real_embedder):
    archive, index = tmp_path / "archive", tmp_path / "index"
    for name, text in ARTICLES.items():
        write(archive / name, text)
    reindex(archive, index, embedder=real_embedder)
    return archive, index


def names_of(searcher: Searcher, kind: str | None = None, **options) -> dict[str, int]:
    return {row["name"]: row["articles"] for row in searcher.entity_names().listing(kind, **options)}


def test_entities_are_extracted_counted_and_filter_search(kenya, real_embedder):
    _, index = kenya
    searcher = Searcher.open(index, real_embedder)
    assert names_of(searcher, "person")["Njeri Kamau"] == 2
    assert names_of(searcher, "org")["World Bank"] == 2
    assert names_of(searcher, "place")["Nairobi"] == 2
    article = searcher.article_with_passages(searcher.search("budget speech", k=1).hits[0].article.id)
    assert {"name": "Nairobi", "type": "place"}.items() <= next(
        m for m in article["entities"] if m["name"] == "Nairobi").items()
    hits = searcher.search("minister", k=10, per_article=True, entity="Mombasa")
    assert [h.article.path for h in hits.hits] == ["loan.txt"]
    exported = list(export_rows(searcher, "loan", "keyword", entity="Mombasa"))
    assert {r["path"] for r in exported} == {"loan.txt"}  # visit.txt has "loan" but not Mombasa
    with pytest.raises(BadInput, match="No article in this index names 'Lagos'"):
        searcher.search("minister", entity="Lagos")


def test_merge_and_hide_survive_a_reindex_and_reach_new_articles(kenya, real_embedder):
    archive, index = kenya
    searcher = Searcher.open(index, real_embedder)
    names = searcher.entity_names()
    names.merge("Njeri Kamawu", "Njeri Kamau")
    names.hide("Mombasa")
    people = {row["name"]: row for row in names.listing("person")}
    assert people["Njeri Kamau"]["articles"] == 3 and "Njeri Kamawu" not in people
    assert people["Njeri Kamau"]["spellings"] == ["Njeri Kamau", "Njeri Kamawu"]
    assert "Mombasa" not in names_of(searcher, "place") and "Mombasa" in names_of(searcher, hidden=True)
    # The filter reads the merged name too: the misspelt article is found by the right spelling.
    assert {h.article.path for h in searcher.search("minister", k=10, per_article=True,
                                                    entity="Njeri Kamau").hits} == set(ARTICLES)

    write(archive / "later.txt", "Reshuffle\n\nFinance minister Njeri Kamawu kept her post, officials in "
          "Mombasa said on Friday.\n")
    reindex(archive, index, embedder=real_embedder)
    after = Searcher.open(index, real_embedder)
    assert names_of(after, "person")["Njeri Kamau"] == 4 and "Mombasa" not in names_of(after, "place")
    after.entity_names().restore("Mombasa")
    assert names_of(after, "place")["Mombasa"] == 2  # loan.txt and later.txt


def test_cli_lists_filters_and_cleans_up_entities(kenya):
    _, index = kenya
    listed = run("entities", "--type", "place", "--json", "--index", str(index))
    assert listed.returncode == 0, listed.stderr
    assert {"Nairobi", "Mombasa"} <= {row["name"] for row in json.loads(listed.stdout)["entities"]}
    merged = run("entities", "--merge", "Njeri Kamawu", "Njeri Kamau", "--index", str(index))
    assert merged.returncode == 0 and "Merged 'Njeri Kamawu' into 'Njeri Kamau'." in merged.stdout
    table = run("entities", "--type", "person", "--index", str(index)).stdout
    assert "3  person  Njeri Kamau  (also: Njeri Kamawu)" in table
    found = run("search", "budget", "--entity", "njeri kamau", "--json", "--index", str(index))
    assert {r["article"]["path"] for r in json.loads(found.stdout)["results"]} <= set(ARTICLES)
    bad = run("entities", "--hide", "Atlantis", "--index", str(index))
    assert bad.returncode == 2 and "No article in this index names 'Atlantis'" in bad.stderr


def test_api_lists_and_cleans_up_entities(kenya, real_embedder):
    archive, index = kenya
    with serving(index, archive, real_embedder) as base:
        status, body, _ = call(f"{base}/entities?{query(type='org')}")
        assert status == 200 and body["entities"][0]["name"] == "World Bank"
        assert call(f"{base}/entities/hide?{query(name='World Bank')}", method="POST")[0] == 200
        assert "World Bank" not in {r["name"] for r in call(f"{base}/entities?{query(type='org')}")[1]["entities"]}
        status, found, _ = call(f"{base}/search?{query(q='loan', entity='Nairobi', k=5)}")
        assert status == 200 and {r["article"]["path"] for r in found["results"]} <= {"visit.txt", "typo.txt"}
        assert call(f"{base}/entities?{query(type='planet')}")[0] == 400


def test_entity_extraction_can_be_turned_off_and_the_reindex_says_so(tmp_path, real_embedder, monkeypatch):
    archive, index = tmp_path / "archive", tmp_path / "index"
    write(archive / "visit.txt", ARTICLES["visit.txt"])
    monkeypatch.setenv("ARCHIVIST_ENTITIES", "0")
    report = reindex(archive, index, embedder=real_embedder)
    assert "entity extraction is off (ARCHIVIST_ENTITIES=0)" in report.summary()
    searcher = Searcher.open(index, real_embedder)
    assert searcher.entity_names().listing() == []
    assert searcher.search("finance minister", k=1).hits  # search does not need names


def test_entities_found_in_worker_processes_equal_those_found_in_process(tmp_path, real_embedder, monkeypatch):
    """A large reindex reads names in a pool of processes; what it stores must not depend on that."""
    stored = {}
    for processes in ("1", "2"):
        archive, index = tmp_path / processes / "archive", tmp_path / processes / "index"
        for name, text in ARTICLES.items():
            write(archive / name, text)
        monkeypatch.setenv("ARCHIVIST_ENTITY_PROCESSES", processes)
        reindex(archive, index, embedder=real_embedder)
        searcher = Searcher.open(index, real_embedder)
        stored[processes] = {kind: names_of(searcher, kind) for kind in ("person", "org", "place")}
    assert stored["1"]["person"]["Njeri Kamau"] == 2
    assert stored["2"] == stored["1"]


def test_a_worker_killed_midway_loses_no_article(caplog):
    """A worker killed (for memory, say) mid-reindex: its batches are read in the reindexing process."""
    import multiprocessing
    import os
    import signal

    from archivist.build.entity_processes import extract_in_processes
    from archivist.ingest.entities import extract_entities

    texts = [text for text in ARTICLES.values()] * 6
    batches = [texts[i:i + 2] for i in range(0, len(texts), 2)]
    before = {child.pid for child in multiprocessing.active_children()}
    results = []
    for number, found in enumerate(extract_in_processes(iter(batches), processes=2)):
        results.append(found)
        if number == 0:
            for child in multiprocessing.active_children():
                if child.pid not in before:
                    os.kill(child.pid, signal.SIGKILL)
    assert "an entity worker process died" in caplog.text
    assert len(results) == len(batches)
    assert results == [extract_entities(batch) for batch in batches]


def test_the_pages_watchlist_follows_a_merge_of_the_name_a_watch_is_filtered_by(kenya, real_embedder):
    """The page caches each watch's search; a merge changes which articles name a person, so the
    count a watch filtered by that name shows must change with it, not wait for a reindex."""
    from page.watches import current_statuses

    from archivist.watchlist import watchlist_of

    _, index = kenya
    searcher = Searcher.open(index, real_embedder)
    watchlist = watchlist_of(searcher)
    watchlist.add(searcher, "minister", mode="keyword", entity="Njeri Kamau")
    [before] = current_statuses(searcher, watchlist)
    assert [a.path for a in before.matching] == ["visit.txt"]
    searcher.entity_names().merge("Njeri Kamawu", "Njeri Kamau")
    [after] = current_statuses(searcher, watchlist)
    assert sorted(a.path for a in after.matching) == ["typo.txt", "visit.txt"]
    assert [a.path for a in after.new] == ["typo.txt"]
