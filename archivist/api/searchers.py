"""The searcher a server's requests use: the live build, switched to a newer one when a reindex
publishes it, without a restart and without swapping a build under a running query.

Over a PostgreSQL index each request thread has a searcher of its own instead: a psycopg
connection carries one transaction at a time, so a PostgresSearcher (and its connections) must
not be shared between threads. Each follows newly published generations itself before every read,
which is safe because only its own thread ever uses it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from archivist.errors import IndexMissing
from archivist.model.embedding import Embedder
from archivist.query.search import Searcher, current_build_id


class LiveSearcher:
    """One Searcher per published build, shared by every request thread (as the page does)."""

    def __init__(self, index: Path, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None

    def get(self) -> Searcher:
        """The searcher of the live build; raises IndexMissing / IndexIncompatible when there is none."""
        live = current_build_id(self.index)
        searcher = self._searcher
        if searcher is not None and searcher.build_id == live:
            return searcher
        with self._lock:
            if self._searcher is None or self._searcher.build_id != current_build_id(self.index):
                # The old searcher is left to the garbage collector: a request may still be reading it.
                self._searcher = Searcher.open(self.index, embedder=self.embedder, follow_updates=False)
            return self._searcher

    def status(self) -> dict:
        """What /health says of the index: ready or missing, and the live build."""
        build = current_build_id(self.index)
        return {"index": "ready" if build else "missing", "build_id": build}

    def close(self) -> None:
        """Nothing to let go: the SQLite connections close with their searchers."""


class LivePostgresSearcher:
    """A PostgresSearcher per thread that asks (the pool's workers, or a worker process's one
    thread), made on its first request and kept: it follows new generations on its own."""

    def __init__(self, url: str, embedder: Embedder) -> None:
        self.url = url
        self.embedder = embedder
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list = []  # every thread's searcher, closed with the server

    def get(self):
        """This thread's searcher of the live generation; IndexMissing when none is published or
        the server cannot be reached."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            from archivist.query.postgres_search import PostgresSearcher

            searcher = self._local.searcher = PostgresSearcher.open(self.url, self.embedder, follow_updates=True)
            with self._lock:
                self._opened.append(searcher)
        return searcher

    def status(self) -> dict:
        """Ready with the live generation, or missing (none published, or the server unreachable);
        read on a connection of its own, as the thread asking has no searcher."""
        from archivist.query.postgres_search import build_id_of
        from archivist.storage.postgres.connection import connect
        from archivist.storage.postgres.generations import live_generation

        try:
            with connect(self.url) as connection:
                generation = live_generation(connection)
        except IndexMissing:
            return {"index": "missing", "build_id": None}
        return {"index": "ready", "build_id": build_id_of(generation), "generation": generation}

    def close(self) -> None:
        """Close every thread's searcher (the server is stopping: no request is left to read them)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for searcher in opened:
            searcher.close()


def live_searcher(index: Path, embedder: Embedder, index_url: str | None = None) -> LiveSearcher | LivePostgresSearcher:
    """The live searcher of the PostgreSQL index at `index_url`, else of the embedded `index`."""
    return LivePostgresSearcher(index_url, embedder) if index_url else LiveSearcher(index, embedder)
