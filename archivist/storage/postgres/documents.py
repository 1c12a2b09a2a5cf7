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

from archivist.errors import BadInput, IndexIncompatible
from archivist.storage.postgres import schema
from archivist.storage.postgres.connection import connect, redacted


class PgDocument:
    """The document `name` in the database at `url` (FileDocument's interface)."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name

    def read(self, default: dict) -> dict:
        """The stored object, or `default` before anything was stored (or the table exists)."""
        row = self._row("SELECT body FROM documents WHERE name = %s")
        return dict(row[0]) if row else default

    def _row(self, statement: str) -> tuple | None:
        """One row of the document's (None before it or its table exists), read on a connection
        of its own; a database error is one line."""
        import psycopg

        try:
            with connect(self.url) as connection:
                if schema.schema_version(connection) < DOCUMENTS_SCHEMA:
                    return None
                return connection.execute(statement, (self.name,)).fetchone()
        except psycopg.Error as error:
            raise BadInput(self._failed(error)) from None

    def _failed(self, error: Exception) -> str:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return f"The {self.name} in {redacted(self.url)} could not be read or written ({first}); check the role's rights."

    @contextmanager
    def editing(self, default: dict) -> Iterator[dict]:
        """The stored object, its row locked against other writers until the block ends, then
        written back in the same transaction (not at all if the block raises); a database error
        is one line."""
        import psycopg

        with connect(self.url) as connection:
            # A writer of lists does not migrate the shared schema (publish and reindex do), so an
            # older Archivist reading the database is never moved past what it knows.
            if schema.check_version(connection) < DOCUMENTS_SCHEMA:
                raise IndexIncompatible(f"The database at {redacted(self.url)} predates the {self.name} kept in it "
                                        "(schema migration 6); run `archivist publish --index-url` once to upgrade it.")
            connection.commit()
            try:
                with connection.transaction():
                    connection.execute("INSERT INTO documents(name, body) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                                       (self.name, json.dumps(default)))
                    stored = dict(connection.execute("SELECT body FROM documents WHERE name = %s FOR UPDATE",
                                                     (self.name,)).fetchone()[0])
                    yield stored
                    connection.execute("UPDATE documents SET body = %s, version = version + 1 WHERE name = %s",
                                       (json.dumps(stored, ensure_ascii=False), self.name))
            except psycopg.Error as error:
                raise BadInput(self._failed(error)) from None

    def stamp(self) -> int:
        """Changes whenever the document does (a cache key): its edit count."""
        row = self._row("SELECT version FROM documents WHERE name = %s")
        return int(row[0]) if row else 0

    def __str__(self) -> str:
        return f"in {redacted(self.url)} (the {self.name!r} row of its documents table)"


DOCUMENTS_SCHEMA = 6  # the migration that made the documents table
