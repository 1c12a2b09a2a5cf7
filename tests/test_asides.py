"""Captions, photo keyword lines and links to other stories: searchable, marked, and ranked below
text that answers as well (issue 15, "clutter demoted, not deleted")."""

from __future__ import annotations

from conftest import write

from archivist.build.indexer import reindex
from archivist.query.retrieval import ASIDE_DEMOTION, demote_asides
from archivist.query.search import Searcher

TEASER = "(RELATED: City Council Approves The New Harbour Budget)"


def test_a_remembered_caption_finds_the_article_that_printed_it_marked_as_a_caption(seed_searcher):
    hit = seed_searcher.search("Black Hawk helicopter", k=3).hits[0]
    assert hit.kind == "caption" and "operable Black Hawk helicopter" in hit.passage
    assert hit.article.path == "001_ecfc993b8a397a1a.txt"
    assert hit.to_json()["kind"] == "caption"


def test_a_teaser_is_found_in_every_mode_and_the_paragraph_around_it_still_is(seed_searcher):
    for mode in ("hybrid", "keyword", "semantic"):
        first = seed_searcher.search("Coke And Pepsi", k=3, mode=mode).hits[0]
        assert first.kind == "link" and "Coke And Pepsi" in first.passage, mode
    # The paragraph holding the teaser is a card of its own text, not hidden behind the teaser.
    hits = seed_searcher.search("Saleh called for RESISTANCE on Friday as clashes intensified", k=3).hits
    assert hits[0].kind == "text" and "called for “RESISTANCE” on Friday" in hits[0].passage
    assert "kind" not in hits[0].to_json()  # the article's own text keeps the contract's fields


def test_an_aside_never_outranks_text_that_answers_as_well(tmp_path, real_embedder):
    write(tmp_path / "archive" / "council.txt",
          "Harbour vote\n\nThe city council approves the new harbour budget after a long night of debate.\n")
    write(tmp_path / "archive" / "other.txt",
          "Weather report\n\nRain is expected all week across the region, forecasters said on Monday. "
          f"{TEASER} Farmers welcomed the rain after a dry summer.\n")
    write(tmp_path / "archive" / "third.txt",
          "Ferry news\n\nThe ferry timetable changes in spring, the operator said. "
          f"{TEASER} Tickets go on sale next week.\n")
    reindex(tmp_path / "archive", tmp_path / "index", embedder=real_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=real_embedder)
    for mode in ("hybrid", "keyword", "semantic"):
        hits = searcher.search("city council approves the new harbour budget", k=5, mode=mode).hits
        assert hits[0].article.path == "council.txt" and hits[0].kind == "text", mode
        links = [h for h in hits if h.kind == "link"]
        assert links, mode
        # The same teaser printed by two articles makes neither a copy of the other.
        assert all(h.also_in == [] for h in links), mode
    grouped = [{m.article.path for m in story.members} for story in searcher.stories()]
    assert not any({"other.txt", "third.txt"} <= paths for paths in grouped)


def test_demotion_lowers_asides_on_either_scale():
    ranked = [(1, 0.70, {}), (2, 0.65, {}), (3, 0.50, {})]
    assert [row[0] for row in demote_asides(ranked, {1}, keyword_scale=False)] == [2, 1, 3]
    assert demote_asides(ranked, {1}, keyword_scale=False)[1][1] == 0.70 * (1 - ASIDE_DEMOTION["fused"])
    bm25 = [(1, 9.0, {}), (2, 5.0, {})]  # 9 x 0.5 < 5
    assert [row[0] for row in demote_asides(bm25, {1}, keyword_scale=True)] == [2, 1]
    assert demote_asides(ranked, set(), keyword_scale=False) is ranked
