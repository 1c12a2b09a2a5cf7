"""Grouping a fused ranking into hits: overlaps trimmed, neighbours joined, copies folded.

Pure functions over passage rows: what they need of the index comes through `Lookups` (four
reads), so they are tested on hand-built rows (tests/test_grouping.py) as well as end to end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from archivist.records import Hit, Passage, Source

# A neighbouring passage of the same article is shown as part of a result when it scores at least
# this share of the result (the team's questions: the answers that came second to their
# neighbour scored 0.94 and 0.99 of it; joins of neighbours at a third of the hit only pushed
# its answer down the card).
JOIN_SHARE = 0.8


class Lookups(Protocol):
    """The reads grouping needs; a searcher serves them from its build, a test from dicts."""

    def passage(self, passage_id: int) -> Passage | None: ...

    def articles_of(self, passage_ids: Sequence[int]) -> dict[int, str]:
        """{passage id: its article id} for those of `passage_ids` still in the index."""
        ...

    def copies_of(self, passage_id: int) -> dict[int, float]: ...

    def relation(self, own_article: str, other_article: str, own_text: str, other_text: str) -> str:
        """How another article carrying a passage relates to the result's article."""
        ...


def group_hits(ranked: Sequence[tuple[int, float, dict[str, int]]], k: int, lookups: Lookups,
               must_hold: Callable[[str], bool] | None = None) -> list[Hit]:
    """The best `k` hits of a ranking (best first): the best of overlapping passages of one
    article kept, copies folded into `also_in`, and a passage that continues a better hit of
    its article shown as part of that hit. With `must_hold`, a passage trimmed to what a better
    hit does not already show is kept only if the rest still holds what it was found by."""
    hits: list[Hit] = []
    folded: set[int] = set()
    article_of = _ArticleIds(lookups, [row[0] for row in ranked])
    for passage_id, score, ranks in ranked:
        full = len(hits) >= k
        # Past k, candidates are read only for neighbours to join, so a result is the same
        # whatever k is; `ranked` is best first, so none can qualify below the weakest hit's share.
        if full and score < JOIN_SHARE * min((h.score for h in hits if not h.joined_passage_ids), default=np.inf):
            break
        if passage_id in folded:
            continue
        if full and article_of(passage_id) not in {h.article.id for h in hits}:
            continue  # only a neighbour of a result can still be joined; skip reading its text
        row = lookups.passage(passage_id)
        if row is None:
            continue
        same_article = [h for h in hits if h.article.id == row.article.id]
        # A link teaser sits inside a paragraph: shown first, it must not hide the text around it.
        span = without_overlaps(row, same_article if row.kind != "text" else
                                [h for h in same_article if h.kind == "text"])
        if span is None:
            continue
        continued = continued_hit(row, span, same_article, score)
        if continued is None and (full or (must_hold and span != (row.start, row.end)
                                           and not must_hold(_text_of(row, span)))):
            continue  # a card of its own must still hold what it was found by, once trimmed
        copies = lookups.copies_of(passage_id)
        folded.update(copies)
        sources = sources_of(copies, row, lookups)
        if continued is not None:
            join(continued, row, span)
            continued.also_in = union_of_sources(continued.also_in, sources)
            continue
        hits.append(Hit(rank=len(hits) + 1, score=score, passage=_text_of(row, span), start=span[0],
                        end=span[1], article=row.article, passage_id=passage_id, also_in=sources, ranks=ranks,
                        kind=row.kind, pages=row.pages))
    return hits


class _ArticleIds:
    """The article of each ranked passage, read a chunk of the ranking at a time (one statement
    for the next CHUNK candidates instead of one per candidate: 40 a query on Reuters)."""

    CHUNK = 64

    def __init__(self, lookups: Lookups, ranked_ids: list[int]) -> None:
        self.lookups = lookups
        self.ranked_ids = ranked_ids
        self.position = {pid: at for at, pid in enumerate(ranked_ids)}
        self.known: dict[int, str] = {}
        self.read_up_to = 0

    def __call__(self, passage_id: int) -> str | None:
        at = self.position.get(passage_id, -1)
        if at >= self.read_up_to:
            chunk = self.ranked_ids[self.read_up_to:max(at + 1, self.read_up_to + self.CHUNK)]
            self.known.update(self.lookups.articles_of(chunk))
            self.read_up_to += len(chunk)
        elif at < 0 and passage_id not in self.known:
            self.known.update(self.lookups.articles_of([passage_id]))
        return self.known.get(passage_id)


def one_per_article(hits: list[Hit], limit: int) -> list[Hit]:
    """The best hit of each article, best first, at most `limit`; each counts how many more of
    its article's hits there were (`more_in_article`). Ranks are renumbered."""
    best: dict[str, Hit] = {}
    for hit in hits:
        first = best.get(hit.article.id)
        if first is None:
            best[hit.article.id] = hit
            hit.more_in_article = 0
        else:
            first.more_in_article += 1 + len(hit.joined_passage_ids)
            first.more_passages.append((hit.start, hit.end, hit.passage))
    kept = list(best.values())[:limit]
    for rank, hit in enumerate(kept, start=1):
        hit.rank = rank
    return kept


def without_overlaps(row: Passage, same_article: list[Hit]) -> tuple[int, int] | None:
    """The part of a passage not already shown by a better hit of the same article.

    Neighbouring passages share one sentence; trimming it keeps the new text visible without
    showing anything twice. A passage mostly covered by a better hit is dropped.
    """
    start, end = row.start, row.end
    for hit in same_article:
        if hit.start < end and start < hit.end:
            if hit.start <= start and hit.end < end:
                start = hit.end
            elif start < hit.start and end <= hit.end:
                end = hit.start
            else:
                return None
    text = _text_of(row, (start, end))
    start += len(text) - len(text.lstrip())
    end -= len(text) - len(text.rstrip())
    if end - start < 0.5 * (row.end - row.start):
        return None
    return start, end


def continued_hit(row: Passage, span: tuple[int, int], same_article: list[Hit], score: float) -> Hit | None:
    """The better hit of the same article that this passage (scoring `score`) runs on from (or
    into), if any, and if the passage scores at least JOIN_SHARE of it.

    Neighbouring passages share a sentence, and both rank high when the answer sits near their
    boundary: shown as two results, the second repeats the first's context and takes a place
    from another article; shown as one, the reader gets the whole stretch of text, with its best
    sentence marked. A weak neighbour is not joined: it would only push the hit's own text down
    the card. A hit takes at most one neighbour, so a result stays two passages at most."""
    if row.kind != "text":
        return None  # an aside is its own card, never part of the text's
    for hit in same_article:
        if hit.joined_passage_ids or hit.kind != "text" or hit.score <= 0 or score < JOIN_SHARE * hit.score:
            continue
        if span[0] >= hit.end and row.start < hit.end:
            return hit
        if span[1] <= hit.start and row.end > hit.start:
            return hit
    return None


def join(hit: Hit, row: Passage, span: tuple[int, int]) -> None:
    """Extend `hit` with the part `span` of the overlapping passage `row` (offsets in the article)."""
    if span[0] >= hit.end:
        hit.passage += row.text[hit.end - row.start:span[1] - row.start]
        hit.end = span[1]
    else:
        hit.passage = row.text[span[0] - row.start:hit.start - row.start] + hit.passage
        hit.start = span[0]
    hit.joined_passage_ids.append(int(row.id))
    if hit.pages and row.pages:
        hit.pages = (min(hit.pages[0], row.pages[0]), max(hit.pages[1], row.pages[1]))


def sources_of(copies: dict[int, float], row: Passage, lookups: Lookups) -> list[Source]:
    """One entry per other article carrying the passage `row` (its best-matching passage),
    earliest date first, each marked with how that article relates to the result's."""
    best: dict[str, tuple[Passage, float]] = {}
    for other_id, similarity in copies.items():
        other = lookups.passage(other_id)
        if other is None or other.article.id == row.article.id:
            continue
        if other.article.id not in best or similarity > best[other.article.id][1]:
            best[other.article.id] = (other, similarity)
    sources = [Source(other.article, other.text, other.start, other.end, similarity,
                      kind=lookups.relation(row.article.id, other.article.id, row.text, other.text))
               for other, similarity in best.values()]
    return earliest_first(sources)


def union_of_sources(first: list[Source], second: list[Source]) -> list[Source]:
    """One entry per article, the closer wording kept, earliest date first."""
    best: dict[str, Source] = {}
    for source in [*first, *second]:
        known = best.get(source.article.id)
        if known is None or source.similarity > known.similarity:
            best[source.article.id] = source
    return earliest_first(list(best.values()))


def earliest_first(sources: list[Source]) -> list[Source]:
    """How `also_in` is ordered: who ran the passage first leads (undated last)."""
    return sorted(sources, key=lambda s: s.article.undated_last_key())


def _text_of(row: Passage, span: tuple[int, int]) -> str:
    return row.text[span[0] - row.start:span[1] - row.start]
