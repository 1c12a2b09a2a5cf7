"""Storage: the index on disk (database, manifest, embedding cache, vector and keyword indexes,
and one module per table group). Nothing here decides what to store; build/ and query/ do."""
