"""The answer area: the results for the question (timeline, count, cards), what to do when
nothing matched, and the archive's welcome when nothing is asked yet."""

from __future__ import annotations

import datetime as dt
import time

import streamlit as st

from archivist.errors import ArchivistError, BadInput
from archivist.query.export import encoded, hit_row
from archivist.query.search import SearchResponse, Searcher
from page.asking import run_search
from page.cards import render_card
from page.display import fmt_span, plural
from page.highlight import escape
from page.highlight import escape_markdown as md
from archivist.query.search import MAX_K
from page.state import ask, clear_like, log, logged_query, reset_filters, set_mode, show_more
from page.timeline_view import timeline
from page.watches import watch_button
from page.facets import entity_facets

EXAMPLES = (
    "who supported the Northern Alliance",
    "what does the National Resistance Front ask of the West",
    "how many displaced people are sheltering in Panjshir",
)


def results(searcher: Searcher, query: str, params: dict,
            bounds: tuple[dt.date | None, dt.date | None]) -> None:
    """Run the search (or "More like this"), draw the timeline, then the cards."""
    like = st.session_state.get("like")
    if params["since"] and params["until"] and params["since"] > params["until"]:
        st.warning("The From date is after the To date; swap them in the sidebar.")
        return
    try:
        started = time.perf_counter()
        response = run_search(searcher, query, like, params, highlight=True)
        elapsed = (time.perf_counter() - started) * 1000
    except BadInput as error:
        st.warning(md(str(error)))
        if like is not None:
            st.button("Back to the search", on_click=clear_like, type="tertiary")
        return
    except ArchivistError as error:
        st.error(md(str(error)))
        return
    log.info("query %s: %d hits, core %.0f ms, call %.0f ms", logged_query(query), len(response.hits),
             response.took_ms, elapsed)
    if like is not None:
        # After a reload only the id is known; the core names the passage's article in `query`.
        label = (st.session_state.get("like_label")
                 or response.query.removeprefix("more like: ") or "the chosen passage")
        st.markdown(f"Passages like the one from <i>{escape(label, newlines=False)}</i>",
                    unsafe_allow_html=True)
        compared = searcher.passage_text(int(like))
        if compared:
            st.markdown(f'<div class="ar-text ar-compared">{escape(compared)}</div>', unsafe_allow_html=True)
        st.button("Back to the results for your question", on_click=clear_like,
                  icon=":material/arrow_back:", type="tertiary")
    # Before "no results": a period with no match must still offer the other periods.
    timeline(searcher, query, like, params, bounds, response.vector)
    if not response.hits:
        no_results(query if like is None else "this passage", params)
        return
    articles = {h.article.id for h in response.hits}
    if response.matching_articles is not None:
        count = f"{'' if response.matching_exact else 'about '}{plural(response.matching_articles, 'matching article')}"
        lead = f"{count} · one card per article, {len(response.hits):,} shown"
    else:
        lead = f"{plural(len(response.hits), 'passage')} from {plural(len(articles), 'article')}"
    st.caption(f"{lead} · {response.mode.capitalize()} search · {response.took_ms:.0f} ms")
    downloads(query, response)
    entity_facets(searcher, response)
    if response.no_strong_match and like is None:
        st.warning("No strong match in the archive; the closest passages are:", icon=":material/help:")
    for hit in response.hits:
        render_card(searcher, hit, list(hit.terms or []))
    if len(response.hits) >= params["k"] and params["k"] < MAX_K:
        st.button("Show more results", key="show-more", on_click=show_more, args=(params["k"],),
                  icon=":material/expand_more:", type="secondary")
    if like is None:
        watch_button(searcher, query, params)


def downloads(query: str, response: SearchResponse) -> None:
    """The shown results as CSV and JSON Lines (one row a passage, with its article's metadata)."""
    rows = [hit_row(hit) for hit in response.hits]
    stem = "archivist-" + ("-".join(query.split()[:6]) or "results")
    with st.container(horizontal=True, key="downloads"):
        for fmt, label, mime in (("csv", "Download CSV", "text/csv"), ("jsonl", "Download JSON Lines",
                                                                       "application/x-ndjson")):
            st.download_button(label, "".join(encoded(rows, fmt)), file_name=f"{safe_file_stem(stem)}.{fmt}",
                               mime=mime, key=f"download-{fmt}", type="tertiary", on_click="ignore",
                               icon=":material/download:",
                               help="These results; every match of a search: `python -m archivist export`")


def safe_file_stem(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:80]


def no_results(query: str, params: dict) -> None:
    """Say plainly that nothing matched and what would widen the search."""
    st.warning(md(f"No passages match “{query}” with the current settings."))
    tips = []
    if params["outlets"]:
        tips.append("search all outlets (clear the outlet filter)")
    if params.get("author"):
        tips.append("search every author (clear the author filter)")
    if params.get("languages"):
        tips.append("search every language (clear the language filter)")
    if params.get("entity"):
        tips.append("search every article (clear the Names filter)")
    if params["since"] or params["until"]:
        tips.append("widen the date range")
    if not params["include_undated"]:
        tips.append("include articles without a date")
    if params["mode"] == "keyword":
        tips.append("switch to Hybrid or Semantic mode, which match meaning, not just words")
    tips.append("use fewer or different words")
    st.markdown("Try to " + "; ".join(escape(t, newlines=False) for t in tips) + ".",
                unsafe_allow_html=True)
    filtered = params["outlets"] or params.get("author") or params.get("languages") or params.get("entity") or params["since"] or params["until"] or \
        not params["include_undated"]
    with st.container(horizontal=True):
        if params["mode"] == "keyword":
            st.button("Search in Hybrid mode", on_click=set_mode, args=("Hybrid",),
                      key="retry-hybrid")
        if filtered:
            st.button("Clear the filters", on_click=reset_filters, key="retry-unfiltered")


def empty_state(stats: dict) -> None:
    """What the archive holds, and three questions that run when clicked."""
    outlets = [o["outlet"] for o in stats.get("outlets", []) if o.get("outlet")]
    named = ", ".join(outlets[:4]) + (f" and {len(outlets) - 4} more" if len(outlets) > 4 else "")
    span = ""
    if stats.get("date_min"):
        span = f", dated {fmt_span(stats['date_min'], stats['date_max'])}"
        if stats.get("undated"):
            span += f" ({plural(stats['undated'], 'article')} without a date)"
    if not stats.get("articles"):
        st.info("The archive is empty. Put articles (.txt, .md, .html, .json, .jsonl) in the "
                "archive folder, then press Reindex in the sidebar.")
        return
    line = (f"The archive holds <b>{plural(stats['articles'], 'article')}</b>"
            + (f" from {escape(named, newlines=False)}" if named else "")
            + escape(span, newlines=False)
            + ". Ask a question in your own words; each answer is a passage with its sources.")
    st.markdown(f'<p class="ar-lead">{line}</p>', unsafe_allow_html=True)
    st.caption("Try one of these:")
    for number, question in enumerate(EXAMPLES):
        st.button(question, key=f"example-{number}", on_click=ask, args=(question,),
                  icon=":material/search:", type="secondary")
