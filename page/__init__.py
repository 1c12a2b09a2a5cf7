"""Archivist's Streamlit page, beside the core: `app.py` is its entry point.

The page reads the user's intent from widgets (bound to the URL), calls `archivist.query.search` (and
`archivist.build.indexer` to build), and renders. The core never imports Streamlit or Altair.
"""
