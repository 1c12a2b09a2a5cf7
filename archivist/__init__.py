"""Archivist: a searchable archive of news articles with semantic and keyword search.

The package is the core; `app.py` (Streamlit) and `python -m archivist` (CLI) are thin
front ends over `archivist.search`, `archivist.indexer` and `archivist.status`.
"""

__version__ = "0.1.0"
