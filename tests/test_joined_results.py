"""A passage that continues a better result of the same article is shown as part of it."""

from __future__ import annotations

from conftest import write

from archivist.indexer import reindex
from archivist.search import Searcher


def paragraph(topic: str, number: int, last: str = "") -> str:
    """About 110 words, so each paragraph is one passage and neighbours share one sentence."""
    body = " ".join(f"Sentence {number}.{i} tells of the {topic} and the weather over the district."
                    for i in range(10))
    return f"{body} {last}".strip()


def test_neighbouring_passages_that_both_match_are_one_result(tmp_path, fake_embedder):
    archive = tmp_path / "archive"
    paragraphs = [paragraph("market", 1), paragraph("harbour", 2, "The lighthouse keeper counted gulls."),
                  paragraph("school", 3), paragraph("railway", 4)]
    write(archive / "coast.txt", "Coast report\n\n" + "\n\n".join(paragraphs) + "\n")
    write(archive / "other.txt", "Other report\n\nA lighthouse keeper retired in the north after forty years.\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=fake_embedder)
    passages = searcher.connection.execute(
        "SELECT p.id, p.start, p.end FROM passages p JOIN articles a ON a.id = p.article_id "
        "WHERE a.path = 'coast.txt' ORDER BY p.ordinal").fetchall()
    assert len(passages) == 4  # the keeper's sentence ends passage 2 and opens passage 3

    hits = searcher.search("lighthouse keeper gulls", k=5, mode="keyword", highlight=True).hits
    assert [h.article["path"] for h in hits] == ["coast.txt", "other.txt"]
    joined = hits[0]
    text = searcher.article(joined.article["id"])["text"]
    assert (joined.start, joined.end) == (passages[1]["start"], passages[2]["end"])
    assert joined.passage == text[joined.start:joined.end]
    assert joined.passage.count("The lighthouse keeper counted gulls.") == 1
    assert text[joined.highlight[0]:joined.highlight[1]] == "The lighthouse keeper counted gulls."
    assert joined.to_json()["passage"] == joined.passage


def test_a_result_joins_one_neighbour_at_most(tmp_path, fake_embedder):
    archive = tmp_path / "archive"
    paragraphs = [paragraph("ferry", n, "The ferry crossing was cancelled.") for n in range(1, 5)]
    write(archive / "ferry.txt", "Ferry report\n\n" + "\n\n".join(paragraphs) + "\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=fake_embedder)
    hits = searcher.search("ferry crossing cancelled", k=10, mode="keyword").hits
    assert len(hits) >= 2
    assert all(len(h.joined_passage_ids) <= 1 for h in hits)
    spans = sorted((h.start, h.end) for h in hits)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))  # never overlapping
