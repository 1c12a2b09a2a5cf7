"""Searches run in worker processes, each with its own model and its own view of the live build.

Why processes: under load the server was bound by Python's global interpreter lock, not by the
cores. A search holds the lock for most of its time (grouping, rating, JSON) and the event loop
needs it for every request, so two search threads and the loop took turns on one lock while the
second core sat partly idle. Worker processes each hold their own lock; the server process only
parses requests and passes the query along. Each worker answers with the JSON bytes themselves,
so nothing large is decoded twice.

A worker is started with "spawn", never "fork": the server process has OpenVINO and SQLite
threads running, and a forked copy of a process with threads can hang.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from archivist.api.searchers import LivePostgresSearcher, LiveSearcher, live_searcher
from archivist.errors import ArchivistError

_live: LiveSearcher | LivePostgresSearcher | None = None  # this worker process's searcher


def start(index: Path, workers: int, index_url: str | None = None) -> ProcessPoolExecutor:
    """`workers` processes, each opening `index` (or the PostgreSQL index at `index_url`: a
    worker runs one search at a time, on one thread, so its one searcher is its own) and loading
    the model as it starts."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_initialise, initargs=(str(index), index_url))


def _initialise(index: str, index_url: str | None = None) -> None:
    global _live
    from archivist.model.embedding import Embedder

    embedder = Embedder(threads=1)  # the workers run side by side: one core each (see Embedder)
    embedder.load()
    embedder.encode_query("warm up")  # the first inference builds kernels; no user should wait for it
    _live = live_searcher(Path(index), embedder, index_url)


def warm() -> bool:
    """Called once per worker at start-up, so the first searches find the model loaded."""
    return _live is not None


def search_many(searches: list[tuple[str, dict]]) -> list[tuple[bool, object]]:
    """For each (query, search options): (True, the CLI's `search --json` object, encoded) or
    (False, the error). The questions are embedded in one model pass; each result's took_ms
    counts its share of it. Errors travel back as ArchivistErrors, which pickle by their message."""
    assert _live is not None, "search_many runs only in a worker started by start()"
    try:
        searcher = _live.get()
    except ArchivistError as error:  # no index yet, or one of another version
        return [(False, error)] * len(searches)
    embeddable = [n for n, (query, _) in enumerate(searches) if query and query.strip()]
    started = time.perf_counter()
    vectors = searcher.query_vectors([searches[n][0] for n in embeddable]) if embeddable else None
    share_ms = (time.perf_counter() - started) * 1000 / max(1, len(embeddable))
    vector_of = {n: vectors[row:row + 1] for row, n in enumerate(embeddable)}
    outcomes: list[tuple[bool, object]] = []
    for n, (query, options) in enumerate(searches):
        try:
            response = searcher.search(query, vector=vector_of.get(n), **options)
        except ArchivistError as error:
            outcomes.append((False, error))
        except Exception as error:  # a bug: this search fails with a message, the others go on
            outcomes.append((False, ArchivistError(f"The search failed unexpectedly ({type(error).__name__}: {error}).")))
        else:
            response.took_ms += share_ms if n in vector_of else 0.0
            outcomes.append((True, encode(response.to_json())))
    return outcomes


def encode(content: object) -> bytes:
    """JSON as the CLI prints it (UTF-8, not escaped to ASCII)."""
    return json.dumps(content, ensure_ascii=False).encode("utf-8")
