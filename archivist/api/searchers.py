"""The searcher a server's requests use: the live build, switched to a newer one when a reindex
publishes it, without a restart and without swapping a build under a running query."""

from __future__ import annotations

import threading
from pathlib import Path

from archivist.model.embedding import Embedder
from archivist.query.search import Searcher, current_build_id


class LiveSearcher:
    """One Searcher per published build, shared by every request thread (as the page does)."""

    def __init__(self, index: Path, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None

    def get(self) -> Searcher:
        """The searcher of the live build; raises IndexMissing / IndexIncompatible when there is none."""
        live = current_build_id(self.index)
        searcher = self._searcher
        if searcher is not None and searcher.build_id == live:
            return searcher
        with self._lock:
            if self._searcher is None or self._searcher.build_id != current_build_id(self.index):
                # The old searcher is left to the garbage collector: a request may still be reading it.
                self._searcher = Searcher.open(self.index, embedder=self.embedder, follow_updates=False)
            return self._searcher
