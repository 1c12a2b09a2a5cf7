"""A bounded pool of search workers with a bounded queue: when both are full a request is turned
away at once (503 with Retry-After) instead of piling up threads or memory."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
# A reindex waits at most this long between two embedding batches while searches are in flight.
YIELD_AT_MOST_S = 0.25


class PoolFull(Exception):
    """Every worker is busy and the queue is full."""


class SearchPool:
    """`workers` threads run searches; up to `queue` more wait for one; the rest are refused."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self.queue = queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archivist-search")
        self._slots = threading.BoundedSemaphore(workers + queue)
        self._in_flight = 0  # changed on the event loop's thread only

    async def run(self, work: Callable[[], T]) -> T:
        """Run `work` on a worker; raises PoolFull at once when no slot is free."""
        if not self._slots.acquire(blocking=False):
            raise PoolFull()
        self._in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self._in_flight -= 1
            self._slots.release()

    @property
    def busy(self) -> bool:
        """Whether any search is running or waiting."""
        return self._in_flight > 0

    def yield_to_searches(self, longest: float = YIELD_AT_MOST_S) -> None:
        """Wait while searches are running or waiting, for at most `longest` seconds: a reindex
        calls this between embedding batches, so searches get the cores first yet the reindex
        still finishes under constant load."""
        deadline = time.monotonic() + longest
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.005)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
