"""Search over a PostgreSQL index: the Searcher with its retrieval and reads swapped for Postgres.

Only retrieval differs between the backends. The dense list comes from pgvector's HNSW graph
(`storage.postgres.vectors`), the keyword list from bm25 computed in SQL
(`storage.postgres.keywords`), and what grouping and highlighting read from the generation's
tables (`storage.postgres.lookups`). Fusion, exact-words bonuses, grouping, the relevance scale,
the weak-match verdict and the best sentence are the embedded backend's own code (`Searcher.search`
is inherited, not copied), which is why the two backends put the same passages first.

The keyword list runs on a thread beside the dense one (as embedded), so each has its own
connection: one psycopg connection must not carry two transactions at once. Before each search
the live generation is read again, so a publish elsewhere is picked up as the embedded Searcher
picks up a new build.

Filters (outlet, author, dates, language) are the embedded backend's own SQL condition over the
generation's partitions (`storage.postgres.filtering`); the query language's phrases,
exclusions, OR groups and prefixes are tsquery conditions (`storage.postgres.tsqueries`). The
entity filter and the name lists read the generation's mentions with the clean-ups publish
copied and those made on the database on top (query/entity_names.py). "More like this" compares
the passage's stored halfvec with the generation's, as embedded.

The browsing views (an article with its passages and mentions, the stories, the stats) are the
embedded ArchiveBrowser's own statements, given the generation's partitions and psycopg's
placeholder; each runs in one transaction on the live generation, read again first, since the
partitions of a generation replaced by a publish are dropped.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from archivist.model.embedding import Embedder
from archivist.query.browse import EMBEDDED_TABLES, ArchiveBrowser
from archivist.query.entity_names import EntityNames
from archivist.query.retrieval import DenseRetriever, KeywordRetriever, Retrieval
from archivist.query.search import SearchResponse, Searcher
from archivist.records import Filters
from archivist.storage.placeholders import percent_mark
from archivist.storage.postgres import generations, schema
from archivist.storage.postgres.connection import connect, redacted
from archivist.storage.postgres.documents import PgDocument
from archivist.storage.postgres.filtering import allowed_passage_ids
from archivist.storage.postgres.keywords import PgKeywordIndex
from archivist.storage.postgres.lookups import PgLookups
from archivist.storage.postgres.vectors import PgVectorIndex

View = TypeVar("View", bound=Callable)


def build_id_of(generation: int) -> str:
    """How a generation is named where an embedded build gives its build id (`stats`, /health)."""
    return f"postgresql generation {generation}"


def _in_one_transaction(view: View, live: bool = True) -> View:
    """An ArchiveBrowser view run in one transaction, ended with it (a reader holds no snapshot
    between calls); `live`: on the live generation, switched to first if a publish replaced ours."""
    @functools.wraps(view)
    def read(self: "PostgresSearcher", *args):
        if live:
            self.refresh()
        with self.connection.transaction():
            return view(self, *args)
    return read  # type: ignore[return-value]


class PostgresSearcher(Searcher):
    """Reads the live generation of a PostgreSQL index; the same `search` and browsing views as
    the embedded Searcher."""

    mark = staticmethod(percent_mark)
    article = _in_one_transaction(ArchiveBrowser.article)
    article_with_passages = _in_one_transaction(ArchiveBrowser.article_with_passages)
    stories = _in_one_transaction(ArchiveBrowser.stories)
    stats = _in_one_transaction(ArchiveBrowser.stats)
    articles_from_files = _in_one_transaction(ArchiveBrowser.articles_from_files)
    # Read by a search's filter check (after its own switch to the live generation) and by stats.
    outlets = _in_one_transaction(ArchiveBrowser.outlets, live=False)
    languages = _in_one_transaction(ArchiveBrowser.languages, live=False)

    def __init__(self, url: str, embedder: Embedder | None = None, follow_updates: bool = True) -> None:
        self.url = url
        self.index = None  # no folder: the watchlist and the clean-ups are documents in the database
        self.embedder = embedder or Embedder()
        self.follow_updates = follow_updates
        self._retrieval: Retrieval | None = None
        self.connection = connect(url)
        self._keywords_connection = connect(url)
        try:
            schema.check_version(self.connection)
            self._open()
        except Exception:
            self._close_connections()
            raise

    @classmethod
    def open(cls, url: str, embedder: Embedder | None = None, follow_updates: bool = True) -> "PostgresSearcher":
        return cls(url, embedder, follow_updates)

    def _open(self) -> None:
        self.generation = self._live_generation()
        self.build_id = build_id_of(self.generation)
        self.tables = {name: generations.partition(name, self.generation) for name in EMBEDDED_TABLES}
        self.vector_index = PgVectorIndex(self.connection, self.generation)
        self.keyword_index = PgKeywordIndex(self._keywords_connection, self.generation)
        self.lookups = PgLookups(self.connection, self.generation)
        self.cache = self.lookups  # the stored sentence vectors the best-sentence mark reads
        asides = frozenset(row[0] for row in self.connection.execute(
            f"SELECT id FROM {self.tables['passages']} WHERE kind != 'text'"))
        self.manifest = generations.build_facts(self.connection, self.generation)
        self.connection.commit()
        generation = self.generation
        previous, self._retrieval = self._retrieval, Retrieval(
            DenseRetriever(self.vector_index, lambda filters: allowed_passage_ids(self.connection, generation, filters)),
            KeywordRetriever(self.keyword_index, self.vector_index.count), self.embedder.encode_query, asides)
        if previous is not None:
            previous.close()

    def _live_generation(self) -> int:
        generation = generations.live_generation(self.connection)
        self.connection.commit()
        return generation

    def refresh(self) -> bool:
        """Switch to the generation published since the last search, if there is one."""
        if not self.follow_updates:
            return False
        if self._live_generation() != self.generation:
            self._open()
            return True
        return False

    def filters(self, outlets: list[str] | None = None, since: str | None = None, until: str | None = None,
                include_undated: bool = True, author: str | None = None, languages: list[str] | None = None,
                entity: str | None = None) -> Filters:
        return super().filters(outlets, since, until, include_undated, author, languages, entity)

    def location(self) -> str:
        return redacted(self.url)

    def entity_names(self) -> EntityNames:
        """The generation's names with the clean-ups published with it and those made on this
        database on top (entity_names.py); each read ends its transaction, so no reader holds a
        snapshot a publish would wait for."""
        self.refresh()  # a publish drops the old generation's mentions
        with self.connection.transaction():
            published = generations.entity_edits(self.connection, self.generation)
        return _OneTransactionEach(EntityNames(PgDocument(self.url, "entity_edits"), self.connection,
                                               self.tables["mentions"], percent_mark, published=published),
                                   self.connection)

    def more_like_passage(self, passage_id: int, k: int = 10, **filters) -> SearchResponse:
        """As embedded (the stored passage's vector against the generation's), with every read
        ending its transaction."""
        try:
            return super().more_like_passage(passage_id, k, **filters)
        finally:
            self.connection.commit()

    def passage_paths(self) -> dict[int, str]:
        """{passage id: its article's path}, as evaluation maps passages to corpus documents."""
        rows = self.connection.execute(f"SELECT p.id, a.path FROM {self.tables['passages']} p "
                                       f"JOIN {self.tables['articles']} a ON a.id = p.article_id").fetchall()
        self.connection.commit()
        return {int(passage): path for passage, path in rows}

    def close(self) -> None:
        if self._retrieval is not None:
            self._retrieval.close()
        self._close_connections()

    def _close_connections(self) -> None:
        self.connection.close()
        self._keywords_connection.close()


class _OneTransactionEach:
    """An object whose every method runs in a transaction of its own on `connection`."""

    def __init__(self, wrapped, connection) -> None:
        self._wrapped, self._connection = wrapped, connection

    def __getattr__(self, name: str):
        attribute = getattr(self._wrapped, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def in_transaction(*args, **kwargs):
            with self._connection.transaction():
                return attribute(*args, **kwargs)
        return in_transaction
