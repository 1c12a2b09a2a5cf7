"""Grouping a fused ranking into hits, on hand-built passage rows (no index, no model)."""

from __future__ import annotations

from archivist.query.grouping import JOIN_SHARE, group_hits
from archivist.records import ArticleRef, Passage

WORDS = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot")
TEXT = " ".join(f"{w} said the harbour was busy with ships and cranes all night long." for w in WORDS)
SENTENCES = [TEXT.index(w) for w in WORDS] + [len(TEXT) + 1]


def ref(article_id: str, date: str | None = None) -> ArticleRef:
    return ArticleRef(id=article_id, path=f"{article_id}.txt", title=f"Title {article_id}", outlet=None,
                      date=date, url=None)


def span(first: int, last: int) -> tuple[int, int]:
    """Sentences first..last (0-based, inclusive) of TEXT, without the trailing space."""
    return SENTENCES[first], SENTENCES[last + 1] - 1


class Rows:
    """grouping.Lookups over dicts: passages by id, copies by id, one relation for every pair."""

    def __init__(self, passages: dict[int, tuple[ArticleRef, tuple[int, int]]],
                 copies: dict[int, dict[int, float]] | None = None) -> None:
        self.rows = {pid: Passage(pid, article, s, e, TEXT[s:e]) for pid, (article, (s, e)) in passages.items()}
        self.copies = copies or {}
        self.read: list[int] = []

    def passage(self, passage_id):
        self.read.append(passage_id)
        return self.rows.get(passage_id)

    def articles_of(self, passage_ids):
        return {pid: self.rows[pid].article.id for pid in passage_ids if pid in self.rows}

    def copies_of(self, passage_id):
        return dict(self.copies.get(passage_id, {}))

    def relation(self, own_article, other_article, own_text, other_text):
        return "exact" if own_text == other_text else "rewrite"


X, Y, Z = ref("x", "2021-09-03"), ref("y", "2021-09-01"), ref("z")


def test_a_strong_neighbour_is_joined_into_one_hit():
    rows = Rows({1: (X, span(0, 2)), 2: (X, span(2, 4)), 3: (Y, span(5, 5))})
    hits = group_hits([(1, 1.0, {}), (2, 0.9, {}), (3, 0.5, {})], 10, rows)
    assert [h.passage_id for h in hits] == [1, 3]
    first = hits[0]
    assert first.joined_passage_ids == [2]
    assert (first.start, first.end) == span(0, 4)
    assert first.passage == TEXT[first.start:first.end]
    assert [h.rank for h in hits] == [1, 2]


def test_a_weak_neighbour_is_its_own_hit_without_the_shared_sentence():
    rows = Rows({1: (X, span(0, 2)), 2: (X, span(2, 4))})
    hits = group_hits([(1, 1.0, {}), (2, JOIN_SHARE * 0.9, {})], 10, rows)
    assert [h.passage_id for h in hits] == [1, 2]
    assert not hits[0].joined_passage_ids
    assert (hits[1].start, hits[1].end) == span(3, 4)  # Charlie is shown in the hit above
    assert hits[1].passage == TEXT[slice(*span(3, 4))]


def test_a_passage_mostly_shown_by_a_better_hit_is_dropped():
    rows = Rows({1: (X, span(0, 3)), 2: (X, span(1, 3))})
    hits = group_hits([(1, 1.0, {}), (2, 0.95, {})], 10, rows)
    assert [h.passage_id for h in hits] == [1]


def test_copies_fold_into_also_in_earliest_first_and_never_rank_alone():
    rows = Rows({1: (X, span(0, 1)), 5: (Y, span(0, 1)), 6: (Z, span(0, 0)), 7: (Y, span(2, 3))},
                copies={1: {5: 0.99, 6: 0.9}})
    hits = group_hits([(1, 1.0, {"semantic": 1}), (5, 0.99, {}), (6, 0.9, {}), (7, 0.4, {})], 10, rows)
    assert [h.passage_id for h in hits] == [1, 7]
    also = hits[0].also_in
    assert [s.article.id for s in also] == ["y", "z"]  # dated before undated
    assert [s.kind for s in also] == ["exact", "rewrite"]
    assert hits[0].ranks == {"semantic": 1}


def test_the_results_are_the_same_whatever_k_is():
    rows = Rows({1: (X, span(0, 2)), 2: (Y, span(5, 5)), 3: (X, span(2, 4))})
    ranked = [(1, 1.0, {}), (2, 0.95, {}), (3, 0.9, {})]
    one = group_hits(ranked, 1, rows)
    two = group_hits(ranked, 2, rows)
    assert one[0].joined_passage_ids == [3] == two[0].joined_passage_ids  # joined past k as well
    assert [h.passage_id for h in one] == [1] and [h.passage_id for h in two] == [1, 2]


def test_past_k_only_neighbours_of_results_are_read():
    rows = Rows({1: (X, span(0, 1)), 2: (Y, span(3, 3)), 3: (Z, span(0, 0))})
    group_hits([(1, 1.0, {}), (2, 0.95, {}), (3, 0.9, {})], 1, rows)
    assert rows.read == [1]  # the other articles' passages past k are never fetched


def test_a_stale_passage_id_is_skipped():
    rows = Rows({1: (X, span(0, 1))})
    assert [h.passage_id for h in group_hits([(99, 1.0, {}), (1, 0.5, {})], 10, rows)] == [1]
