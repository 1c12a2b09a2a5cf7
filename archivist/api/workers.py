"""A bounded pool of search workers with a bounded queue: when both are full a request is turned
away at once (503 with Retry-After) instead of piling up threads or memory.

Searches may run in worker processes (api/search_processes.py: what `serve` does) or on threads
of the server process (one model in memory; what tests and embedders of the app use); every
other piece of work runs on the threads. Both count against the same slots.

In worker processes, searches that wait go to a free worker together, up to MAX_BATCH at a time:
one hand-over between processes instead of one per search, and one model inference for all
their questions (search_processes.search_many). Under load that is what keeps
both cores busy; a search that finds a worker free still goes alone, at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
# A reindex waits at most this long between two embedding batches while searches are in flight.
YIELD_AT_MOST_S = 0.25
MAX_BATCH = 4  # searches handed to one worker process at once

# Runs a batch of items in a worker process; one outcome per item: (True, result) or (False, exception).
BatchFunction = Callable[[Sequence[Any]], list[tuple[bool, Any]]]


class PoolFull(Exception):
    """Every worker is busy and the queue is full."""


class SearchPool:
    """`workers` run searches; up to `queue` more wait for one; the rest are refused.

    `processes`: makes the executor of `workers` worker processes that `run_batched` hands
    batches to, through `batch_function`; None searches on threads only."""

    def __init__(self, workers: int, queue: int, processes: Callable[[int], Executor] | None = None,
                 batch_function: BatchFunction | None = None) -> None:
        self.workers = workers
        self.queue = queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archivist-search")
        self._make_processes = processes
        self._processes = processes(workers) if processes else None
        self._batch_function = batch_function
        self._waiting: asyncio.Queue | None = None  # (item, future) for the process workers
        self._dispatchers: list[asyncio.Task] = []
        self._slots = threading.BoundedSemaphore(workers + queue)
        self._in_flight = 0  # changed on the event loop's thread only

    @property
    def in_processes(self) -> bool:
        return self._processes is not None

    async def run(self, work: Callable[[], T]) -> T:
        """Run `work` on a worker thread; raises PoolFull at once when no slot is free."""
        with self._slot():
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    async def run_batched(self, item: Any) -> Any:
        """The outcome of `item` (picklable) run by `batch_function` in a worker process, batched
        with whatever else is waiting; its exception is raised here. Only when `in_processes`."""
        assert self._processes is not None and self._batch_function is not None, "needs worker processes"
        with self._slot():
            if self._waiting is None:
                self._waiting = asyncio.Queue()
                self._dispatchers = [asyncio.create_task(self._dispatch()) for _ in range(self.workers)]
            answer = asyncio.get_running_loop().create_future()
            self._waiting.put_nowait((item, answer))
            return await answer

    async def _dispatch(self) -> None:
        """One per worker process: take what waits (up to MAX_BATCH), run it, hand out the outcomes."""
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._waiting.get()]
            while len(batch) < MAX_BATCH and not self._waiting.empty():
                batch.append(self._waiting.get_nowait())
            processes = self._processes
            try:
                outcomes = await loop.run_in_executor(processes, self._batch_function, [i for i, _ in batch])
            except BrokenProcessPool:
                # A worker died (killed, out of memory): fresh ones for the next searches, made
                # once, by whichever dispatcher notices first.
                if self._processes is processes:
                    processes.shutdown(wait=False)
                    self._processes = self._make_processes(self.workers)
                outcomes = [(False, PoolFull())] * len(batch)
            except Exception as error:  # the batch could not be sent or read back: each search says so
                outcomes = [(False, error)] * len(batch)
            for (_, answer), (ok, value) in zip(batch, outcomes):
                if not answer.done():  # its request may have gone (client disconnected)
                    answer.set_result(value) if ok else answer.set_exception(value)

    async def warm_up(self, function: Callable[[], object]) -> None:
        """Start every worker process and wait until each has loaded its model."""
        if self._processes is not None:
            loop = asyncio.get_running_loop()
            await asyncio.gather(*(loop.run_in_executor(self._processes, function) for _ in range(self.workers)))

    def _slot(self) -> "_Slot":
        if not self._slots.acquire(blocking=False):
            raise PoolFull()
        return _Slot(self)

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
        for task in self._dispatchers:
            task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._processes is not None:
            self._processes.shutdown(wait=True, cancel_futures=True)


class _Slot:
    """A taken slot, counted as in flight until the `with` block ends."""

    def __init__(self, pool: SearchPool) -> None:
        self.pool = pool

    def __enter__(self) -> None:
        self.pool._in_flight += 1

    def __exit__(self, *_: object) -> None:
        self.pool._in_flight -= 1
        self.pool._slots.release()
