"""Archivist: a searchable archive of news articles with semantic and keyword search.

The package is the core; `app.py` (Streamlit) and `python -m archivist` (CLI) are thin
front ends over `archivist.query.search` and `archivist.build.indexer`. The stages, in the order
data flows: ingest, model, storage, build, query (docs/ARCHITECTURE.md).
"""

__version__ = "0.1.0"
