"""People, organisations and places of the current results, as facets: click one to narrow the
search to the articles naming it (the sidebar's "Names" filter, in the URL), and clean up the
names (merge two spellings, hide a wrong one; the choice is kept beside the index and survives
reindexing). Over a PostgreSQL index the names are read with the clean-ups published with it
and those made on the database (kept there, so every page reading it sees them)."""

from __future__ import annotations

import streamlit as st

from archivist.errors import ArchivistError
from archivist.query.search import SearchResponse, Searcher
from page.highlight import escape_markdown as md
from page.state import clear_like

TYPE_LABELS = {"person": "People", "org": "Organisations", "place": "Places"}
PER_TYPE = 6  # facets shown of each type


def entity_facets(searcher: Searcher, response: SearchResponse) -> None:
    """The names the shown results' articles mention most, by type, each a button that filters."""
    names = searcher.entity_names()
    try:
        listing = names.listing(article_ids=sorted({h.article.id for h in response.hits}))
    except ArchivistError as error:
        st.caption(md(str(error)))
        return
    if not listing:
        return
    with st.container(key="facets"):
        for kind, label in TYPE_LABELS.items():
            rows = [row for row in listing if row["type"] == kind][:PER_TYPE]
            if not rows:
                continue
            with st.container(horizontal=True, key=f"facets-{kind}", vertical_alignment="center", gap="small"):
                st.markdown(f'<span class="ar-facet-label">{label}:</span>', unsafe_allow_html=True, width="content")
                for row in rows:
                    st.button(f"{row['name']} · {row['articles']}", key=f"facet-{kind}-{row['key']}",
                              type="tertiary", on_click=filter_by, args=(row["name"],),
                              help=f"Only articles naming {row['name']} ({row['articles']} of these results' articles)")
        with st.popover("Clean up names", icon=":material/edit:", type="tertiary"):
            clean_up(names, listing)
    message = st.session_state.pop("facet_message", None)
    if message:
        st.success(md(message))


def filter_by(name: str) -> None:
    """Callback: narrow the search to articles naming `name`."""
    st.session_state.entity = name
    clear_like()


def clean_up(names, listing: list[dict]) -> None:
    """Merge two spellings of one name, or hide a wrong one; undone with Restore."""
    options = [row["name"] for row in listing]
    chosen = st.selectbox("Name", options, key="cleanup-name")
    action = st.radio("Action", ("Merge into", "Hide"), key="cleanup-action", horizontal=True)
    into = None
    if action == "Merge into":
        into = st.selectbox("Into", [o for o in options if o != chosen], key="cleanup-into",
                            help="From now on the first name is read as this one (search, facets, counts)")
    if st.button("Apply", key="cleanup-apply", type="primary"):
        try:
            if action == "Hide":
                names.hide(chosen)
                st.session_state.facet_message = f"“{chosen}” is hidden; `archivist entities --restore` brings it back."
            elif into:
                names.merge(chosen, into)
                st.session_state.facet_message = f"“{chosen}” is now read as “{into}”."
        except ArchivistError as error:
            st.session_state.facet_message = str(error)
        st.rerun()
