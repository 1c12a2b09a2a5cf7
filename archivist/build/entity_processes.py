"""Entity extraction spread over worker processes, one per core, for reindexes of many articles.

spaCy's recogniser runs on one core (its parser loop is single-threaded Python/Cython), so on a
machine with two or more cores a reindex from nothing spends most of its entity stage with the
other cores idle. By the time this stage runs the embedding is done and every core is free, so
the articles go, in batches and in order, to a pool of spawned processes that each load the model
once and multiply matrices on one BLAS thread (more would oversubscribe the cores). The parent
keeps writing mentions to SQLite as batches come back, so progress and memory stay bounded.

A small reindex (a handful of uploads) stays in-process: starting a process and loading the
model costs a couple of seconds, more than the work itself.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

log = logging.getLogger("archivist")
# Below this many articles a pool costs more to start than it saves (about 2 s per process).
MIN_ARTICLES_FOR_PROCESSES = 400
# Batches sent ahead per process: enough to keep each busy, few enough to bound memory.
BATCHES_AHEAD_PER_PROCESS = 2
MAX_PROCESSES = 8  # each holds its own copy of the model (about 200 MB)


def process_count(article_count: int) -> int:
    """How many processes to use for `article_count` articles; 1 means in this process.

    $ARCHIVIST_ENTITY_PROCESSES overrides the choice (1 keeps it in-process); otherwise one per
    core this process may run on, up to MAX_PROCESSES, and only for large reindexes.
    """
    from archivist import config

    requested = config.entity_processes()
    if requested is not None:
        return max(1, requested)
    if article_count < MIN_ARTICLES_FOR_PROCESSES:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), MAX_PROCESSES))


def _initialise() -> None:
    """In a worker: one BLAS thread, and the model loaded before the first batch arrives.

    A model that cannot load is not raised here (that would only break the pool): the first
    batch raises it, and the parent reports it as it does in-process.
    """
    from threadpoolctl import threadpool_limits

    from archivist.ingest.entities import EntityModelMissing, _pipeline

    threadpool_limits(1)
    try:
        _pipeline()
    except EntityModelMissing:
        pass


def _extract(texts: list[str]) -> list:
    from archivist.ingest.entities import extract_entities

    return extract_entities(texts)


def extract_in_processes(batches: Iterator[list[str]], processes: int) -> Iterator[list]:
    """Each batch's mentions, in the order the batches came, extracted by `processes` workers.

    With `processes` 1 the batches are read in this process. Errors raised in a worker (a missing
    model) are raised here. A worker that dies (killed for memory) loses nothing: its batch and
    every later one are read in this process instead, with a warning. The pool is shut down on
    the way out, also when the caller stops early or is interrupted.
    """
    if processes <= 1:
        for texts in batches:
            yield _extract(texts)
        return
    pool = ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn"),
                               initializer=_initialise)
    pending: deque[tuple[list[str], Future | None]] = deque()
    try:
        for texts in batches:
            pending.append((texts, None))  # queued first, so a submit to a dead pool keeps it
            pending[-1] = (texts, pool.submit(_extract, texts))
            while len(pending) >= processes * BATCHES_AHEAD_PER_PROCESS:
                yield _first_result(pending)
        while pending:
            yield _first_result(pending)
    except BrokenProcessPool:
        log.warning("an entity worker process died; reading the remaining articles in this process")
        for texts, _ in pending:
            yield _extract(texts)
        for texts in batches:
            yield _extract(texts)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _first_result(pending: deque[tuple[list[str], Future | None]]) -> list:
    """The oldest batch's mentions, taken off the queue only once they arrived (a dead worker keeps it there)."""
    result = pending[0][1].result()
    pending.popleft()
    return result
