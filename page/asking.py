"""The question: the search box, and the one call from the page into search."""

from __future__ import annotations

import numpy as np
import streamlit as st

from archivist.query.search import SearchResponse, Searcher
from page.state import clear_like


def search_box() -> str:
    """The one search box; Enter (or leaving the box) runs the search."""
    st.text_input("Search the archive", key="q", bind="query-params",
                  placeholder="Ask a question, e.g. who supported the Northern Alliance",
                  on_change=clear_like, label_visibility="collapsed")
    return (st.session_state.get("q") or "").strip()


def run_search(searcher: Searcher, query: str, like: int | None, params: dict,
               highlight: bool = False, vector: np.ndarray | None = None) -> SearchResponse:
    """The question's search, or "More like this" (which has no mode) when a passage is chosen;
    `vector` is the question's embedding when an earlier search of this rerun made it."""
    if like is not None:
        filters = {name: value for name, value in params.items() if name != "mode"}
        return searcher.more_like_passage(int(like), **filters)
    return searcher.search(query, highlight=highlight, vector=vector, **params)
