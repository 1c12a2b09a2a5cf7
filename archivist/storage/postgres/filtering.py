"""The search filters on PostgreSQL: the embedded backend's own condition over one generation.

`text_tables.filter_clause` writes the condition over `articles a` for both backends; here its
parameters are named (psycopg cannot mix named and positional ones, and the bm25 statements name
theirs) and its entity table is the generation's partition. A filtered statement restricts
passages with `p.article_id IN (SELECT a.id ... WHERE condition)`, so the btree indexes on
outlet, date and language do the narrowing; the vector search gets the allowed passage ids as
the embedded FAISS search does, and pgvector's iterative scan keeps walking the graph until k
of them are found (`vectors.PgVectorIndex`).
"""

from __future__ import annotations

import numpy as np

from archivist.records import Filters
from archivist.storage.postgres.generations import partition
from archivist.storage.text_tables import filter_clause


def _named(n: int) -> str:
    return f"%(filter{n})s"


def passage_restriction(filters: Filters, generation: int) -> tuple[str, dict]:
    """(" AND p.article_id IN (...)", parameters) to append to a WHERE over passages `p`; ("", {})
    without filters."""
    if not filters.active:
        return "", {}
    clause, params = filter_clause(filters, _named, partition("mentions", generation))
    articles = partition("articles", generation)
    return (f" AND p.article_id IN (SELECT a.id FROM {articles} a WHERE {clause})",
            {f"filter{n}": value for n, value in enumerate(params)})


def allowed_passage_ids(connection, generation: int, filters: Filters) -> np.ndarray:
    """Ids of the passages whose articles pass `filters` (the vector search's allow list)."""
    restriction, params = passage_restriction(filters, generation)
    rows = connection.execute(
        f"SELECT p.id FROM {partition('passages', generation)} p WHERE true{restriction}", params).fetchall()
    connection.commit()
    return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
