"""Archivist's Streamlit page: ask a question, read the answer in context, see every source.

The entry point only: the page's parts live in the `page` package beside the core (state,
loading, sidebar, results, cards, timeline, style sheet). It holds no search logic: it reads the
user's intent from widgets (bound to the URL so a search can be bookmarked), calls
`archivist.query.search` / `archivist.build.indexer`, and renders.

Run it with `streamlit run app.py`; ARCHIVIST_ARCHIVE / ARCHIVIST_INDEX choose the folders, and
ARCHIVIST_INDEX_URL=postgresql://... searches that PostgreSQL index instead, read-only but for
its watchlist and name clean-ups (no reindex or uploads there).
"""

from __future__ import annotations

import time

import streamlit as st

from archivist import config
from page.asking import search_box
from page.batch_view import batch_panel
from page.gate import admit
from page.loading import open_searcher
from page.results import empty_state, results
from page.sidebar import date_bounds, show_link_problems, sidebar
from page.state import log, restore_like_from_url, save_like_to_url
from page.style import apply_style
from page.watches import watch_panel

# The model ships as a package; never let a library reach for the model hub.
config.use_offline_model()


def main() -> None:
    """Draw the page once (Streamlit reruns this on every interaction)."""
    started = time.perf_counter()
    # No page_icon: a Material or emoji icon makes the browser fetch it from an outside CDN.
    st.set_page_config(page_title="Archivist", layout="wide", initial_sidebar_state=330)
    apply_style()
    archive, index = config.archive_dir(), config.index_dir()
    st.title("Archivist", anchor=False)
    admit()
    searcher = open_searcher(archive, index)
    stats = searcher.stats()
    restore_like_from_url()
    params = sidebar(stats, archive, index, searcher)
    watch_panel(searcher)
    query = search_box()
    batch_panel(searcher, params)
    show_link_problems()
    if query or st.session_state.get("like") is not None:
        results(searcher, query, params, date_bounds(stats))
        log.info("page with results drawn in %.0f ms", (time.perf_counter() - started) * 1000)
    else:
        empty_state(stats)
    save_like_to_url()


if __name__ == "__main__":  # Streamlit runs the page as __main__
    try:
        main()
    except Exception:  # the last line of defence: a person never sees a traceback
        log.exception("unexpected error while drawing the page")
        st.error("Something went wrong while drawing the page. The details are in the server's "
                 "log; reloading the page usually helps, and Reindex in the sidebar fixes a "
                 "damaged index.")
