"""A list of names searched at once on the page: paste one a line or upload a .txt or .csv (one
column), and get a sortable table of each line's matching articles, best hit and dates, each row
a link that opens its search, downloadable as CSV. The work is archivist.query.batch's."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from archivist.errors import ArchivistError
from archivist.query.batch import COLUMNS, read_lines, summarise
from archivist.query.export import encoded
from archivist.query.search import FILTER_NAMES, Searcher
from page.highlight import escape_markdown as md
from page.state import MODES


def batch_panel(searcher: Searcher, params: dict) -> None:
    """The "Search a list of names" expander under the search box."""
    with st.expander("Search a list of names", icon=":material/list:"):
        pasted = st.text_area("Names or queries, one a line", key="batch-text", height=120,
                              placeholder="Ahmad Massoud\nAmrullah Saleh\n\"National Resistance Front\"")
        upload = st.file_uploader("…or a .txt or .csv file", type=["txt", "csv"], key="batch-file")
        column = None
        if upload is not None and upload.name.lower().endswith(".csv"):
            column = st.text_input("Column holding the names", key="batch-column", value="name")
        mode = st.radio("Match", ("Keyword", "Hybrid"), key="batch-mode", horizontal=True,
                        help="Keyword counts every article holding the words (no cap); Hybrid counts "
                             "strong matches by meaning among the 200 best articles (about).")
        if not st.button("Search the list", key="batch-run", type="primary"):
            return
        text = upload.getvalue().decode("utf-8", errors="replace") if upload is not None else pasted
        filters = {name: params.get(name) for name in FILTER_NAMES}
        try:
            lines = read_lines(text or "", column)
            if not lines:
                st.warning("The list is empty; paste names one a line, or upload a file.")
                return
            with st.spinner(f"Searching {len(lines):,} lines…"):
                rows = list(summarise(searcher, lines, MODES[mode], **filters))
        except ArchivistError as error:
            st.warning(md(str(error)))
            return
        show_table(rows, mode)


def show_table(rows: list[dict], mode: str) -> None:
    found = sum(1 for r in rows if r["matching_articles"])
    st.caption(f"{found:,} of {len(rows):,} lines match · click a column to sort · “open” runs that search")
    table = [{"open": "?" + urlencode({"q": r["query"], "mode": mode}), **r} for r in rows]
    st.dataframe(table, key="batch-table", hide_index=True, width="stretch",
                 column_order=["open", "query", "matching_articles", "best_title", "best_date", "first_date",
                               "last_date", "error"],
                 column_config={"open": st.column_config.LinkColumn("Open", display_text="open"),
                                "query": "Line", "matching_articles": st.column_config.NumberColumn("Articles"),
                                "best_title": "Best hit", "best_date": "Its date", "first_date": "First",
                                "last_date": "Last", "error": "Problem"})
    st.download_button("Download the table (CSV)", "".join(encoded(rows, "csv", COLUMNS)), file_name="archivist-list.csv",
                       mime="text/csv", key="batch-download", on_click="ignore", icon=":material/download:")

