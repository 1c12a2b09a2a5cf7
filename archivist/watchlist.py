"""Watchlists: searches (or names) a reporter keeps, each knowing which matching articles are new
since it was last looked at. This is an alert on a machine with no mail server: `watch check`
from cron prints what is new, and a mailer or a chat hook sends it on.

The list lives in `watchlist.json` beside the index's builds (not inside one), so a rebuild
never loses it; over a PostgreSQL index it is a row of that database (storage/postgres/documents.py),
outside the generations, so every machine reading the database shares it and no publish drops it.
Each watch keeps the ids of the articles it has shown; "new" is what matches now and was never
shown. Adding a watch counts what already matches as seen: it alerts on what arrives after, not
on the archive as it was. Writes go through a lock (the file's, or the row's) and are written
back whole, so the page, the API and a cron job can share one list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from archivist.errors import BadInput, NotFound
from archivist.query.export import matching_article_ids
from archivist.query.relevance import STRONG
from archivist.query.search import FILTER_NAMES, Searcher
from archivist.records import ArticleRef
from archivist.storage import sidecar

WATCHLIST_FILE = "watchlist.json"
# Articles a watch reads in Hybrid/Semantic mode: its strong matches among this many best.
WATCH_DEPTH = 200


@dataclass
class Watch:
    id: int
    query: str
    mode: str = "keyword"
    filters: dict = field(default_factory=dict)
    added: str = ""
    seen: list[str] = field(default_factory=list)  # article ids already shown
    checked: str | None = None  # when it was last looked at

    def label(self) -> str:
        return self.query + ("" if self.mode == "keyword" else f" ({self.mode})")


@dataclass
class WatchStatus:
    """A watch with what matches it now and which of those are new."""

    watch: Watch
    matching: list[ArticleRef]
    new: list[ArticleRef]

    def to_json(self) -> dict:
        return {**asdict(self.watch), "seen": len(self.watch.seen), "matching": len(self.matching),
                "new": [a.to_json() for a in self.new]}


class Document(Protocol):
    """Where a watchlist is kept: storage.sidecar.FileDocument or storage.postgres.documents.PgDocument."""

    def read(self, default: dict) -> dict: ...

    def editing(self, default: dict) -> AbstractContextManager[dict]: ...

    def stamp(self) -> int: ...


def watchlist_at(index: Path, url: str | None = None) -> "Watchlist":
    """The watchlist of the PostgreSQL index at `url` when one is given, else the one beside the
    embedded index folder `index`."""
    if url:
        from archivist.storage.postgres.documents import PgDocument

        return Watchlist(PgDocument(url, "watchlist"))
    return Watchlist(sidecar.FileDocument(index / WATCHLIST_FILE))


def watchlist_of(searcher: Searcher) -> "Watchlist":
    """The watchlist kept with the index `searcher` reads."""
    return watchlist_at(searcher.index, getattr(searcher, "url", None))


class Watchlist:
    """The watches kept in one document (a file beside an index folder, or a database row)."""

    def __init__(self, document: Document) -> None:
        self.document = document

    def stamp(self) -> int:
        """Changes whenever the list does (what the page caches the watches' searches by)."""
        return self.document.stamp()

    def watches(self) -> list[Watch]:
        return _parse(self.document, self.document.read({}))

    def add(self, searcher: Searcher, query: str, mode: str = "keyword", **filters) -> Watch:
        """Watch `query`: what matches it now counts as seen. The same search twice is refused."""
        query = " ".join((query or "").split())
        if not query:
            raise BadInput("The watch has no query; give the words or name to watch for.")
        filters = narrowing(filters)
        matching = matching_articles(searcher, query, mode, filters)  # checks query and filters
        with self._editing() as watches:
            for watch in watches:
                if (watch.query.casefold(), watch.mode, watch.filters) == (query.casefold(), mode, filters):
                    raise BadInput(f"Already watching {query!r} (watch {watch.id}); remove it first to change it.")
            now = _now()
            watch = Watch(max((w.id for w in watches), default=0) + 1, query, mode, filters, now,
                          [a.id for a in matching], now)
            watches.append(watch)
        return watch

    def remove(self, watch_id: int) -> Watch:
        with self._editing() as watches:
            found = _find(watches, watch_id)
            watches.remove(found)
        return found

    def status(self, searcher: Searcher, watch_ids: list[int] | None = None) -> list[WatchStatus]:
        """Each watch (or those named) with its matching and new articles, newest first."""
        chosen = self.watches()
        if watch_ids:
            chosen = [_find(chosen, number) for number in watch_ids]
        out = []
        for watch in chosen:
            matching = matching_articles(searcher, watch.query, watch.mode, watch.filters)
            seen = set(watch.seen)
            new = sorted((a for a in matching if a.id not in seen), key=lambda a: a.date or "", reverse=True)
            out.append(WatchStatus(watch, matching, new))
        return out

    def mark_seen(self, shown: dict[int, list[str]]) -> None:
        """Record that the articles `shown` (by watch id) have been looked at."""
        with self._editing() as watches:
            now = _now()
            for watch in watches:
                if watch.id in shown:
                    watch.seen = list(dict.fromkeys([*watch.seen, *shown[watch.id]]))
                    watch.checked = now

    def check(self, searcher: Searcher, peek: bool = False, watch_ids: list[int] | None = None) -> list[WatchStatus]:
        """What is new for each watch; marked seen unless `peek`."""
        statuses = self.status(searcher, watch_ids)
        if not peek:
            self.mark_seen({s.watch.id: [a.id for a in s.new] for s in statuses})
        return statuses

    @contextmanager
    def _editing(self) -> Iterator[list[Watch]]:
        """The watches, locked against other writers, written back atomically when the block ends."""
        with self.document.editing({"version": 1, "watches": []}) as stored:
            watches = _parse(self.document, stored)
            yield watches
            stored["watches"] = [asdict(w) for w in watches]


def narrowing(filters: dict) -> dict:
    """The filters that narrow a search (what a watch stores): "include undated" is the default,
    so it is kept only when False."""
    return {name: value for name, value in filters.items()
            if name in FILTER_NAMES and (value if name != "include_undated" else value is False)}


def matching_articles(searcher: Searcher, query: str, mode: str, filters: dict) -> list[ArticleRef]:
    """The articles a watch's search matches: in Keyword mode every article holding the words
    (no cap: export's rows), else the strong matches among the WATCH_DEPTH best articles."""
    if mode == "keyword":
        ids = matching_article_ids(searcher, query, **filters)
        refs = searcher.lookups.article_refs(ids)
        return [refs[i] for i in ids if i in refs]
    response = searcher.search(query, k=WATCH_DEPTH, mode=mode, per_article=True, **filters)
    return [h.article for h in response.hits if (h.relevance or 0.0) >= STRONG]


def _parse(document: Document, stored: dict) -> list[Watch]:
    try:
        return [Watch(**row) for row in stored.get("watches", [])]
    except (TypeError, AttributeError) as error:
        raise BadInput(f"The watchlist {document} is damaged ({error}); fix or delete it.") from None


def _find(watches: list[Watch], watch_id: int) -> Watch:
    for watch in watches:
        if watch.id == watch_id:
            return watch
    known = ", ".join(str(w.id) for w in watches) or "none"
    raise NotFound(f"No watch {watch_id}; the watches are: {known} (see `archivist watch list`).")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
