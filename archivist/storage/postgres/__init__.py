"""The server index backend: an archive's index in PostgreSQL with pgvector (issue 19, first part).

What exists: versioned schema migrations (schema.py), build generations that readers switch to
in one transaction (generations.py), copying a published embedded build in without
re-embedding (archivist/build/publish_postgres.py) and vector search on pgvector's HNSW with
filters that lose no results (vectors.py). Searching it, its stats, stories and articles, and
the read side of the API run through query/postgres_search.py; the page on it is not built yet.
"""
