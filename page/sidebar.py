"""The sidebar: search mode, result count and filters (all bound to the URL), and the index's
status with its Reindex button."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import streamlit as st

from page.display import fmt_date, fmt_span, fmt_timestamp, parse_date, plural
from page.highlight import escape
from page.highlight import escape_markdown as md
from page.loading import build_index
from page.state import DEFAULT_K, MODES, reset_filters

MODE_HELP = (
    "Semantic finds passages by meaning, even when they use other words. Keyword finds the "
    "words of the question. Hybrid (recommended) combines both."
)


def date_bounds(stats: dict) -> tuple[dt.date | None, dt.date | None]:
    """The first and last article date of the index: the range the date inputs accept."""
    return parse_date(stats.get("date_min")), parse_date(stats.get("date_max"))


def sidebar(stats: dict, archive: Path, index: Path) -> dict:
    """Mode, size, filters (all bound to the URL) and the index's status; returns search kwargs."""
    sb = st.sidebar
    sb.radio("Search mode", list(MODES), key="mode", bind="query-params", help=MODE_HELP,
             horizontal=True)
    sb.slider("Number of results", 1, 50, DEFAULT_K, key="k", bind="query-params")

    outlets = [row["outlet"] for row in stats.get("outlets", []) if row.get("outlet")]
    # No format_func: the URL carries the label, and it must not change when counts do.
    sb.multiselect("Outlets", outlets, key="outlet", bind="query-params",
                   placeholder="All outlets" if outlets else "No outlets recorded",
                   disabled=not outlets)

    since = until = None
    low, high = date_bounds(stats)
    if low and high:
        # Empty means "open": a bound copied from today's index would silently hide articles
        # that a later reindex adds beyond it.
        start = sb.date_input("From", None, min_value=low, max_value=high, key="since",
                              bind="query-params", format="YYYY-MM-DD",
                              help=f"Empty: from the earliest article ({fmt_date(str(low))}).")
        end = sb.date_input("To", None, min_value=low, max_value=high, key="until",
                            bind="query-params", format="YYYY-MM-DD",
                            help=f"Empty: up to the latest article ({fmt_date(str(high))}).")
        since = start.isoformat() if start else None
        until = end.isoformat() if end else None
    undated_count = int(stats.get("undated") or 0)
    include_undated = sb.checkbox(f"Include articles without a date ({undated_count:,})",
                                  value=True, key="undated", bind="query-params",
                                  help="Undated articles cannot be placed in a date range; "
                                  "choose whether they appear in results.")
    sb.button("Reset filters", on_click=reset_filters, type="tertiary")

    sb.divider()
    index_status(stats, archive, index)
    return {"mode": MODES.get(st.session_state.get("mode") or "", "hybrid"),
            "k": int(st.session_state.get("k") or DEFAULT_K),
            "outlets": list(st.session_state.get("outlet") or []) or None,
            "since": since, "until": until, "include_undated": bool(include_undated)}


def index_status(stats: dict, archive: Path, index: Path) -> None:
    """Articles, passages, outlets, dates, build time and model, plus the Reindex button."""
    sb = st.sidebar
    sb.subheader("Index")
    outlets = len([o for o in stats.get("outlets", []) if o.get("outlet")])
    dates = fmt_span(stats.get("date_min"), stats.get("date_max"))
    model = str(stats.get("model") or "unknown").rsplit("/", 1)[-1]
    rows = [
        f"{plural(stats.get('articles', 0), 'article')} · "
        f"{plural(stats.get('passages', 0), 'passage')} · {plural(outlets, 'outlet')}",
        f"Dates: {escape(dates, newlines=False)} · {int(stats.get('undated') or 0):,} undated",
        f"Built: {escape(fmt_timestamp(stats.get('built_at')), newlines=False)}",
        f"Model: {escape(model, newlines=False)} ({escape(str(stats.get('query_backend') or 'unknown'), newlines=False)})",
        f'Archive: <code title="{html.escape(str(archive), quote=True)}">'
        f"{escape(archive.name or str(archive), newlines=False)}/</code>",
    ]
    sb.markdown('<div class="ar-status">' + "<br>".join(rows) + "</div>",
                unsafe_allow_html=True)
    if sb.button("Reindex", key="reindex", help="Read new, changed and removed files in the "
                 "archive and update the index. Unchanged articles are not embedded again."):
        summary = build_index(archive, index, sb, "Updating the index…")
        if summary is not None:
            st.session_state.reindex_summary = summary
            st.rerun()
    if st.session_state.get("reindex_summary"):
        sb.success(md(st.session_state.reindex_summary))
