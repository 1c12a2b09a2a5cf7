"""Progress bars with counts on stderr for the stages of a reindex."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

# A long task reports (stage, items done, items in all); the CLI draws bars, the page a progress bar.
Progress = Callable[[str, int, int], None]
# Each stage as a person reads it (the CLI's bars and the page's progress bar).
STAGE_LABELS = {"reading": "Reading the archive", "splitting": "Splitting articles into passages",
                "embedding": "Embedding passages", "entities": "Finding people, organisations and places", "writing": "Writing the index",
                "vectors": "Building the vector index", "copies": "Finding copied passages",
                "stories": "Grouping stories", "keywords": "Counting keywords", "saving": "Saving",
                "publishing": "Publishing", "queries": "Running queries"}
# Stages shorter than this many items finish too fast for a bar to help.
MIN_ITEMS_FOR_BAR = 200


class ProgressBars:
    """Turns `progress(stage, done, total)` callbacks into one tqdm bar per long stage."""

    def __init__(self, enabled: bool = True, min_items: int = MIN_ITEMS_FOR_BAR) -> None:
        self.enabled = enabled
        self.min_items = min_items
        self._stage: str | None = None
        self._bar = None

    def update(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total < self.min_items:
            return
        if stage != self._stage:
            self.close()
            from tqdm import tqdm

            self._stage = stage
            self._bar = tqdm(total=total, desc=STAGE_LABELS.get(stage, stage), unit=" items",
                             file=sys.stderr, mininterval=1.0, dynamic_ncols=True)
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar, self._stage = None, None


class StageClock:
    """Wraps a progress callback and times each stage, from its first report to the next stage's.

    The reindex report carries these times so a slow stage (say, story grouping on a large
    archive) shows up in `reindex --json` without a profiler."""

    def __init__(self, forward: Progress) -> None:
        self.forward = forward
        self.seconds: dict[str, float] = {}
        self._stage: str | None = None
        self._since = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage:
            self.stop()
            self._stage, self._since = stage, time.perf_counter()
        self.forward(stage, done, total)

    def stop(self) -> None:
        if self._stage is not None:
            elapsed = time.perf_counter() - self._since
            self.seconds[self._stage] = round(self.seconds.get(self._stage, 0.0) + elapsed, 3)
        self._stage = None
