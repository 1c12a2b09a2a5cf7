"""Errors the core raises; each message is one sentence that tells the user what to do.

The CLI and the page catch `ArchivistError` and show `str(error)`; anything else is a bug.
"""


class ArchivistError(Exception):
    """Base class: a failure the user can act on. `exit_code`: 1 failed, 2 bad usage or input (docs/ARCHITECTURE.md)."""

    exit_code = 1


class BadInput(ArchivistError):
    """The user asked for something malformed (bad date, empty query, unknown mode)."""

    exit_code = 2


class IndexMissing(ArchivistError):
    """No index has been built in the index directory yet."""


class IndexIncompatible(ArchivistError):
    """The index was built with another model or format version, or is damaged."""


class NotFound(ArchivistError):
    """The record asked for (an article by id) is not in the index."""


class IndexBusy(ArchivistError):
    """Another reindex holds the lock on this index."""


def first_line(error: BaseException, limit: int | None = None) -> str:
    """The first line of an error's message (libraries' messages run to many lines), cut to `limit`."""
    return (str(error).strip().splitlines() or [""])[0][:limit]


class NameTaken(BadInput):
    """A different file already has that name in the archive: replacing it must be asked for."""
