"""Archivist's Streamlit page, beside the core: `app.py` is its entry point.

The page reads the user's intent from widgets (bound to the URL), calls `archivist.search` (and
`archivist.indexer` to build), and renders. The core never imports Streamlit or Altair.
"""
