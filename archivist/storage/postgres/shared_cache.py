"""The embedding cache in PostgreSQL: vectors made on one machine are not made again on another.

A reindex into a PostgreSQL index (`reindex --index-url`) builds on the machine that runs it,
with that build's own cache (storage/cache.py), and asks the database's `embeddings` table
(schema migration 1, shared by every generation, keyed by model and the exact text's hash)
for what the local cache lacks before sending anything to the model; every vector the model
makes is written back there. A second machine, a fresh clone, or a Ray cluster's driver
reindexing the same archive then embeds nothing that any of them embedded before.

Vectors come back as stored: halfvec (fp16), as every PostgreSQL generation holds them.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from archivist.storage.cache import EmbeddingCache

READ_CHUNK = 5_000  # keys asked for in one statement


class SharedEmbeddingCache:
    """A build's EmbeddingCache that draws missing vectors from, and writes new ones to, Postgres.

    Everything but `missing` and `put` is the local cache's own (the indexer reads passage
    vectors, sentence vectors and pruning from the build's database as always)."""

    def __init__(self, local: EmbeddingCache, connection) -> None:
        self.local = local
        self.connection = connection
        self.drawn = 0  # vectors taken from the database instead of the model
        self.shared = 0  # vectors the model made here, written to the database

    def __getattr__(self, name: str):
        return getattr(self.local, name)

    def missing(self, keys: Iterable[str]) -> set[str]:
        """Keys neither the build nor the database holds a vector for (what the model must embed);
        what only the database holds is copied into the build first."""
        lacking = self.local.missing(keys)
        return lacking - set(self._draw(lacking))

    def get(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The vectors among `keys` the build or the database holds (stories' lead sentences)."""
        wanted = list(keys)
        found = self.local.get(wanted)
        found.update(self._draw({key for key in wanted if key not in found}))
        return found

    def _draw(self, keys: set[str]) -> dict[str, np.ndarray]:
        """The database's vectors among `keys`, copied into the build."""
        if not keys:
            return {}
        found: dict[str, np.ndarray] = {}
        wanted = sorted(keys)
        for start in range(0, len(wanted), READ_CHUNK):
            rows = self.connection.execute(
                "SELECT text_hash, vector FROM embeddings WHERE model = %s AND text_hash = ANY(%s)",
                (self.local.model, wanted[start:start + READ_CHUNK])).fetchall()
            found.update((key, np.asarray(vector.to_numpy(), dtype=np.float32)) for key, vector in rows)
        self.connection.commit()
        if found:
            self.local.put(found.items())
            self.drawn += len(found)
        return found

    def put(self, pairs: Iterable[tuple[str, np.ndarray]]) -> None:
        """Store the vectors in the build and share them through the database (a vector already
        there, made elsewhere from the same text, is kept)."""
        from pgvector import HalfVector

        rows = list(pairs)
        self.local.put(rows)
        with self.connection.transaction():
            self.connection.execute("CREATE TEMPORARY TABLE IF NOT EXISTS incoming_embeddings "
                                    "(text_hash text, vector halfvec) ON COMMIT DELETE ROWS")
            with self.connection.cursor() as cursor, cursor.copy(
                    "COPY incoming_embeddings (text_hash, vector) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["text", "halfvec"])
                for key, vector in rows:
                    copy.write_row((key, HalfVector(np.asarray(vector, dtype=np.float32))))
            self.connection.execute(
                "INSERT INTO embeddings (model, text_hash, vector) SELECT DISTINCT ON (text_hash) %s, text_hash, vector "
                "FROM incoming_embeddings ON CONFLICT DO NOTHING", (self.local.model,))
        self.shared += len(rows)
