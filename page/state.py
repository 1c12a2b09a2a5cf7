"""What the page remembers between reruns: the URL-bound intent and the callbacks that change it.

Widgets bind to the URL (`bind="query-params"`) so a search can be bookmarked or shared; the
callbacks here run before the script and may still write widget values."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from archivist import config
from archivist.query.search import MODES as SEARCH_MODES

log = logging.getLogger("archivist.page")
if not log.handlers:  # the script reruns on every interaction; attach the handler once
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False

def logged_query(query: str) -> str:
    """How a query appears in the server log: its text only when ARCHIVIST_LOG_QUERIES=1 (what
    a reporter searches for can point to a source), otherwise only its length."""
    return repr(query) if config.log_queries() else f"<{len(query)} characters>"


# The radio's labels are what the URL carries (?mode=Keyword); the core wants lowercase names.
MODES = {mode.capitalize(): mode for mode in SEARCH_MODES}
DEFAULT_K = 10
MAX_PAGE_K = 50  # the slider's range; "Show more results" pages on from there


def reset_filters() -> None:
    """Callback: every filter back to 'the whole archive'."""
    st.session_state.outlet = []
    st.session_state.author = ""
    st.session_state.language = []
    st.session_state.entity = ""
    clear_dates()
    st.session_state.undated = True


def clear_dates(state: MutableMapping[str, Any] = st.session_state) -> None:
    """Callback: From/To back to open, and undated articles back if the timeline hid them."""
    state["since"] = state["until"] = None
    if state.get("undated_by_timeline"):
        state["undated"] = True
    state["undated_by_timeline"] = False


def show_more(shown: int) -> None:
    """Callback: ten more results than the `shown` ones (beyond the slider's 50 too)."""
    st.session_state.more = int(st.session_state.get("more") or 0) + 10 if shown >= MAX_PAGE_K else 0
    if shown < MAX_PAGE_K:
        st.session_state.k = min(MAX_PAGE_K, shown + 10)


def results_wanted(k: int) -> int:
    """How many results to ask for: the slider's number plus what "Show more results" added."""
    return k + int(st.session_state.get("more") or 0) if k >= MAX_PAGE_K else k


def clear_like() -> None:
    """A new question replaces a "More like this" search."""
    st.session_state.like = None
    st.session_state.like_label = None
    st.session_state.more = 0


def ask(question: str) -> None:
    """Callback for the example buttons: put the question in the box and search."""
    st.session_state.q = question
    clear_like()


def more_like(passage_id: int, label: str) -> None:
    """Callback for "More like this": search with that passage's vector."""
    st.session_state.like = passage_id
    st.session_state.like_label = label


def set_mode(label: str) -> None:
    """Callback: switch the search mode (a label of MODES)."""
    st.session_state.mode = label


def restore_like_from_url() -> None:
    """"More like this" is not a widget, so it is carried in the URL by hand as ?like=ID."""
    if "like" not in st.session_state:
        raw = st.query_params.get("like")
        st.session_state.like = int(raw) if raw and raw.isdigit() else None
        st.session_state.like_label = None


def save_like_to_url() -> None:
    """Mirror the "More like this" state into the URL after each run."""
    like = st.session_state.get("like")
    if like is None:
        st.query_params.pop("like", None)
    else:
        st.query_params["like"] = str(like)
