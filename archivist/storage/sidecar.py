"""Small JSON files kept beside the index's builds (the watchlist, entity clean-ups): a user's own
choices, which no rebuild may lose. Read without a lock (a reader sees the old or the new file,
never half of one); changed under a lock and written back by an atomic rename, so the page, the
API and a cron job can share them.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archivist.errors import BadInput


def read_json(path: Path, default: dict) -> dict:
    """The file's object, or `default` when there is no file yet."""
    if not path.is_file():
        return default
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise BadInput(f"{path} is damaged ({error}); fix or delete that file.") from None
    if not isinstance(stored, dict):
        raise BadInput(f"{path} is damaged (not a JSON object); fix or delete that file.")
    return stored


@contextmanager
def editing(path: Path, default: dict) -> Iterator[dict]:
    """The file's object, locked against other writers, written back when the block ends (and
    not at all if it raises)."""
    if not path.parent.is_dir():
        raise BadInput(f"No index at {path.parent}; run `python -m archivist reindex` first.")
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stored = read_json(path, default)
        yield stored
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(stored, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(temporary, path)


class FileDocument:
    """One sidecar file as a document a user's list is kept in (the interface the watchlist reads
    and edits through; storage/postgres/documents.PgDocument is the same in a database)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self, default: dict) -> dict:
        return read_json(self.path, default)

    def editing(self, default: dict):
        return editing(self.path, default)

    def stamp(self) -> int:
        """Changes whenever the document does (a cache key): the file's modification time."""
        return self.path.stat().st_mtime_ns if self.path.exists() else 0

    def __str__(self) -> str:
        return str(self.path)
