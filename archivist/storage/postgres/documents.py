"""A user's own lists kept in the PostgreSQL index (the watchlist), beside the generations and
outside them: a publish never drops them, and every page, API process and cron job on any
machine reading the database shares one list.

Each list is one JSON document in the `documents` table (schema migration 6), the same object
the embedded index keeps in a sidecar file (storage/sidecar.py). Editing locks its row
(SELECT ... FOR UPDATE) for one transaction, so two writers on two machines take turns as two
processes take turns on the file's lock, and a writer that fails part-way changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from archivist.storage.postgres import schema
from archivist.storage.postgres.connection import connect, redacted


class PgDocument:
    """The document `name` in the database at `url` (FileDocument's interface)."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name

    def read(self, default: dict) -> dict:
        """The stored object, or `default` before anything was stored (or the table exists)."""
        with connect(self.url) as connection:
            if schema.schema_version(connection) < DOCUMENTS_SCHEMA:
                return default
            row = connection.execute("SELECT body FROM documents WHERE name = %s", (self.name,)).fetchone()
        return dict(row[0]) if row else default

    @contextmanager
    def editing(self, default: dict) -> Iterator[dict]:
        """The stored object, its row locked against other writers until the block ends, then
        written back in the same transaction (not at all if the block raises)."""
        with connect(self.url) as connection:
            schema.migrate(connection)
            with connection.transaction():
                connection.execute("INSERT INTO documents(name, body) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                                   (self.name, json.dumps(default)))
                stored = dict(connection.execute("SELECT body FROM documents WHERE name = %s FOR UPDATE",
                                                 (self.name,)).fetchone()[0])
                yield stored
                connection.execute("UPDATE documents SET body = %s, version = version + 1 WHERE name = %s",
                                   (json.dumps(stored, ensure_ascii=False), self.name))

    def stamp(self) -> int:
        """Changes whenever the document does (a cache key): its edit count."""
        with connect(self.url) as connection:
            if schema.schema_version(connection) < DOCUMENTS_SCHEMA:
                return 0
            row = connection.execute("SELECT version FROM documents WHERE name = %s", (self.name,)).fetchone()
        return int(row[0]) if row else 0

    def __str__(self) -> str:
        return f"the {self.name} in {redacted(self.url)}"


DOCUMENTS_SCHEMA = 6  # the migration that made the documents table
