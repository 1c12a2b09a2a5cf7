"""`reindex --index-url URL`: bring a PostgreSQL index in line with the archive.

The reindex itself is the embedded one, run on this machine into a working index folder (--index,
default index/): reading, splitting, entities, copies and stories are the same code, it is
incremental (an unchanged article costs nothing), and an interruption leaves that folder's live
build whole. Its embedding cache is shared through the database (storage/postgres/shared_cache.py),
so no machine embeds a text that any machine reindexing into this database embedded before, and
so are the names found in each article (storage/postgres/shared_entities.py).
The new build is then published as a new generation (build/publish_postgres.py): readers of the
database switch to it in one transaction, and a reindex killed at any point leaves them on the
generation they were reading; the next reindex finishes the work.
"""

from __future__ import annotations

from collections.abc import Callable

from dataclasses import dataclass
from pathlib import Path

from archivist.build.indexer import ReindexReport, reindex
from archivist.build.publish_postgres import PublishReport, publish_embedded
from archivist.model.embedding import Embedder
from archivist.progress import Progress
from archivist.storage.cache import EmbeddingCache
from archivist.storage.postgres import schema
from archivist.storage.postgres.connection import connect, redacted, register_vector_types
from archivist.storage.postgres.shared_cache import SharedEmbeddingCache
from archivist.storage.postgres.shared_entities import SharedEntityCache


@dataclass
class PostgresReindex:
    reindex: ReindexReport
    published: PublishReport | None  # None: the database's live generation already is this build
    drawn: int  # vectors taken from the database's cache instead of the model
    shared: int  # vectors the model made here, written to the database's cache
    url: str
    entities_drawn: int = 0  # articles whose names came from the database's entity cache
    entities_shared: int = 0  # articles the entity model read here, written to it

    @property
    def skipped(self) -> list:
        return self.reindex.skipped

    def to_json(self) -> dict:
        return {**self.reindex.to_json(), "index_url": redacted(self.url),
                "published": self.published.to_json() if self.published else None,
                "shared_cache": {"drawn": self.drawn, "written": self.shared},
                "shared_entities": {"drawn": self.entities_drawn, "written": self.entities_shared}}

    def summary(self) -> str:
        lines = [self.reindex.summary()]
        if self.drawn or self.shared:
            lines.append(f"Shared embedding cache: {self.drawn:,} vectors drawn from the database, "
                         f"{self.shared:,} made here and written to it.")
        if self.entities_drawn or self.entities_shared:
            lines.append(f"Shared entity cache: the names of {self.entities_drawn:,} articles drawn from the database, "
                         f"{self.entities_shared:,} read here and written to it.")
        if self.published:
            replaced = f" (replacing {self.published.replaced})" if self.published.replaced else ""
            resumed = (f", resuming after the {self.published.resumed_articles:,} articles an interrupted publish "
                       "had written" if self.published.resumed_articles else "")
            lines.append(f"Published to {redacted(self.url)} as generation {self.published.generation}{replaced} "
                         f"in {self.published.seconds:.1f} s{resumed}.")
        else:
            lines.append(f"{redacted(self.url)} already serves this build; nothing to publish.")
        return "\n".join(lines)


def reindex_here_or_into(archive: Path, index: Path, url: str | None, progress: Progress | None = None,
                         embedder: Embedder | None = None, pause: Callable[[], None] | None = None
                         ) -> ReindexReport | PostgresReindex:
    """The embedded reindex of `archive` into `index`, or with `url` the same into the working
    folder `index`, published into that PostgreSQL index (what the API's and the page's Reindex run)."""
    if url:
        return reindex_into_postgres(archive, index, url, progress=progress, embedder=embedder, pause=pause)
    return reindex(archive, index, progress=progress, embedder=embedder, pause=pause)


def reindex_into_postgres(archive: Path, index: Path, url: str, progress: Progress | None = None,
                          embedder: Embedder | None = None, pause: Callable[[], None] | None = None) -> PostgresReindex:
    """Reindex `archive` into the working folder `index`, sharing vectors through the database
    at `url`, then publish the build there unless it is live already."""
    connection = connect(url)
    caches: list[SharedEmbeddingCache] = []

    def shared(local: EmbeddingCache) -> SharedEmbeddingCache:
        caches.append(SharedEmbeddingCache(local, connection))
        return caches[-1]

    try:
        schema.migrate(connection)
        register_vector_types(connection)  # the extension may be new
        names = SharedEntityCache(connection)
        report = reindex(archive, index, progress=progress, embedder=embedder, shared_cache=shared, pause=pause,
                         shared_entities=names)
        live = connection.execute("SELECT build_id FROM generations WHERE state = 'live'").fetchone()
        connection.commit()
    finally:
        connection.close()
    published = None if live and live[0] == report.build_id else publish_embedded(index, url, progress=progress)
    return PostgresReindex(report, published, sum(c.drawn for c in caches), sum(c.shared for c in caches), url,
                           names.drawn, names.shared)
