"""Adding files from the page: drop files (or a .zip), optionally give their outlet, date and URL,
and they are saved under the archive (archivist/build/uploads.py checks names, types, sizes and
same-name files) and indexed at once, with the reindex's progress bar.

A file whose name is already in the archive with other content is not replaced until the user
ticks "Replace" for it and adds again: a reporter's earlier copy is never lost to a click.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from archivist.build.uploads import save_uploads, set_metadata
from archivist.errors import BadInput
from archivist.ingest.dates import parse_user_date
from archivist.query.search import Searcher
from page.highlight import escape_markdown as md
from page.loading import build_index

MAX_LISTED = 20  # new articles named after an upload


def show_new_articles(searcher: Searcher, rels: list[str]) -> None:
    """The articles the added files gave, each with its outlet, date and file, to check them."""
    articles = searcher.articles_from_files(rels)
    lines = [f"- **{md(a.title)}** · {md(a.outlet or 'outlet unknown')} · {a.date or 'undated'} · `{a.path}`"
             for a in articles[:MAX_LISTED]]
    if len(articles) > MAX_LISTED:
        lines.append(f"- … and {len(articles) - MAX_LISTED:,} more")
    st.sidebar.markdown(f"New articles ({len(articles):,}):\n" + "\n".join(lines) if articles else
                        "No article could be read from them; the reindex report says why.")


def upload_panel(archive: Path, index: Path, searcher: Searcher | None = None, url: str | None = None) -> None:
    """The sidebar's "Add files" panel (indexing into the PostgreSQL index at `url` when given)."""
    sb = st.sidebar
    round_ = st.session_state.get("upload_round", 0)  # a new uploader (emptied) after each add
    added = st.session_state.get("last_added")
    if added:  # outside the panel, which folds after a rerun
        sb.success(md(f"Added and indexed: {', '.join(added)}"))
        if searcher is not None:
            show_new_articles(searcher, added)
    with sb.expander("Add files to the archive", expanded=bool(st.session_state.get("upload_conflicts"))):
        files = st.file_uploader("PDF, Word, e-mail, web pages, feeds, text, or a .zip of them",
                                 accept_multiple_files=True, key=f"upload-{round_}")
        outlet = st.text_input("Outlet (optional)", key=f"upload-outlet-{round_}")
        date = st.text_input("Date, YYYY-MM-DD (optional)", key=f"upload-date-{round_}")
        url = st.text_input("URL (optional)", key=f"upload-url-{round_}")
        conflicts = st.session_state.get("upload_conflicts") or []
        replace = False
        if conflicts:
            st.warning(md(f"Already in the archive with different content: {', '.join(conflicts)}. "
                          "Tick Replace and add again to overwrite, or rename the file."))
            replace = st.checkbox("Replace " + ("it" if len(conflicts) == 1 else f"these {len(conflicts)} files"),
                                  key=f"upload-replace-{round_}")
        if not st.button("Add to the archive", key=f"upload-add-{round_}", disabled=not files):
            return
        try:
            iso_date = parse_user_date(date, "The date")
        except BadInput as error:
            st.error(md(str(error)))
            return
        result = save_uploads(archive, [(f.name, f.getvalue()) for f in files],
                              replace=set(conflicts) if replace else ())
        set_metadata(archive, result.saved, {"outlet": outlet, "date": iso_date or "", "url": url})
        for refused in result.refused:
            st.error(md(f"Not added {refused.path}: {refused.reason}"))
        st.session_state.upload_conflicts = result.conflicts
        if result.unchanged:
            st.info(md(f"Already in the archive, unchanged: {', '.join(result.unchanged)}"))
        if not result.saved:
            if result.conflicts:
                st.rerun()  # show the Replace choice
            return
    summary = build_index(archive, index, sb, f"Indexing {len(result.saved)} new file"
                          f"{'s' if len(result.saved) != 1 else ''}…", url)
    if summary is not None:
        st.session_state.reindex_summary = summary
        st.session_state.last_added = result.saved
        st.session_state.upload_round = round_ + 1
        st.rerun()

