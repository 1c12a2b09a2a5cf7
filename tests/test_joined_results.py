"""A passage that continues a better result of the same article is shown as part of it."""

from __future__ import annotations

import pytest
from conftest import write

from archivist.build.indexer import reindex
from archivist.query.search import Searcher

KEEPER = "The lighthouse keeper counted gulls."


WORDS = {
    "market": "stalls traders apples prices baskets coins vendors bread cheese onions carts awnings",
    "harbour": "boats nets fishermen anchors tide quay hulls ropes sails cargo cranes buoys",
    "school": "pupils teachers lessons desks chalk books exams classrooms playground bells uniforms lunches",
    "railway": "trains tracks platforms tickets carriages signals stations engines timetables porters sleepers whistles",
    "ferry": "ferry crossing cancelled ferry crossing cancelled ferry crossing cancelled ferry crossing cancelled",
    "budget": "taxes spending deficit ministers revenue bonds pensions tariffs audits ledgers grants levies",
    "football": "goals strikers keepers referees pitches fans kits managers leagues trophies penalties corners",
    "theatre": "actors stages curtains scripts audiences rehearsals costumes directors playwrights balconies props lights",
}


def paragraph(topic: str, last: str = "", sentences: int = 12) -> str:
    """About 110 words of the topic's own vocabulary (so the fake embedder tells topics apart),
    so each paragraph is one passage and neighbours share one sentence."""
    words = WORDS[topic].split()
    body = " ".join("The " + " ".join((words[i:] + words[:i])[:8]) + "." for i in range(sentences))
    return f"{body} {last}".strip()


def coast_archive(root, longer: str) -> Searcher:
    """Passages 2 and 3 of coast.txt share KEEPER; the shorter one ranks first on bm25."""
    archive = root / "archive"
    paragraphs = [paragraph("market"),
                  paragraph("harbour", KEEPER, sentences=16 if longer == "second" else 12),
                  paragraph("school", sentences=12 if longer == "second" else 16),
                  paragraph("railway")]
    write(archive / "coast.txt", "Coast report\n\n" + "\n\n".join(paragraphs) + "\n")
    write(archive / "other.txt", "Other report\n\nA lighthouse keeper retired in the north after forty years.\n")
    for topic in ("budget", "football", "theatre"):
        # other stories, so that the query's words are rare, as in a real archive (bm25's idf)
        write(archive / f"{topic}.txt", f"{topic.title()} report\n\n{paragraph(topic)}\n")
    return archive


@pytest.fixture(autouse=True)
def every_hit_counts_as_strong(monkeypatch):
    """The fake embedder's vectors mean nothing on the calibrated relevance scale (fitted on the
    real model), so here every hit counts as a strong match and gets its best sentence marked."""
    monkeypatch.setattr("archivist.query.search.STRONG", 0.0)


def open_index(root, archive, embedder) -> Searcher:
    reindex(archive, root / "index", embedder=embedder)
    return Searcher.open(root / "index", embedder=embedder)


@pytest.mark.parametrize("longer", ["second", "third"])
def test_neighbouring_passages_that_both_match_are_one_result(tmp_path, fake_embedder, longer):
    searcher = open_index(tmp_path, coast_archive(tmp_path, longer), fake_embedder)
    passages = searcher.connection.execute(
        "SELECT p.id, p.start, p.end FROM passages p JOIN articles a ON a.id = p.article_id "
        "WHERE a.path = 'coast.txt' ORDER BY p.ordinal").fetchall()
    assert len(passages) == 4  # the keeper's sentence ends passage 2 and opens passage 3

    hits = searcher.search("lighthouse keeper gulls", k=5, mode="keyword", highlight=True).hits
    # Keyword mode requires every word (issue 15), so other.txt (no gulls) is no longer listed:
    # the neighbour is joined, not a second coast card.
    assert [h.article.path for h in hits] == ["coast.txt"]
    assert sorted(h.article.path for h in searcher.search("lighthouse keeper", k=5, mode="keyword").hits) == \
        ["coast.txt", "other.txt"]  # without "gulls" both hold the words, each once
    joined = hits[0]
    # the shorter passage ranks first, and the other is prepended to it or appended after it
    assert joined.passage_id == (passages[2]["id"] if longer == "second" else passages[1]["id"])
    text = searcher.article(joined.article.id)["text"]
    assert (joined.start, joined.end) == (passages[1]["start"], passages[2]["end"])
    assert joined.passage == text[joined.start:joined.end]
    assert joined.passage.count(KEEPER) == 1
    assert text[joined.highlight[0]:joined.highlight[1]] == KEEPER
    assert joined.to_json()["passage"] == joined.passage
    # the first result is the same however many are asked for
    only = searcher.search("lighthouse keeper gulls", k=1, mode="keyword").hits
    assert (only[0].start, only[0].end) == (joined.start, joined.end)


def test_a_copy_of_the_joined_passage_is_listed_with_the_result_not_shown_again(tmp_path, fake_embedder):
    archive = coast_archive(tmp_path, "second")
    # another outlet ran passage 2 with a few lines of its own (so it ranks below passage 2)
    reprint = paragraph("harbour", KEEPER, sentences=16) + " " + paragraph("theatre", sentences=3)
    write(archive / "reprint.txt", f"Reprint\n\n{reprint}\n")
    searcher = open_index(tmp_path, archive, fake_embedder)
    hits = searcher.search("lighthouse keeper gulls", k=10, mode="keyword").hits
    joined = hits[0]
    assert joined.article.path == "coast.txt" and joined.joined_passage_ids  # passage 3, with 2 before it
    assert "reprint.txt" in {s.article.path for s in joined.also_in}
    assert "reprint.txt" not in {h.article.path for h in hits}
    # and "more like this" on the joined result does not offer the reprint of its other half
    like = searcher.more_like_passage(joined.passage_id, k=10).hits
    assert like and "reprint.txt" not in {h.article.path for h in like}


def test_a_result_joins_one_neighbour_at_most(tmp_path, fake_embedder):
    archive = tmp_path / "archive"
    paragraphs = [paragraph(topic, "The ferry crossing was cancelled.")
                  for topic in ("market", "harbour", "school", "railway")]
    write(archive / "ferry.txt", "Ferry report\n\n" + "\n\n".join(paragraphs) + "\n")
    searcher = open_index(tmp_path, archive, fake_embedder)
    hits = searcher.search("ferry crossing cancelled", k=10, mode="keyword").hits
    assert len(hits) >= 2
    assert all(len(h.joined_passage_ids) <= 1 for h in hits)
    spans = sorted((h.start, h.end) for h in hits)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))  # never overlapping


def test_a_weak_neighbour_is_not_joined(tmp_path, fake_embedder):
    archive = tmp_path / "archive"
    paragraphs = [paragraph("market"), paragraph("harbour", "The ferry left."), paragraph("ferry")]
    write(archive / "ferry.txt", "Ferry report\n\n" + "\n\n".join(paragraphs) + "\n")
    searcher = open_index(tmp_path, archive, fake_embedder)
    hits = searcher.search("ferry crossing cancelled", k=10, mode="keyword").hits
    assert hits[0].passage.startswith("The ferry left.\n\nThe ferry crossing")
    assert not hits[0].joined_passage_ids
