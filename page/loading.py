"""Opening the index for the page, building it on first start, and reindexing from the page.

The embedded index is cached per build id (`st.cache_resource`), so a reindex is picked up
without a restart and no query ever sees a build swapped under it. A PostgreSQL index
($ARCHIVIST_INDEX_URL) is opened once per browser session instead: its searcher holds psycopg
connections, which two sessions' threads must never use at once. It is reindexed from the page
only where the page was started beside the archive ($ARCHIVIST_ARCHIVE): built in the working
folder, then published into the database."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, NoReturn

import streamlit as st

from archivist import config
from archivist.model.embedding import Embedder
from archivist.build.indexer import ReindexReport, skipped_counts
from archivist.errors import ArchivistError, IndexBusy, IndexMissing
from archivist.progress import STAGE_LABELS, Progress
from archivist.query.postgres_search import PostgresSearcher
from archivist.query.search import Searcher, current_build_id
from archivist.storage.postgres.connection import redacted
from page.highlight import escape_markdown as md
from page.state import DEFAULT_K, log

POSTGRES_SEARCHER = "postgres_searcher"  # the session_state key of a session's PostgresSearcher


@st.cache_resource(show_spinner=False)
def shared_embedder() -> Embedder:
    """One model per process, shared by searching and reindexing: loading it takes seconds."""
    return Embedder()


@st.cache_resource(show_spinner=False)
def warm_embedder() -> Embedder:
    """The shared model, having embedded one query: a PostgreSQL page's first search is then as
    fast as its later ones (the embedded page warms its cached searcher instead)."""
    embedder = shared_embedder()
    embedder.encode_query("warm up the model")
    return embedder


def over_postgres(searcher: Searcher) -> bool:
    """True over a PostgreSQL index (it has no index folder of its own)."""
    return searcher.index is None


def open_searcher(archive: Path, index: Path) -> Searcher:
    """The PostgreSQL index of $ARCHIVIST_INDEX_URL when it is set, else the embedded one."""
    url = config.index_url()
    return open_postgres(url) if url else open_index(archive, index)


def open_postgres(url: str) -> PostgresSearcher:
    """This browser session's searcher over the PostgreSQL index at `url`, opened on its first
    run and kept in st.session_state (never shared: Streamlit runs sessions on other threads).
    It follows publishes; one whose connection broke is opened again. An unreachable server or
    an index with nothing published: one line saying what to do, then the script stops."""
    import psycopg  # only over PostgreSQL

    held = st.session_state.get(POSTGRES_SEARCHER)
    if held is not None and held.url == url and not (held.connection.closed or held.connection.broken):
        return held
    st.session_state.pop(POSTGRES_SEARCHER, None)
    if held is not None:
        _close_quietly(held)
    try:
        with st.spinner("Opening the PostgreSQL index…"):
            searcher = PostgresSearcher(url, embedder=warm_embedder(), follow_updates=True)
    except ArchivistError as error:
        st.error(md(str(error)))
        st.stop()
    except psycopg.Error as error:  # reached, but refused (a role without rights, a damaged schema)
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        st.error(md(f"PostgreSQL at {redacted(url)} could not be read ({first}); check the URL "
                    "and the role's rights, then reload the page."))
        st.stop()
    st.session_state[POSTGRES_SEARCHER] = searcher
    log.info("opened the PostgreSQL index %s (%s) for a session", redacted(url), searcher.build_id)
    return searcher


def _close_quietly(searcher: PostgresSearcher) -> None:
    """Close a session's old searcher; a connection that already broke may refuse even that."""
    try:
        searcher.close()
    except Exception as error:  # noqa: BLE001 - it is being replaced either way
        log.info("closing a broken PostgreSQL searcher: %s", error)


@st.cache_resource(max_entries=1, show_spinner="Loading the search model and index…")
def load_searcher(index_dir: str, build_id: str) -> Searcher:
    """Open the index once per build id and warm the model so the first real query is fast."""
    # One Searcher per build: it never swaps its build while other sessions' queries run on it.
    searcher = Searcher.open(Path(index_dir), embedder=shared_embedder(), follow_updates=False)
    try:
        searcher.search("warm up the model", k=DEFAULT_K, highlight=True)
    except ArchivistError:
        pass  # an empty index has nothing to warm; the page reports that state itself
    log.info("opened index %s (build %s)", index_dir, build_id)
    return searcher


@st.cache_resource
def build_lock() -> threading.Lock:
    """One index build at a time per server process, shared by every browser session."""
    return threading.Lock()


def build_index(archive: Path, index: Path, where: Any, label: str, url: str | None = None) -> str | None:
    """Run an incremental reindex with a progress bar in `where`; return a summary or None.
    With `url`, into that PostgreSQL index: built in the working folder `index`, then published."""
    from archivist.build.reindex_postgres import PostgresReindex, reindex_here_or_into  # only needed when building

    lock = build_lock()
    with where.status(label, expanded=True) as status:
        if not lock.acquire(blocking=False):
            st.write("Another window is updating the index; waiting for it to finish…")
            lock.acquire()
        try:
            bar = st.progress(0.0, text="Reading the archive…")
            done = reindex_here_or_into(archive, index, url, progress=_progress_updater(bar), embedder=shared_embedder())
            into_postgres = done if isinstance(done, PostgresReindex) else None
            report = into_postgres.reindex if into_postgres else done
        except ArchivistError as error:
            status.update(label="The index was not updated", state="error")
            st.write(md(str(error)))
            return None
        finally:
            lock.release()
        summary = _reindex_summary(report)
        if into_postgres is not None and into_postgres.published:
            summary += f" · published as generation {into_postgres.published.generation}"
        bar.progress(1.0, text="Done")
        status.update(label=summary, state="complete", expanded=False)
    if report.skipped:  # outside the folded status: which files, and why, is what the reader needs
        with where.expander(f"Files not read whole ({len(report.skipped):,})", expanded=True):
            for skipped in report.skipped[:200]:
                line = skipped.line()
                st.write(md(line[:1].upper() + line[1:]))
            if len(report.skipped) > 200:
                st.write(f"… and {len(report.skipped) - 200:,} more: `python -m archivist reindex` lists them all.")
    return summary


def _progress_updater(bar: Any) -> Progress:
    """A reindex progress callback that redraws the bar at most ten times a second.

    The first and last call of each stage always draw, so a slow step (the model loading at
    the start of "embedding") is never hidden behind the previous stage's label.
    """
    last: dict[str, Any] = {"at": 0.0, "stage": None}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        edge = stage != last["stage"] or done == 0 or done >= total
        if not edge and now - last["at"] < 0.1:
            return
        last.update(at=now, stage=stage)
        fraction = min(1.0, done / total) if total else 0.0
        name = STAGE_LABELS.get(stage, stage.capitalize())
        bar.progress(fraction, text=f"{name}: {done:,} of {total:,}")

    return progress


def _reindex_summary(report: ReindexReport) -> str:
    """One line a person can read: what changed, how long it took."""
    parts = [f"{report.articles:,} articles indexed in {report.seconds:.1f} s"]
    changes = [f"{n:,} {what}" for n, what in ((report.added, "added"),
               (report.updated, "updated"), (report.removed, "removed")) if n]
    parts.append(", ".join(changes) if changes else "no changes")
    if report.skipped:
        parts.append(skipped_counts(report.skipped).removeprefix("; "))
    return " · ".join(parts)


def open_index(archive: Path, index: Path) -> Searcher:
    """The searcher for the current index; builds it on first start, else explains and stops."""
    build_id = current_build_id(index)
    if build_id is None:
        # None means "no manifest" or "unreadable manifest"; opening tells the two apart.
        try:
            Searcher.open(index)
        except IndexMissing:
            pass
        except ArchivistError as error:
            index_problem(error, archive, index)
        if not archive.is_dir():
            st.error(md(f"The archive folder {archive} does not exist. Create it and put "
                        "articles in it, or set ARCHIVIST_ARCHIVE to the folder that holds them."))
            st.stop()
        st.info(md(f"First start: building the search index for the articles in {archive}. "
                   "This happens once; later starts only read new or changed files."))
        if build_index(archive, index, st, "Building the index…") is None:
            st.stop()
        if current_build_id(index) is None:
            st.error(md(f"The index in {index} could not be built. Check that the folder is "
                        "writable, then reload the page."))
            st.stop()
        st.rerun()
    try:
        return load_searcher(str(index), build_id)
    except ArchivistError as error:
        index_problem(error, archive, index)
    raise AssertionError("unreachable")  # index_problem stops the script


def index_problem(error: ArchivistError, archive: Path, index: Path) -> NoReturn:
    """A stale, broken or busy index: say what is wrong and offer the fix, then stop."""
    if isinstance(error, IndexBusy):
        st.info(md(str(error)))
        st.button("Check again")
        st.stop()
    st.error(md(str(error)))
    if st.button("Rebuild the index now", type="primary"):
        if build_index(archive, index, st, "Rebuilding the index…") is not None:
            load_searcher.clear()
            st.rerun()
    st.stop()
