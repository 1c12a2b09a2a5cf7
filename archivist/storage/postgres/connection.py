"""Opening a PostgreSQL index: which URLs name one, and a one-line error when it cannot be reached."""

from __future__ import annotations

from archivist.errors import BadInput, IndexMissing

SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and url.strip().lower().startswith(SCHEMES)


def connect(url: str, autocommit: bool = False):
    """A psycopg connection with pgvector's types registered (once the extension exists)."""
    if not is_postgres_url(url):
        raise BadInput(f"{url!r} is not a PostgreSQL URL; give one like postgresql://user@host/db "
                       "(or ?host=/path/to/socket for a Unix socket).")
    try:
        import psycopg
    except ImportError:  # pragma: no cover - requirements.txt installs it
        raise BadInput("The PostgreSQL backend needs psycopg; run `make install`.") from None
    try:
        connection = psycopg.connect(url, autocommit=autocommit)
    except psycopg.OperationalError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise IndexMissing(f"Cannot reach PostgreSQL at {redacted(url)} ({first}); check the URL and "
                           "that the server runs.") from None
    register_vector_types(connection)
    return connection


def register_vector_types(connection) -> None:
    """Let psycopg send and read halfvec values as numpy arrays (binary, no text formatting)."""
    from pgvector.psycopg import register_vector

    has_vector = connection.execute("SELECT 1 FROM pg_type WHERE typname = 'halfvec'").fetchone()
    if not connection.autocommit:
        connection.commit()
    if has_vector:
        register_vector(connection)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"
