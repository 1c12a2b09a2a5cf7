"""Crash injection for tests: kill the real reindex process at a named stage.

`ARCHIVIST_KILL_AT=embedding` (or reading, splitting, writing, vectors, copies, publishing) makes
the process SIGKILL itself the first time a reindex reports progress in that stage, so tests can
prove that a crash at any stage leaves the previous index whole. Unset, it costs nothing.
"""

from __future__ import annotations

import os
import signal

from archivist.config import kill_at_stage
from archivist.progress import Progress


def with_failpoint(progress: Progress) -> Progress:
    stage_to_kill = kill_at_stage()
    if not stage_to_kill:
        return progress

    def report(stage: str, done: int, total: int) -> None:
        progress(stage, done, total)
        if stage == stage_to_kill:
            os.kill(os.getpid(), signal.SIGKILL)

    return report
