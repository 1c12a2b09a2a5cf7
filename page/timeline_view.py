"""The timeline above the results: when the question's matching articles were published, drawn
with page.timeline; a click or drag on it becomes the date filter."""

from __future__ import annotations

import datetime as dt
import functools
import html
import time
from collections.abc import MutableMapping
from typing import Any

import numpy as np
import streamlit as st

from archivist.errors import ArchivistError
from archivist.query.search import Searcher
from page.asking import run_search
from page.display import dates_label, plural
from page.state import clear_dates, log, logged_query
from page.timeline import (Period, Timeline, matching_articles, selected_period, timeline_chart,
                           timeline_of)

# The timeline counts the articles of this many top passages, searched without date filters.
TIMELINE_K = 100


@st.cache_data(max_entries=64, show_spinner=False)
def wide_matches(_searcher: Searcher, build_id: str, query: str, like: int | None, mode: str,
                 outlets: tuple[str, ...], author: str | None = None, languages: tuple[str, ...] = (),
                 entity: str | None = None, _vector: np.ndarray | None = None,
                 names_stamp: int = 0) -> dict[str, str | None]:
    """The articles of the top TIMELINE_K passages, searched with no date filter at all.

    The chart must show the whole spread of the question even while the results are narrowed
    to one period, so the From/To filters are left out (every other filter applies); cached per
    build and question so that clicking a bar (a rerun) does not search again.
    """
    params = {"k": TIMELINE_K, "mode": mode, "outlets": list(outlets) or None, "author": author,
              "languages": list(languages) or None, "entity": entity}
    if like is None:
        params.update(per_article=False, sort="relevance")
    return matching_articles(run_search(_searcher, query, like, params, vector=_vector).hits)


def apply_selection(state: MutableMapping[str, Any], key: str, periods: tuple[Period, ...],
                    bounds: tuple[dt.date | None, dt.date | None]) -> None:
    """Timeline callback: put the selected period into the From/To filters (and so the URL).

    It runs before the script, while the date inputs may still be written. Dates are kept
    inside the archive's range, or the inputs would refuse them. A bar means "that period",
    so undated articles are left out too, until "Show all dates" (which also clears the
    dates) brings them back. An emptied selection changes nothing.
    """
    chart = state.get(key) or {}
    period = selected_period(chart.get("selection") or {}, periods)
    log.info("timeline selection %s: %s", dict(chart.get("selection") or {}), period)
    if period is None:
        return
    low, high = bounds

    def clamp(day: dt.date) -> dt.date:
        return min(max(day, low or day), high or day)

    state["since"], state["until"] = clamp(period[0]), clamp(period[1])
    if state.get("undated", True):
        state["undated"] = False
        state["undated_by_timeline"] = True


def counts_table_html(line: Timeline) -> str:
    """The chart's text alternative: its counts as a table, for screen readers only (its wrapper's
    class ar-sr-only keeps it off screen, not out of the accessibility tree). Labels and counts are the
    page's own text; escaped all the same."""
    unit = html.escape(line.unit.capitalize())
    rows = "".join(f"<tr><td>{html.escape(p.label)}</td><td>{p.articles:,}</td></tr>"
                   for p in line.periods)
    if line.undated:
        rows += f"<tr><td>Undated (not on the timeline)</td><td>{line.undated:,}</td></tr>"
    return (f'<div class="ar-sr-only"><table><caption>Matching articles by {html.escape(line.unit)}, '
            "as the timeline chart shows them</caption>"
            f'<thead><tr><th scope="col">{unit}</th><th scope="col">Matching articles</th></tr>'
            f"</thead><tbody>{rows}</tbody></table></div>")


def timeline(searcher: Searcher, query: str, like: int | None, params: dict,
             bounds: tuple[dt.date | None, dt.date | None], vector: np.ndarray | None = None) -> None:
    """The timeline of the question's matching articles, with a way back to all dates."""
    started = time.perf_counter()
    try:
        found = wide_matches(searcher, searcher.build_id, query, like, params["mode"],
                             tuple(params["outlets"] or ()), params.get("author"),
                             tuple(params.get("languages") or ()), params.get("entity"), vector,
                             searcher.entity_names().stamp() if params.get("entity") else 0)
    except ArchivistError as error:  # the results answer on their own; the chart is extra
        log.warning("no timeline for query %s: %s", logged_query(query), error)
        return
    log.info("timeline for query %s: %d articles in %.0f ms", logged_query(query), len(found),
             (time.perf_counter() - started) * 1000)
    line = timeline_of(found.values())
    since, until = params["since"], params["until"]
    notes = []
    if line.periods:
        # Keyed by the date filter: a new filter is a new chart, with no stale brush or click
        # left on it; the pale bars alone show the period in force.
        key = f"timeline-chart-{since or ''}-{until or ''}"
        st.altair_chart(timeline_chart(line, since, until), key=key,
                        on_select=functools.partial(apply_selection, st.session_state, key,
                                                    line.periods, bounds),
                        selection_mode=["bar", "span"], width="stretch")
        st.markdown(counts_table_html(line), unsafe_allow_html=True)
        notes.append(f"{plural(len(found) - line.undated, 'matching article')} by {line.unit}"
                     + (f", {line.undated:,} undated not shown" if line.undated else ""))
        if not (since or until):
            notes.append("click a bar or drag across bars to see only that period")
    elif found:
        notes.append("No timeline: " + ("the matching article has no date" if len(found) == 1
                     else f"none of the {len(found):,} matching articles has a date"))
    if since or until:
        notes.append(f"showing results {dates_label(since, until)}"
                     + (" and undated ones" if params["include_undated"] else ""))
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        if notes:
            st.caption(" · ".join(notes))
        if since or until:
            st.button("Show all dates", key="timeline-clear", on_click=clear_dates,
                      type="tertiary", icon=":material/close:")
