"""Export every match of a search as rows (CSV or JSON Lines), one per matching passage with its
article's metadata: what a reporter takes into a spreadsheet, and what Aleph and Datashare cap.

What "every match" means depends on the mode:
- Keyword: every passage holding every word of the query (its phrases, alternatives, prefixes
  and exclusions applied), however many, best bm25 first; copies are rows of their own.
- Hybrid and Semantic: every passage is somewhat close in meaning to any question, so "every"
  is the ranked results as search gives them (copies folded into their first carrier), as deep
  as search ranks: at most MAX_RESULTS (5,000) rows, fewer with `limit`.
Rows are produced as they are read, so writing them streams.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence

from archivist.errors import BadInput
from archivist.query.search import MAX_K, MAX_RESULTS, Searcher
from archivist.query.syntax import parse_query
from archivist.records import Hit, Passage

FORMATS = ("csv", "jsonl")
COLUMNS = ("rank", "score", "relevance", "passage_id", "kind", "article_id", "title", "outlet", "author",
           "date", "place", "language", "url", "path", "page", "last_page", "start", "end", "passage")
_READ_BATCH = 500  # passages read from the database at a time while streaming


def export_rows(searcher: Searcher, query: str, mode: str = "hybrid", limit: int | None = None,
                **filters) -> Iterator[dict]:
    """Each matching passage of `query` as a row of COLUMNS, best first (see the module's note)."""
    if limit is not None and limit < 1:
        raise BadInput(f"--limit {limit} is out of range; give a positive number of rows.")
    if mode == "keyword":
        yield from _keyword_rows(searcher, query, limit, filters)
        return
    wanted = min(limit or MAX_RESULTS, MAX_RESULTS)
    for offset in range(0, wanted, MAX_K):
        page = searcher.search(query, k=min(MAX_K, wanted - offset), mode=mode, offset=offset, **filters)
        for hit in page.hits:
            yield hit_row(hit)
        if len(page.hits) < min(MAX_K, wanted - offset):
            return


def keyword_matches(searcher: Searcher, query: str, **filters) -> Iterator[list[tuple[int, float]]]:
    """Every (passage id, bm25) holding every word of `query` within the filters, best first, in
    batches of _READ_BATCH (Keyword mode's "every match")."""
    searcher.refresh()
    checked = searcher.filters(**filters)
    parsed = parse_query(" ".join((query or "").split()))
    if not parsed.units and not parsed.phrases:
        raise BadInput("The query has no words to match; type the words to export every passage holding them.")
    matches = searcher.keyword_index.every_match(parsed, checked)
    try:
        while batch := list(itertools.islice(matches, _READ_BATCH)):
            yield batch
    finally:  # a caller that stops early (a --limit) lets the server's cursor go now, not at garbage collection
        close = getattr(matches, "close", None)
        if close is not None:
            close()


def matching_article_ids(searcher: Searcher, query: str, **filters) -> list[str]:
    """The articles holding every word of `query` (no cap), by their best passage: what watches and
    lists of names count, read without the passages' text."""
    found: dict[str, None] = {}
    for batch in keyword_matches(searcher, query, **filters):
        article_of = searcher.lookups.article_ids([pid for pid, _ in batch])
        found.update((article_of[pid], None) for pid, _ in batch if pid in article_of)
    return list(found)


def _keyword_rows(searcher: Searcher, query: str, limit: int | None, filters: dict) -> Iterator[dict]:
    rank = 0
    for batch in keyword_matches(searcher, query, **filters):
        passages = searcher.lookups.passages([pid for pid, _ in batch])
        for passage_id, score in batch:
            if passage_id in passages:
                rank += 1
                yield passage_row(passages[passage_id], rank, score)
                if limit is not None and rank >= limit:
                    return


def hit_row(hit: Hit) -> dict:
    """A search result as an export row (its relevance on the calibrated scale)."""
    passage = Passage(hit.passage_id, hit.article, hit.start, hit.end, hit.passage, hit.kind, hit.pages)
    return passage_row(passage, hit.rank, hit.score, hit.relevance)


def passage_row(passage: Passage, rank: int, score: float, relevance: float | None = None) -> dict:
    article = passage.article
    return {"rank": rank, "score": round(score, 6), "relevance": None if relevance is None else round(relevance, 3),
            "passage_id": passage.id, "kind": passage.kind, "article_id": article.id, "title": article.title,
            "outlet": article.outlet, "author": article.author, "date": article.date, "place": article.place,
            "language": article.language, "url": article.url, "path": article.path,
            "page": passage.pages[0] if passage.pages else None,
            "last_page": passage.pages[1] if passage.pages else None,
            "start": passage.start, "end": passage.end, "passage": passage.text}


def check_format(name: str) -> str:
    if name not in FORMATS:
        raise BadInput(f"Unknown export format {name!r}; use csv or jsonl.")
    return name


def encoded(rows: Iterable[dict], fmt: str, columns: Sequence[str] = COLUMNS) -> Iterator[str]:
    """The rows as text in `fmt`, a line (or a CSV record) at a time, a header of `columns` first for CSV."""
    if check_format(fmt) == "jsonl":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
