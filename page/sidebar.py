"""The sidebar: search mode, result count and filters (all bound to the URL), and the index's
status with its Reindex button (over a PostgreSQL index: where it is read, and no writing)."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import streamlit as st

from archivist import config
from page.display import fmt_date, fmt_span, fmt_timestamp, parse_date, plural
from page.highlight import escape
from page.highlight import escape_markdown as md
from page.loading import build_index, over_postgres
from page.uploads import upload_panel
from archivist.ingest.language import language_label
from archivist.records import UNKNOWN_OUTLET
from page.state import DEFAULT_K, MAX_PAGE_K, MODES, reset_filters, results_wanted

# The order radio's labels (what the URL carries) and the core's names.
SORTS = {"Relevance": "relevance", "Newest": "newest", "Oldest": "oldest"}
# The date inputs take any date in this range (the archive's own range is only a hint).
EARLIEST, LATEST = dt.date(1800, 1, 1), dt.date(2100, 12, 31)
# The URL parameters the sidebar's widgets read; a shared link's values are checked against them.
LINK_KEYS = ("mode", "k", "outlet", "author", "entity", "language", "since", "until", "undated", "sort")
# What the page over a PostgreSQL index leaves to the embedded one (the sidebar says so).
POSTGRES_NOTE = ("Reindexing and uploads are done where the archive folder is (`archivist reindex --index-url`, "
                 "or this page started beside it); the watchlist and name clean-ups are kept in this database.")
MODE_HELP = (
    "Semantic finds passages by meaning, even when they use other words. Keyword finds the "
    "words of the question. Hybrid (recommended) combines both."
)


def date_bounds(stats: dict) -> tuple[dt.date | None, dt.date | None]:
    """The first and last article date of the index: the range the date inputs accept."""
    return parse_date(stats.get("date_min")), parse_date(stats.get("date_max"))


def sidebar(stats: dict, archive: Path, index: Path, searcher=None) -> dict:
    """Mode, size, filters (all bound to the URL) and the index's status; returns search kwargs."""
    sb = st.sidebar
    asked = link_values()
    sb.radio("Search mode", list(MODES), key="mode", bind="query-params", help=MODE_HELP,
             horizontal=True)
    if st.session_state.get("like") is not None:
        sb.caption("“More like this” compares meaning only (Semantic), whatever the mode above.")
    sb.slider("Number of results", 1, MAX_PAGE_K, DEFAULT_K, key="k", bind="query-params")
    sb.checkbox("One card per article", key="per_article", bind="query-params",
                help="Each article once, with its best passage; its other matching passages open below it.")
    sb.radio("Order", list(SORTS), key="sort", bind="query-params", horizontal=True,
             help="Newest and Oldest order the strong matches among the best-ranked results by date.")

    outlets = [row["outlet"] for row in stats.get("outlets", []) if row.get("outlet")]
    if stats.get("without_outlet"):
        outlets.append(UNKNOWN_OUTLET)
    # No format_func: the URL carries the label, and it must not change when counts do.
    sb.multiselect("Outlets", outlets, key="outlet", bind="query-params",
                   placeholder="All outlets" if outlets else "No outlets recorded",
                   disabled=not outlets)
    sb.text_input("Author", key="author", bind="query-params", placeholder="Any author",
                  help="Only articles whose author's name contains these letters (any case).")
    sb.text_input("Names", key="entity", bind="query-params", placeholder="Any person, organisation or place",
                  help="Only articles naming this person, organisation or place (click one under the results).")
    languages = [language_label(row["language"]) for row in stats.get("languages", [])]
    if len(languages) > 1:  # one language (most archives): the filter could only hide nothing
        sb.multiselect("Languages", languages, key="language", bind="query-params", placeholder="All languages",
                       help="Only articles in these languages (detected from their text; metadata.csv's "
                            "language column corrects it). The meaning search reads English only.")

    low, high = date_bounds(stats)
    # Empty means "open": a bound copied from today's index would silently hide articles that a
    # later reindex adds beyond it. Any date may be typed, inside the archive's range or not.
    start = sb.date_input("From", None, min_value=EARLIEST, max_value=LATEST, key="since",
                          bind="query-params", format="YYYY-MM-DD",
                          help=f"Empty: from the earliest article ({fmt_date(str(low)) if low else 'none dated'}).")
    end = sb.date_input("To", None, min_value=EARLIEST, max_value=LATEST, key="until",
                        bind="query-params", format="YYYY-MM-DD",
                        help=f"Empty: up to the latest article ({fmt_date(str(high)) if high else 'none dated'}).")
    since = start.isoformat() if start else None
    until = end.isoformat() if end else None
    undated_count = int(stats.get("undated") or 0)
    include_undated = sb.checkbox(f"Include articles without a date ({undated_count:,})",
                                  value=True, key="undated", bind="query-params",
                                  help="Undated articles cannot be placed in a date range; "
                                  "choose whether they appear in results.")
    sb.button("Reset filters", on_click=reset_filters, type="tertiary")

    sb.divider()
    if searcher is not None and over_postgres(searcher):
        postgres_status(stats, searcher, archive, index)
    else:
        index_status(stats, archive, index)
        upload_panel(archive, index, searcher)
    if asked is not None:
        st.session_state.link_problems = link_problems(asked, outlets, languages)
    return {"mode": MODES.get(st.session_state.get("mode") or "", "hybrid"),
            "k": results_wanted(int(st.session_state.get("k") or DEFAULT_K)),
            "outlets": list(st.session_state.get("outlet") or []) or None,
            "author": (st.session_state.get("author") or "").strip() or None,
            "entity": (st.session_state.get("entity") or "").strip() or None,
            "languages": [name for name in st.session_state.get("language") or [] if name in languages] or None,
            "per_article": bool(st.session_state.get("per_article")),
            "sort": SORTS.get(st.session_state.get("sort") or "", "relevance"),
            "since": since, "until": until, "include_undated": bool(include_undated)}


def link_values() -> dict[str, list[str]] | None:
    """What the URL asked for when this session opened it (None on later runs): a shared link's
    filters, to check after the widgets have read them."""
    if st.session_state.get("link_read"):
        return None
    st.session_state.link_read = True
    return {key: st.query_params.get_all(key) for key in LINK_KEYS}


def link_problems(asked: dict[str, list[str]], outlets: list[str], languages: list[str] = ()) -> list[str]:
    """Each value of the link that the page could not apply, and what it does instead."""
    problems = []
    for mode in asked["mode"]:
        if mode not in MODES:
            problems.append(f"mode {mode!r} is not a search mode, so Hybrid is used")
    for k in asked["k"]:
        if not k.isdigit() or not 1 <= int(k) <= MAX_PAGE_K:
            problems.append(f"k={k} is outside 1-{MAX_PAGE_K}, so {DEFAULT_K} results are shown "
                            "(“Show more results” below the cards goes further)")
    for outlet in asked["outlet"]:
        if outlet not in outlets:
            problems.append(f"outlet {outlet!r} is not in this archive, so that filter was dropped")
    for language in asked["language"]:
        if language not in languages:
            problems.append(f"language {language!r} is not in this archive, so that filter was dropped")
    for key, label in (("since", "From"), ("until", "To")):
        for value in asked[key]:
            day = parse_date(value)
            if day is None or not EARLIEST <= day <= LATEST:
                problems.append(f"{key}={value} is not a date (YYYY-MM-DD), so the {label} date is open")
    for value in asked["sort"]:
        if value not in SORTS:
            problems.append(f"sort {value!r} is not an order, so results are by relevance")
    for value in asked["undated"]:
        if value.lower() not in ("true", "false"):
            problems.append(f"undated={value} is neither true nor false, so undated articles are included")
    return problems


def show_link_problems() -> None:
    """Say which filters of a shared link were not applied, and why (above the results)."""
    problems = st.session_state.get("link_problems") or []
    if problems:
        st.warning(md("This link could not be followed exactly: " + "; ".join(problems) + "."))


def status_rows(stats: dict) -> list[str]:
    """The index's counts, dates, build time and model, as escaped HTML lines (either backend)."""
    outlets = len([o for o in stats.get("outlets", []) if o.get("outlet")])
    dates = fmt_span(stats.get("date_min"), stats.get("date_max"))
    model = str(stats.get("model") or "unknown").rsplit("/", 1)[-1]
    return [
        f"{plural(stats.get('articles', 0), 'article')} · "
        f"{plural(stats.get('passages', 0), 'passage')} · {plural(outlets, 'outlet')}",
        f"Dates: {escape(dates, newlines=False)} · {int(stats.get('undated') or 0):,} undated",
        f"Built: {escape(fmt_timestamp(stats.get('built_at')), newlines=False)}",
        f"Model: {escape(model, newlines=False)} ({escape(str(stats.get('query_backend') or 'unknown'), newlines=False)})",
    ]


def show_status(rows: list[str]) -> None:
    st.sidebar.markdown('<div class="ar-status">' + "<br>".join(rows) + "</div>",
                        unsafe_allow_html=True)


def postgres_status(stats: dict, searcher, archive: Path, index: Path) -> None:
    """Where the PostgreSQL index is read (its URL without the password) and which generation,
    the counts as over the embedded index. Where the page was started beside the archive on
    purpose ($ARCHIVIST_ARCHIVE names an existing folder), Reindex and uploads too: built in the working folder `index` and published into the database (every
    other page reading it moves to the new generation); elsewhere the page only reads."""
    sb = st.sidebar
    sb.subheader("Index")
    where = searcher.location()
    generation = str(searcher.build_id).removeprefix("postgresql ")
    writes = config.archive_named() and archive.is_dir()
    show_status(status_rows(stats) + [
        f'Reads the PostgreSQL index at <code title="{html.escape(where, quote=True)}">'
        f"{escape(where, newlines=False)}</code>{'' if writes else ' (read-only)'}, {escape(generation, newlines=False)}"]
        + ([archive_row(archive)] if writes else []))
    if not writes:
        sb.caption(POSTGRES_NOTE)
        return
    reindex_button(archive, index, searcher.url)
    upload_panel(archive, index, searcher, searcher.url)


def index_status(stats: dict, archive: Path, index: Path) -> None:
    """Articles, passages, outlets, dates, build time and model, plus the Reindex button."""
    sb = st.sidebar
    sb.subheader("Index")
    show_status(status_rows(stats) + [archive_row(archive)])
    reindex_button(archive, index)


def archive_row(archive: Path) -> str:
    """The status line naming the archive folder a Reindex reads (its full path on hover)."""
    return (f'Archive: <code title="{html.escape(str(archive), quote=True)}">'
            f"{escape(archive.name or str(archive), newlines=False)}/</code>")


def reindex_button(archive: Path, index: Path, url: str | None = None) -> None:
    """The Reindex button (into the PostgreSQL index at `url` when given) and its last summary."""
    sb = st.sidebar
    if sb.button("Reindex", key="reindex", help="Read new, changed and removed files in the "
                 "archive and update the index. Unchanged articles are not embedded again."
                 + (" The build is published into the database." if url else "")):
        summary = build_index(archive, index, sb, "Updating the index…", url)
        if summary is not None:
            st.session_state.reindex_summary = summary
            st.rerun()
    if st.session_state.get("reindex_summary"):
        sb.success(md(st.session_state.reindex_summary))
