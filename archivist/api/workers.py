"""A bounded pool of search workers with a bounded queue: when both are full a request is turned
away at once (503 with Retry-After) instead of piling up threads or memory."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class PoolFull(Exception):
    """Every worker is busy and the queue is full."""


class SearchPool:
    """`workers` threads run searches; up to `queue` more wait for one; the rest are refused."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self.queue = queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archivist-search")
        self._slots = threading.BoundedSemaphore(workers + queue)

    async def run(self, work: Callable[[], T]) -> T:
        """Run `work` on a worker; raises PoolFull at once when no slot is free."""
        if not self._slots.acquire(blocking=False):
            raise PoolFull()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self._slots.release()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
