"""One reindex per index at a time: an flock that the kernel releases when its holder dies."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from archivist.errors import ArchivistError, IndexBusy

LOCK_FILE = ".lock"


class IndexLock:
    """Context manager; raises IndexBusy at once (never waits) if another process holds the lock."""

    def __init__(self, index: Path) -> None:
        self.path = index / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> "IndexLock":
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise ArchivistError(f"Cannot write to the index folder {self.path.parent} ({error.strerror}); "
                                 "choose a writable folder with --index DIR.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise IndexBusy(f"Another reindex is already running on {self.path.parent}; "
                            "wait for it to finish, then run reindex again.") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
