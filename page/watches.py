"""The watchlist on the page: each watch with "N new" beside it, opening its search (which marks
what it shows as seen), removing it, and "Watch this search" under the results.

The list itself is archivist.watchlist's (beside the embedded index, or in the PostgreSQL
index's database; shared with `watch check` from cron and the API); the page only draws it and
calls it.
"""

from __future__ import annotations

import streamlit as st

from archivist.errors import ArchivistError
from archivist.query.search import FILTER_NAMES, Searcher
from archivist.watchlist import Watchlist, WatchStatus, narrowing, watchlist_of
from page.highlight import escape_markdown as md
from page.state import MODES, clear_like, log

MODE_LABELS = {name: label for label, name in MODES.items()}


def watch_panel(searcher: Searcher) -> None:
    """The sidebar's Watchlist: each watch, its new articles counted, a button to open it."""
    watchlist = watchlist_of(searcher)
    try:
        statuses = current_statuses(searcher, watchlist)
    except ArchivistError as error:
        st.sidebar.warning(md(str(error)))
        return
    new = sum(len(s.new) for s in statuses)
    message = st.session_state.pop("watch_message", None)
    with st.sidebar.expander(f"Watchlist ({new} new)" if new else "Watchlist", expanded=bool(new or message)):
        if not statuses:
            st.caption("No watches yet. Search for a name or words, then press “Watch this search” "
                       "under the results; after each reindex its new articles are counted here.")
        for status in statuses:
            watch_row(watchlist, status)
        if message:
            st.success(md(message))


def current_statuses(searcher: Searcher, watchlist: Watchlist) -> list[WatchStatus]:
    """Every watch's status, from the cache while nothing it depends on has changed."""
    return watch_statuses(searcher, watchlist, searcher.build_id, searcher.location(), watchlist.stamp(),
                          searcher.entity_names().stamp())


@st.cache_data(max_entries=16, show_spinner=False)
def watch_statuses(_searcher: Searcher, _watchlist: Watchlist, build_id: str, where: str,
                   stamp: int, names_stamp: int) -> list[WatchStatus]:
    """Every watch's status, searched again only when the index, its build, the watchlist or
    the names' clean-ups change (a merge changes what a watch filtered by a name matches; each
    rerun of the page would otherwise run every watch's search)."""
    return _watchlist.status(_searcher)


def watch_row(watchlist: Watchlist, status: WatchStatus) -> None:
    watch = status.watch
    count = f"{len(status.new)} new" if status.new else f"{len(status.matching)} matching, none new"
    with st.container(horizontal=True, key=f"watch-{watch.id}", vertical_alignment="center"):
        st.button(f"{watch.label()} · {count}", key=f"open-watch-{watch.id}", type="tertiary",
                  on_click=open_watch, args=(watchlist, status),
                  help="Search it; its new articles then count as seen")
        st.button("Remove", key=f"remove-watch-{watch.id}", type="tertiary", icon=":material/close:",
                  on_click=remove_watch, args=(watchlist, watch.id), help=f"Stop watching {watch.query}")


def open_watch(watchlist: Watchlist, status: WatchStatus) -> None:
    """Callback: put the watch's search in the box (its mode and filters too) and mark it seen."""
    watch = status.watch
    state = st.session_state
    state.q = watch.query
    state.mode = MODE_LABELS.get(watch.mode, "Hybrid")
    state.outlet = list(watch.filters.get("outlets") or [])
    state.author = watch.filters.get("author") or ""
    state.entity = watch.filters.get("entity") or ""
    clear_like()
    watchlist.mark_seen({watch.id: [a.id for a in status.new]})
    if status.new:
        state.watch_message = f"{len(status.new)} new for “{watch.query}”, now marked seen."


def remove_watch(watchlist: Watchlist, watch_id: int) -> None:
    try:
        removed = watchlist.remove(watch_id)
        st.session_state.watch_message = f"Stopped watching “{removed.query}”."
    except ArchivistError as error:
        st.session_state.watch_message = str(error)


def watch_button(searcher: Searcher, query: str, params: dict) -> None:
    """ "Watch this search" under the results: its matching articles now count as seen."""
    if st.button("Watch this search", key="watch-this", icon=":material/notifications:", type="secondary",
                 help="Keep it in the sidebar's Watchlist: after each reindex it counts the new articles "
                      "that match (also `python -m archivist watch check`)"):
        filters = narrowing({name: params.get(name) for name in FILTER_NAMES})
        try:
            watch = watchlist_of(searcher).add(searcher, query, params.get("mode", "hybrid"), **filters)
        except ArchivistError as error:
            st.warning(md(str(error)))
            return
        log.info("watch %d added", watch.id)
        st.session_state.watch_message = f"Watching “{watch.query}”; its {len(watch.seen)} matching articles count as seen."
        st.rerun()
