"""A reindex started through the API: one at a time, in a background thread, its progress readable
while it runs. Searches go on against the live build and switch when the new one is published
(over a PostgreSQL index: built in the working folder, then published there as a generation)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

from archivist.build.reindex_postgres import reindex_here_or_into
from archivist.errors import ArchivistError, IndexBusy
from archivist.model.embedding import Embedder


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class ReindexJob:
    """State of the server's reindex: idle, running (stage and counts), done (report) or failed (error)."""

    def __init__(self, archive: Path, index: Path, embedder: Embedder,
                 pause: Callable[[], None] | None = None, index_url: str | None = None) -> None:
        self.archive, self.index, self.embedder = archive, index, embedder
        self.index_url = index_url  # a PostgreSQL index: `index` is the working folder, published there
        self.pause = pause  # called between embedding batches: searches go first
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._status: dict = {"state": "idle"}

    def start(self) -> dict:
        """Start a reindex; raises IndexBusy when one is already running (here or elsewhere)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise IndexBusy(f"A reindex of {self.index} is already running; follow it at GET /reindex.")
            self._status = {"state": "running", "stage": "starting", "done": 0, "total": 0, "started_at": _now()}
            self._thread = threading.Thread(target=self._run, name="archivist-reindex", daemon=True)
            self._thread.start()
            return dict(self._status)

    def status(self) -> dict:
        with self._lock:
            return dict(self._status)

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _progress(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            self._status.update(stage=stage, done=done, total=total)

    def _run(self) -> None:
        try:
            report = reindex_here_or_into(self.archive, self.index, self.index_url, progress=self._progress,
                                          embedder=self.embedder, pause=self.pause)
        except ArchivistError as error:
            outcome = {"state": "failed", "error": str(error)}
        except Exception as error:  # a bug: reported, never a dead job that says "running"
            outcome = {"state": "failed", "error": f"The reindex failed unexpectedly ({type(error).__name__}: {error})."}
        else:
            outcome = {"state": "done", "report": report.to_json()}
        with self._lock:
            self._status = {**self._status, **outcome, "finished_at": _now()}
