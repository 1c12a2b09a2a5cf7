"""The question: the search box, and the one call from the page into search."""

from __future__ import annotations

import numpy as np
import streamlit as st

from archivist.query.search import SearchResponse, Searcher
from page.state import clear_like


# The query language (archivist/query/syntax.py), as the page explains it.
SYNTAX_HELP = ('Ask in your own words, or use: "exact phrase" (those words in that order), -word or '
               "NOT word (never a result holding it), a OR b (either), word* (any word starting so). "
               "In Keyword mode every result holds all the words you typed; in Hybrid and Semantic "
               "mode they rank the results, and only phrases and exclusions are required.")


def search_box() -> str:
    """The one search box; Enter (or leaving the box) runs the search."""
    st.text_input("Search the archive", key="q", bind="query-params",
                  placeholder="Ask a question, e.g. who supported the Northern Alliance",
                  on_change=clear_like, label_visibility="collapsed", help=SYNTAX_HELP)
    st.caption('Search syntax: "exact phrase" · -word or NOT word · a OR b · word*')
    return (st.session_state.get("q") or "").strip()


def run_search(searcher: Searcher, query: str, like: int | None, params: dict,
               highlight: bool = False, vector: np.ndarray | None = None) -> SearchResponse:
    """The question's search, or "More like this" (which has no mode) when a passage is chosen;
    `vector` is the question's embedding when an earlier search of this rerun made it."""
    if like is not None:
        filters = {name: value for name, value in params.items() if name not in ("mode", "per_article", "sort")}
        return searcher.more_like_passage(int(like), **filters)
    return searcher.search(query, highlight=highlight, vector=vector, **params)
