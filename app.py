"""Archivist's Streamlit page: ask a question, read the answer in context, see every source.

The page holds no search logic: it reads the user's intent from widgets (bound to the URL so a
search can be bookmarked), calls `archivist.search` / `archivist.indexer`, and renders. Every
value that comes from an article passes through `archivist.highlight` (HTML-escaped) before it
reaches `st.markdown(..., unsafe_allow_html=True)`; the only markup is the page's own.

Run it with `streamlit run app.py`; ARCHIVIST_ARCHIVE / ARCHIVIST_INDEX choose the folders.
"""

from __future__ import annotations

import os

# The model ships as a package; never let a library reach for the model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import datetime as dt  # noqa: E402
import functools  # noqa: E402
import html  # noqa: E402
import logging  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, MutableMapping  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, NoReturn  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

import streamlit as st  # noqa: E402

from archivist import config  # noqa: E402
from archivist.display import dates_label, fmt_date, fmt_span, fmt_timestamp, parse_date, plural, safe_url  # noqa: E402
from archivist.embedding import Embedder  # noqa: E402
from archivist.errors import ArchivistError, BadInput, IndexBusy, IndexMissing  # noqa: E402
from archivist.highlight import escape, mark_html, passage_html  # noqa: E402
from archivist.highlight import escape_markdown as md  # noqa: E402
from archivist.search import Searcher, current_build_id  # noqa: E402
from archivist.timeline import Period, matching_articles, selected_period, timeline_chart, timeline_of  # noqa: E402

log = logging.getLogger("archivist.app")
if not log.handlers:  # the script reruns on every interaction; attach the handler once
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False

# The radio's labels are what the URL carries (?mode=Keyword); the core wants lowercase names.
MODES = {"Hybrid": "hybrid", "Semantic": "semantic", "Keyword": "keyword"}
MODE_HELP = (
    "Semantic finds passages by meaning, even when they use other words. Keyword finds the "
    "words of the question. Hybrid (recommended) combines both."
)
DEFAULT_K = 10
EXAMPLES = (
    "who supported the Northern Alliance",
    "what does the National Resistance Front ask of the West",
    "how many displaced people are sheltering in Panjshir",
)
STAGE_LABELS = {"reading": "Reading the archive", "splitting": "Splitting articles into passages",
                "embedding": "Embedding passages", "writing": "Writing the index",
                "vectors": "Building the vector index", "copies": "Finding copied passages"}
RETRIEVER_LABELS = {"semantic": "#{} by meaning", "keyword": "#{} by words"}
# How a source relates to the card's article (Source.kind), as its badge says it.
KIND_LABELS = {"exact": "exact copy", "near": "near copy", "rewrite": "rewrite"}
KIND_HELP = {"exact": "The same article, word for word", "near": "The same article with small "
             "changes", "rewrite": "The same story, reworded"}
# The timeline counts the articles of this many top passages, searched without date filters.
TIMELINE_K = 100

CSS = """
<style>
.block-container { max-width: 58rem; padding-top: 2.2rem; }
.ar-lead { color: #444; margin: 0 0 .4rem 0; }
.ar-title { font-size: 1.18rem; font-weight: 650; line-height: 1.35; margin: 0 0 .15rem 0; }
.ar-rank { color: #888; font-weight: 500; margin-right: .35rem; }
.ar-meta { color: #5b5b5b; font-size: .86rem; line-height: 1.5; }
.ar-meta code { font-size: .8rem; color: #5b5b5b; background: #f3f3f3; padding: 0 .25rem; }
.ar-meta a { color: #1d5fbf; }
.ar-text { font-size: 1.0rem; line-height: 1.62; border-left: 3px solid #d6dbe3;
           padding: .1rem 0 .1rem .85rem; margin: .55rem 0 .35rem 0; }
.ar-article { font-size: .97rem; line-height: 1.62; max-height: 30rem; overflow-y: auto;
              padding-right: .6rem; }
mark.ar-best { background: #ffe58a; color: inherit; padding: .05em .1em; border-radius: 2px; }
mark.ar-passage { background: #e3effd; color: inherit; padding: .05em 0; }
mark.ar-passage mark.ar-best { background: #ffe58a; }
b.ar-term { font-weight: 700; text-decoration: underline; text-decoration-color: #c98a00;
            text-decoration-thickness: 2px; text-underline-offset: 2px; }
.ar-meter { display: inline-block; width: 4.2rem; height: .42rem; background: #e6e8ec;
            border-radius: 3px; vertical-align: middle; margin: 0 .3rem 0 .1rem; overflow: hidden; }
.ar-meter > span { display: block; height: 100%; background: #3a7bd5; }
ol.ar-sources { list-style: none; margin: 0; padding: 0; }
ol.ar-sources > li.ar-source { margin: 0; padding: .6rem 0 .65rem 0;
                               border-top: 1px solid #e6e8ec; }
ol.ar-sources > li.ar-source:first-child { border-top: none; padding-top: 0; }
.ar-source-head { font-size: .95rem; line-height: 1.4; }
.ar-source-title { font-weight: 600; }
.ar-source-text { font-size: .93rem; line-height: 1.55; color: #333; margin: .3rem 0 0 0;
                  border-left: 3px solid #e6e8ec; padding-left: .7rem; }
.ar-badge { display: inline-block; font-size: .72rem; font-weight: 650; line-height: 1.5;
            padding: 0 .45rem; border-radius: .7rem; margin-right: .4rem; vertical-align: 1px;
            white-space: nowrap; }
.ar-badge-own { background: #e9ecf1; color: #2b2f36; }
.ar-badge-exact { background: #dff3e4; color: #1b6332; }
.ar-badge-near { background: #e3ecfb; color: #1d4f9a; }
.ar-badge-rewrite { background: #fcefd9; color: #84500a; }
.ar-status { font-size: .86rem; line-height: 1.55; color: #333; }
</style>
"""


# ---------------------------------------------------------------------------------------------
# Loading the index (cached per build, so a reindex is picked up without a restart)
# ---------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def shared_embedder() -> Embedder:
    """One model per process, shared by searching and reindexing: loading it takes seconds."""
    return Embedder()


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


def build_index(archive: Path, index: Path, where: Any, label: str) -> str | None:
    """Run an incremental reindex with a progress bar in `where`; return a summary or None."""
    from archivist.indexer import reindex  # imported here: only needed when building

    lock = build_lock()
    with where.status(label, expanded=True) as status:
        if not lock.acquire(blocking=False):
            st.write("Another window is updating the index; waiting for it to finish…")
            lock.acquire()
        try:
            bar = st.progress(0.0, text="Reading the archive…")
            report = reindex(archive, index, progress=_progress_updater(bar),
                             embedder=shared_embedder())
        except ArchivistError as error:
            status.update(label="The index was not updated", state="error")
            st.write(md(str(error)))
            return None
        finally:
            lock.release()
        summary = _reindex_summary(report)
        bar.progress(1.0, text="Done")
        status.update(label=summary, state="complete", expanded=False)
        for skipped in report.skipped[:20]:
            st.write(md(f"Skipped {skipped.path}: {skipped.reason}"))
    return summary


def _progress_updater(bar: Any) -> Callable[[str, int, int], None]:
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


def _reindex_summary(report: Any) -> str:
    """One line a person can read: what changed, how long it took."""
    parts = [f"{report.articles:,} articles indexed in {report.seconds:.1f} s"]
    changes = [f"{n:,} {what}" for n, what in ((report.added, "added"),
               (report.updated, "updated"), (report.removed, "removed")) if n]
    parts.append(", ".join(changes) if changes else "no changes")
    if report.skipped:
        parts.append(f"{len(report.skipped):,} files skipped")
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


# ---------------------------------------------------------------------------------------------
# Page-only helpers (the formatting rules live in archivist/display.py)
# ---------------------------------------------------------------------------------------------


def date_bounds(stats: dict) -> tuple[dt.date | None, dt.date | None]:
    """The first and last article date of the index: the range the date inputs accept."""
    return parse_date(stats.get("date_min")), parse_date(stats.get("date_max"))


def source_line(article: dict) -> str:
    """ "Outlet · 3 Sep 2021 · file · link" as escaped HTML."""
    parts = [escape(article.get("outlet") or "Unknown outlet", newlines=False),
             escape(fmt_date(article.get("date")), newlines=False)]
    if article.get("path"):
        parts.append(f"<code>{escape(article['path'], newlines=False)}</code>")
    url = safe_url(article.get("url"))
    if url:
        host = urlparse(url).netloc
        parts.append(f'<a href="{html.escape(url, quote=True)}" target="_blank" '
                     f'rel="noopener noreferrer nofollow" title="{html.escape(url, quote=True)}">'
                     f"{escape(host, newlines=False)} ↗</a>")
    return " · ".join(parts)


def title_of(article: dict) -> str:
    return (article.get("title") or "").strip() or "(untitled)"


def relevance_html(hit: Any, top_score: float) -> str:
    """A small bar (score relative to the best hit); exact score and ranks in its tooltip."""
    share = hit.score / top_score if top_score > 0 else 0.0
    width = max(4, min(100, round(share * 100)))
    ranks = hit.ranks or {}
    why = ", ".join(RETRIEVER_LABELS.get(name, name + " #{}").format(rank)
                    for name, rank in sorted(ranks.items(), key=lambda item: item[1]))
    tip = f"Score {hit.score:.4f}, {width}% of the best match" + (f"; ranked {why}" if why else "")
    return (f'<span class="ar-relevance" title="{html.escape(tip, quote=True)}">relevance'
            f'<span class="ar-meter"><span style="width:{width}%"></span></span></span>')


# ---------------------------------------------------------------------------------------------
# Page sections
# ---------------------------------------------------------------------------------------------


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


def reset_filters() -> None:
    """Callback: every filter back to 'the whole archive'."""
    st.session_state.outlet = []
    clear_dates()
    st.session_state.undated = True


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


def search_box() -> str:
    """The one search box; Enter (or leaving the box) runs the search."""
    st.text_input("Search the archive", key="q", bind="query-params",
                  placeholder="Ask a question, e.g. who supported the Northern Alliance",
                  on_change=clear_like, label_visibility="collapsed")
    return (st.session_state.get("q") or "").strip()


def clear_like() -> None:
    """A new question replaces a "More like this" search."""
    st.session_state.like = None
    st.session_state.like_label = None


def ask(question: str) -> None:
    """Callback for the example buttons: put the question in the box and search."""
    st.session_state.q = question
    clear_like()


def more_like(passage_id: int, label: str) -> None:
    """Callback for "More like this": search with that passage's vector."""
    st.session_state.like = passage_id
    st.session_state.like_label = label


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


def no_results(query: str, params: dict) -> None:
    """Say plainly that nothing matched and what would widen the search."""
    st.warning(md(f"No passages match “{query}” with the current settings."))
    tips = []
    if params["outlets"]:
        tips.append("search all outlets (clear the outlet filter)")
    if params["since"] or params["until"]:
        tips.append("widen the date range")
    if not params["include_undated"]:
        tips.append("include articles without a date")
    if params["mode"] == "keyword":
        tips.append("switch to Hybrid or Semantic mode, which match meaning, not just words")
    tips.append("use fewer or different words")
    st.markdown("Try to " + "; ".join(escape(t, newlines=False) for t in tips) + ".",
                unsafe_allow_html=True)
    filtered = params["outlets"] or params["since"] or params["until"] or \
        not params["include_undated"]
    with st.container(horizontal=True):
        if params["mode"] == "keyword":
            st.button("Search in Hybrid mode", on_click=set_mode, args=("Hybrid",),
                      key="retry-hybrid")
        if filtered:
            st.button("Clear the filters", on_click=reset_filters, key="retry-unfiltered")


def set_mode(label: str) -> None:
    """Callback: switch the search mode (a label of MODES)."""
    st.session_state.mode = label


def render_card(searcher: Searcher, hit: Any, top_score: float, terms: list[str]) -> None:
    """One result: source, highlighted passage, copies, full article and "More like this"."""
    article = hit.article
    best = hit.highlight
    with st.container(key=f"card-{hit.rank}", border=True):
        head, action = st.columns([4, 1], vertical_alignment="top", gap="small")
        head.markdown(
            f'<div class="ar-title"><span class="ar-rank">{hit.rank}.</span>'
            f"{escape(title_of(article), newlines=False)}</div>"
            f'<div class="ar-meta">{source_line(article)} · '
            f"{relevance_html(hit, top_score)}</div>",
            unsafe_allow_html=True,
        )
        action.button("More like this", key=f"like-{hit.rank}", on_click=more_like,
                      args=(hit.passage_id, title_of(article)), type="tertiary",
                      icon=":material/manage_search:",
                      help="Search the archive with this passage instead of your question")
        st.markdown(
            f'<div class="ar-text">{passage_html(hit.passage, hit.start, best=best, terms=terms)}'
            "</div>",
            unsafe_allow_html=True,
        )
        if hit.also_in:
            with st.expander(f"Carried by {len(hit.also_in) + 1} sources"):
                st.markdown(sources_html(hit, terms), unsafe_allow_html=True)
        with st.expander("Full article"):
            full_article(searcher, hit, terms)


def carriers(hit: Any) -> list[tuple[dict, Any]]:
    """Every article carrying the hit's passage, earliest first: (article, Source or None).

    The core orders `also_in` by (date, headline), undated last; the card's own article (None
    for its Source) is slotted in by the same key, so the reader sees who had the passage first.
    """
    def when(article: dict) -> tuple[str, str]:
        return (article.get("date") or "9999", title_of(article))

    rows: list[tuple[dict, Any]] = [(source.article, source) for source in hit.also_in]
    rows.append((hit.article, None))
    return sorted(rows, key=lambda row: (when(row[0]), row[1] is not None))


def badge_html(source: Any | None) -> str:
    """The coloured label of a source: "this article" (None), "exact copy", "near copy", "rewrite"."""
    if source is None:
        return '<span class="ar-badge ar-badge-own">this article</span>'
    kind = source.kind if source.kind in KIND_LABELS else "rewrite"
    tip = f"{KIND_HELP[kind]}; this passage {source.similarity:.0%} similar"
    return (f'<span class="ar-badge ar-badge-{kind}" title="{html.escape(tip, quote=True)}">'
            f"{KIND_LABELS[kind]}</span>")


def sources_html(hit: Any, terms: list[str]) -> str:
    """The "Carried by" list: per article its badge, headline, source line and own wording.

    The card's own wording is the passage right above the list, so it is not repeated.
    """
    items = []
    for article, source in carriers(hit):
        parts = [f'<div class="ar-source-head">{badge_html(source)}<span class="ar-source-title">'
                 f"{escape(title_of(article), newlines=False)}</span></div>",
                 f'<div class="ar-meta">{source_line(article)}</div>']
        if source is not None:
            parts.append(f'<div class="ar-source-text">{mark_html(source.passage, terms=terms)}'
                         "</div>")
        items.append(f'<li class="ar-source">{"".join(parts)}</li>')
    return f'<ol class="ar-sources">{"".join(items)}</ol>'


def full_article(searcher: Searcher, hit: Any, terms: list[str]) -> None:
    """The whole article with the passage highlighted where it stands."""
    article = searcher.article(hit.article["id"])
    if article is None:
        st.write("This article is no longer in the index; press Reindex to bring the results "
                 "up to date.")
        return
    meta = source_line(article)
    if article.get("author"):
        meta = f"{escape(article['author'], newlines=False)} · {meta}"
    anchor = f"ar-passage-{hit.rank}"
    body = mark_html(article.get("text") or "", passage=(hit.start, hit.end),
                     best=hit.highlight, terms=terms, anchor_id=anchor)
    st.markdown(
        f'<div class="ar-meta">{meta} · <a href="#{anchor}" target="_self">jump to the '
        f'passage ↓</a></div><div class="ar-article">{body}</div>',
        unsafe_allow_html=True,
    )


# ---------------------------------------------------------------------------------------------
# Timeline: when the articles that match the question were published
# ---------------------------------------------------------------------------------------------


def run_search(searcher: Searcher, query: str, like: int | None, params: dict,
               highlight: bool = False, vector: Any = None) -> Any:
    """The question's search, or "More like this" (which has no mode) when a passage is chosen;
    `vector` is the question's embedding when an earlier search of this rerun made it."""
    if like is not None:
        filters = {name: value for name, value in params.items() if name != "mode"}
        return searcher.more_like_passage(int(like), **filters)
    return searcher.search(query, highlight=highlight, vector=vector, **params)


@st.cache_data(max_entries=64, show_spinner=False)
def wide_matches(_searcher: Searcher, build_id: str, query: str, like: int | None, mode: str,
                 outlets: tuple[str, ...], _vector: Any = None) -> dict[str, str | None]:
    """The articles of the top TIMELINE_K passages, searched with no date filter at all.

    The chart must show the whole spread of the question even while the results are narrowed
    to one period, so the From/To filters are left out; cached per build and question so that
    clicking a bar (a rerun) does not search again.
    """
    params = {"k": TIMELINE_K, "mode": mode, "outlets": list(outlets) or None}
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


def clear_dates(state: MutableMapping[str, Any] = st.session_state) -> None:
    """Callback: From/To back to open, and undated articles back if the timeline hid them."""
    state["since"] = state["until"] = None
    if state.get("undated_by_timeline"):
        state["undated"] = True
    state["undated_by_timeline"] = False


def timeline(searcher: Searcher, query: str, like: int | None, params: dict,
             bounds: tuple[dt.date | None, dt.date | None], vector: Any = None) -> None:
    """The timeline of the question's matching articles, with a way back to all dates."""
    started = time.perf_counter()
    try:
        found = wide_matches(searcher, searcher.build_id, query, like, params["mode"],
                             tuple(params["outlets"] or ()), vector)
    except ArchivistError as error:  # the results answer on their own; the chart is extra
        log.warning("no timeline for %r: %s", query, error)
        return
    log.info("timeline for %r: %d articles in %.0f ms", query, len(found),
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
    log.info("query %r: %d hits, core %.0f ms, call %.0f ms", query, len(response.hits),
             response.took_ms, elapsed)
    if like is not None:
        # After a reload only the id is known; the core names the passage's article in `query`.
        label = (st.session_state.get("like_label")
                 or response.query.removeprefix("more like: ") or "the chosen passage")
        st.markdown(f"Passages like the one from <i>{escape(label, newlines=False)}</i>",
                    unsafe_allow_html=True)
        st.button("Back to the results for your question", on_click=clear_like,
                  icon=":material/arrow_back:", type="tertiary")
    # Before "no results": a period with no match must still offer the other periods.
    timeline(searcher, query, like, params, bounds, response.vector)
    if not response.hits:
        no_results(query if like is None else "this passage", params)
        return
    articles = {h.article.get("id") for h in response.hits}
    st.caption(f"{plural(len(response.hits), 'passage')} from "
               f"{plural(len(articles), 'article')} · {response.mode.capitalize()} search · "
               f"{response.took_ms:.0f} ms")
    top = max(h.score for h in response.hits)
    for hit in response.hits:
        render_card(searcher, hit, top, list(hit.terms or []))


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


def main() -> None:
    """Draw the page once (Streamlit reruns this on every interaction)."""
    started = time.perf_counter()
    # No page_icon: a Material or emoji icon makes the browser fetch it from an outside CDN.
    st.set_page_config(page_title="Archivist", layout="wide", initial_sidebar_state=330)
    st.markdown(CSS, unsafe_allow_html=True)
    archive, index = config.archive_dir(), config.index_dir()
    st.title("Archivist", anchor=False)
    searcher = open_index(archive, index)
    stats = searcher.stats()
    restore_like_from_url()
    params = sidebar(stats, archive, index)
    query = search_box()
    if query or st.session_state.get("like") is not None:
        results(searcher, query, params, date_bounds(stats))
        log.info("page with results drawn in %.0f ms", (time.perf_counter() - started) * 1000)
    else:
        empty_state(stats)
    save_like_to_url()


if __name__ == "__main__":  # Streamlit runs the page as __main__; tests import its helpers
    try:
        main()
    except Exception:  # the last line of defence: a person never sees a traceback
        log.exception("unexpected error while drawing the page")
        st.error("Something went wrong while drawing the page. The details are in the server's "
                 "log; reloading the page usually helps, and Reindex in the sidebar fixes a "
                 "damaged index.")
