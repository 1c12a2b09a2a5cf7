"""The entity cache in PostgreSQL: names read out of an article on one machine are not read again
on another.

Entity extraction is most of what a second machine's `reindex --index-url` spends once its vectors
come from the shared embedding cache (shared_cache.py): on Reuters-21578, 165 s of 303 s. So the
mentions found in each article's text are kept in the `entity_cache` table (schema migration 7,
shared by every generation, keyed by the entity model and the exact text's hash), and a reindex
asks it for the texts it is about to read before starting the model; what the model finds is
written back. Another model version finds nothing there and reads again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from archivist.ingest.entities import Mention

READ_CHUNK = 5_000  # keys asked for in one statement


class SharedEntityCache:
    """Mentions by text hash, for one entity model, in the database at the end of `connection`."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.drawn = 0  # articles whose mentions came from the database instead of the model
        self.shared = 0  # articles the model read here, written to the database

    def draw(self, model: str, keys: Iterable[str]) -> dict[str, list[Mention]]:
        """The stored mentions of each of `keys` the database holds for `model`."""
        wanted = sorted(set(keys))
        found: dict[str, list[Mention]] = {}
        for start in range(0, len(wanted), READ_CHUNK):
            rows = self.connection.execute(
                "SELECT text_hash, mentions FROM entity_cache WHERE model = %s AND text_hash = ANY(%s)",
                (model, wanted[start:start + READ_CHUNK])).fetchall()
            found.update((key, [Mention(*m) for m in mentions]) for key, mentions in rows)
        self.connection.commit()
        self.drawn += len(found)
        return found

    def put(self, model: str, pairs: Iterable[tuple[str, list[Mention]]]) -> None:
        """Share what the model found (a text already there, read elsewhere, is kept as it is)."""
        rows = [(model, key, json.dumps([[m.name, m.key, m.type, m.start, m.end] for m in mentions]))
                for key, mentions in pairs]
        if not rows:
            return
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.executemany("INSERT INTO entity_cache (model, text_hash, mentions) VALUES (%s, %s, %s) "
                               "ON CONFLICT DO NOTHING", rows)
        self.shared += len(rows)
