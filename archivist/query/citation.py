"""How a result is cited: the plain line a reporter pastes into copy or notes, and the same facts
as JSON for a fact-checking sheet.

A citation must let someone else find the words again: headline, outlet, author, date, where it
lives (its URL, else the archive file), and where in the text (the page of a PDF, else the
character offsets of the passage in the article's stored text, which `archivist search --json`
and `GET /articles/{id}` also give). The quoted passage is included, shortened to a sentence or
two, so a citation can be checked against the source at a glance.
"""

from __future__ import annotations

import datetime as dt

from archivist.records import Hit

QUOTE_CHARS = 300  # the quoted words, cut at a word past this


def citation_json(hit: Hit) -> dict:
    """The citation's facts, one key each (None where the article does not say)."""
    article = hit.article
    where: dict = {"start": hit.start, "end": hit.end}
    if hit.pages is not None:
        where = {"page": hit.pages[0], "last_page": hit.pages[1], **where}
    return {"headline": article.title, "outlet": article.outlet, "author": article.author,
            "date": article.date, "url": article.url, "file": article.path, "article_id": article.id,
            "passage_id": hit.passage_id, **where, "quote": short_quote(hit.passage)}


def plain_citation(hit: Hit) -> str:
    """One line: Author, "Headline", Outlet, 3 September 2021, URL (file), page 3: "quote"."""
    facts = citation_json(hit)
    parts = [facts["author"], f"\u201c{facts['headline']}\u201d", facts["outlet"] or "outlet unknown",
             _long_date(facts["date"]) or "undated", facts["url"] or f"archive file {facts['file']}"]
    if facts["url"]:
        parts.append(f"archive file {facts['file']}")
    where = (hit.page_label if hit.pages is not None else
             f"characters {facts['start']:,}\u2013{facts['end']:,}")
    return ", ".join(p for p in parts if p) + f", {where}: \u201c{facts['quote']}\u201d"


def short_quote(passage: str) -> str:
    """The passage on one line, cut at a word after QUOTE_CHARS with an ellipsis."""
    text = " ".join(passage.split())
    if len(text) <= QUOTE_CHARS:
        return text
    cut = text[:QUOTE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " \u2026"


def _long_date(iso: str | None) -> str | None:
    """ "3 September 2021" for "2021-09-03" (how a citation writes a date)."""
    if not iso:
        return None
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}"
