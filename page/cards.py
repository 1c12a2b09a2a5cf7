"""One result card: headline, source line, relevance, the passage highlighted, its other
carriers, the full article and "More like this".

Every value from an article passes through page.highlight (HTML-escaped) before it reaches
`st.markdown(..., unsafe_allow_html=True)`; the only markup is the page's own."""

from __future__ import annotations

import html
import json
from urllib.parse import urlparse

import streamlit as st

from archivist.ingest.clutter import ASIDE_LABELS
from archivist.ingest.language import not_english_note
from archivist.query.citation import citation_json, plain_citation
from archivist.query.relevance import STRONG
from archivist.records import UNDATED, ArticleRef, Hit, Source
from archivist.query.search import Searcher
from page.display import fmt_date, safe_url
from page.highlight import escape, mark_html, passage_html
from page.state import more_like

RETRIEVER_LABELS = {"semantic": "#{} by meaning", "keyword": "#{} by words"}
# How a source relates to the card's article (Source.kind), as its badge says it.
KIND_LABELS = {"exact": "exact copy", "near": "near copy", "rewrite": "rewrite"}
KIND_HELP = {"exact": "The same article, word for word", "near": "The same article with small "
             "changes", "rewrite": "The same story, reworded"}


def source_line(article: ArticleRef) -> str:
    """ "Outlet · 3 Sep 2021 · file · link" as escaped HTML."""
    parts = [escape(article.outlet or "Unknown outlet", newlines=False),
             escape(fmt_date(article.date), newlines=False)]
    if article.place:
        parts.append(escape(article.place, newlines=False))
    if article.path:
        parts.append(f"<code>{escape(article.path, newlines=False)}</code>")
    note = not_english_note(article.language)
    if note:
        parts.append(f'<span class="ar-language">{escape(note, newlines=False)}</span>')
    url = safe_url(article.url)
    if url:
        host = urlparse(url).netloc
        parts.append(f'<a href="{html.escape(url, quote=True)}" target="_blank" '
                     f'rel="noopener noreferrer nofollow" title="{html.escape(url, quote=True)}">'
                     f"{escape(host, newlines=False)} ↗</a>")
    return " · ".join(parts)


def title_of(article: ArticleRef) -> str:
    return (article.title or "").strip() or "(untitled)"


def relevance_html(hit: Hit) -> str:
    """A small bar on the calibrated relevance scale (not relative to the best hit: a weak best
    hit looks weak), "strong" or "weak" beside it; the evidence and ranks in its tooltip."""
    relevance = hit.relevance if hit.relevance is not None else 0.0
    width = max(4, min(100, round(relevance * 100)))
    strong = relevance >= STRONG
    ranks = hit.ranks or {}
    why = ", ".join(RETRIEVER_LABELS.get(name, name + " #{}").format(rank)
                    for name, rank in sorted(ranks.items(), key=lambda item: item[1]))
    evidence = hit.evidence or {}
    tip = (f"Relevance {relevance:.2f} (a strong match from {STRONG:.1f}); meaning {evidence.get('cosine', 0):.2f}, "
           f"query words held {evidence.get('coverage', 0):.0%}" + (f"; ranked {why}" if why else ""))
    label = "strong match" if strong else "weak match"
    return (f'<span class="ar-relevance{"" if strong else " ar-weak-label"}" title="{html.escape(tip, quote=True)}">'
            f'{label}<span class="ar-meter"><span style="width:{width}%"></span></span></span>')


def render_card(searcher: Searcher, hit: Hit, terms: list[str]) -> None:
    """One result: source, highlighted passage, copies, full article and "More like this"
    (not over a PostgreSQL index, which refuses it). A weak match is drawn paler and has no best
    sentence marked (it answers nothing)."""
    article = hit.article
    best = hit.highlight
    weak = hit.relevance is not None and hit.relevance < STRONG
    pale = " ar-weak" if weak else ""
    with st.container(key=f"card-{hit.rank}", border=True):
        head, action = st.columns([4, 1], vertical_alignment="top", gap="small")
        head.markdown(
            f'<div class="ar-title{pale}"><span class="ar-rank">{hit.rank}.</span>'
            f"{escape(title_of(article), newlines=False)}</div>"
            f'<div class="ar-meta">{source_line(article)} · '
            + (f"{hit.page_label} · " if hit.page_label else "")
            + f"{relevance_html(hit)}</div>",
            unsafe_allow_html=True,
        )
        action.button("More like this", key=f"like-{hit.rank}", on_click=more_like,
                      args=(hit.passage_id, title_of(article)), type="tertiary",
                      icon=":material/manage_search:",
                      help="Search the archive with this passage instead of your question")
        with action.popover("Copy citation", icon=":material/format_quote:", type="tertiary"):
            citation_box(hit)
        aside = ASIDE_LABELS.get(hit.kind)
        st.markdown(
            (f'<div class="ar-aside">{escape(aside, newlines=False)}</div>' if aside else "")
            + f'<div class="ar-text{pale}">{passage_html(hit.passage, hit.start, best=best, terms=terms)}'
            "</div>",
            unsafe_allow_html=True,
        )
        if hit.more_passages:
            count = hit.more_in_article or len(hit.more_passages)
            with st.expander(f"{count} more passage{'s' if count != 1 else ''} in this article"):
                st.markdown("".join(f'<div class="ar-source-text">{mark_html(text, terms=terms)}</div>'
                                    for _, _, text in hit.more_passages), unsafe_allow_html=True)
        if hit.also_in:
            others = len(hit.also_in)
            with st.expander(f"Also carried by {others} other {'article' if others == 1 else 'articles'} "
                             f"({others + 1} sources in all)"):
                st.markdown(sources_html(hit, terms), unsafe_allow_html=True)
        with st.expander("Full article"):
            full_article(searcher, hit, terms)


def citation_box(hit: Hit) -> None:
    """The citation in a plain style and as JSON, each with its copy button (top right of the box)."""
    st.caption("Plain (copy with the button at the box's top right):")
    st.code(plain_citation(hit), language=None, wrap_lines=True)
    st.caption("JSON:")
    st.code(json.dumps(citation_json(hit), ensure_ascii=False, indent=1), language="json", wrap_lines=True)


def carriers(hit: Hit) -> list[tuple[ArticleRef, Source | None]]:
    """Every article carrying the hit's passage, earliest first: (article, Source or None).

    The core orders `also_in` by (date, headline), undated last; the card's own article (None
    for its Source) is slotted in by the same key, so the reader sees who had the passage first.
    """
    def when(article: ArticleRef) -> tuple[str, str]:
        return (article.date or UNDATED, title_of(article))

    rows: list[tuple[ArticleRef, Source | None]] = [(source.article, source) for source in hit.also_in]
    rows.append((hit.article, None))
    return sorted(rows, key=lambda row: (when(row[0]), row[1] is not None))


def badge_html(source: Source | None) -> str:
    """The coloured label of a source: "this article" (None), "exact copy", "near copy", "rewrite"."""
    if source is None:
        return '<span class="ar-badge ar-badge-own">this article</span>'
    kind = source.kind if source.kind in KIND_LABELS else "rewrite"
    tip = f"{KIND_HELP[kind]}; this passage {source.similarity:.0%} similar"
    return (f'<span class="ar-badge ar-badge-{kind}" title="{html.escape(tip, quote=True)}">'
            f"{KIND_LABELS[kind]}</span>")


def sources_html(hit: Hit, terms: list[str]) -> str:
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


def full_article(searcher: Searcher, hit: Hit, terms: list[str]) -> None:
    """The whole article with the passage highlighted where it stands."""
    article = searcher.article(hit.article.id)
    if article is None:
        st.write("This article is no longer in the index; press Reindex to bring the results "
                 "up to date.")
        return
    meta = source_line(ArticleRef(**{name: article[name] for name in ArticleRef.FIELDS}, place=article.get("place"),
                                  language=article.get("language")))
    if article.get("author"):
        meta = f"{escape(article['author'], newlines=False)} · {meta}"
    if article.get("extraction"):  # how it was read: the reader, OCR'd pages, pages without text
        meta += f" · read from: {escape(article['extraction'], newlines=False)}"
    anchor = f"ar-passage-{hit.rank}"
    body = mark_html(article.get("text") or "", passage=(hit.start, hit.end),
                     best=hit.highlight, terms=terms, anchor_id=anchor)
    st.markdown(
        f'<div class="ar-meta">{meta} · <a href="#{anchor}" target="_self">jump to the '
        f'passage ↓</a></div><div class="ar-article" tabindex="0" role="region" aria-label="Full article">{body}</div>',
        unsafe_allow_html=True,
    )
