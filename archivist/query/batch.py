"""A list of names (or queries) searched at once: for each line, how many articles match, the best
hit and the dates they span. Datashare's batch search and Aleph's cross-referencing answer the same
need: a reporter with a list of company directors or officials wants to know which appear, how
often and when, before reading any of it.

Keyword mode (the default for a list of names) counts every article holding the words, with no
cap; Hybrid and Semantic count the strong matches among the WATCH_DEPTH best articles (the same
rule a watch uses), and say the count is approximate.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from archivist.errors import BadInput
from archivist.query.export import matching_article_ids
from archivist.query.relevance import STRONG
from archivist.query.search import Searcher
from archivist.watchlist import WATCH_DEPTH

COLUMNS = ("query", "matching_articles", "exact", "best_title", "best_date", "best_path", "first_date",
           "last_date", "error")
MAX_LINES = 5000  # lines one batch takes


def read_lines(text: str, column: str | None = None) -> list[str]:
    """The queries of a pasted list or an uploaded file: one a line, or one CSV column's values
    (`column` names it; the header row is not a query). Blank lines and repeats are dropped."""
    if column:
        reader = csv.DictReader(io.StringIO(text))
        if column not in (reader.fieldnames or []):
            raise BadInput(f"The CSV has no column {column!r}; its columns are: "
                           f"{', '.join(reader.fieldnames or []) or 'none'}.")
        values = [row.get(column) or "" for row in reader]
    else:
        values = text.splitlines()
    lines = list(dict.fromkeys(" ".join(v.split()) for v in values if v.strip()))
    if len(lines) > MAX_LINES:
        raise BadInput(f"The list has {len(lines):,} lines; search at most {MAX_LINES:,} at once (split it).")
    return lines


def summarise(searcher: Searcher, queries: Iterable[str], mode: str = "keyword", **filters) -> Iterator[dict]:
    """One row of COLUMNS per query; a query that cannot run gets its error in the row."""
    for query in queries:
        try:
            yield _summary(searcher, query, mode, filters)
        except BadInput as error:
            yield {**dict.fromkeys(COLUMNS), "query": query, "matching_articles": 0, "error": str(error)}


def _summary(searcher: Searcher, query: str, mode: str, filters: dict) -> dict:
    if mode == "keyword":
        ids = matching_article_ids(searcher, query, **filters)  # by their best passage
        refs = searcher.lookups.article_refs(ids)
        found = [(refs[i].title, refs[i].date, refs[i].path) for i in ids if i in refs]
        exact = True
    else:
        hits = searcher.search(query, k=WATCH_DEPTH, mode=mode, per_article=True, **filters).hits
        found = [(h.article.title, h.article.date, h.article.path) for h in hits if (h.relevance or 0) >= STRONG]
        exact = False
    dates = sorted(date for _, date, _ in found if date)
    best = found[0] if found else (None, None, None)
    return {"query": query, "matching_articles": len(found), "exact": exact, "best_title": best[0],
            "best_date": best[1], "best_path": best[2], "first_date": dates[0] if dates else None,
            "last_date": dates[-1] if dates else None, "error": None}
