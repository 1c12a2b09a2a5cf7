"""The copy table: passages of different articles that say the same thing (found at reindex).

Every statement over `copies` lives here; `copies.find_copies` decides which pairs are copies.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from archivist.storage.database import rows_for_ids
from archivist.storage.placeholders import Mark, question_mark


def insert(connection: sqlite3.Connection, pairs: Iterable[tuple[int, int, float]]) -> None:
    """Store (passage, other passage, similarity) pairs."""
    connection.executemany("INSERT OR REPLACE INTO copies(passage_id, other_id, similarity) VALUES (?, ?, ?)",
                           pairs)


def remove(connection: sqlite3.Connection, passage_ids: Sequence[int]) -> None:
    """Forget every pair that involves one of `passage_ids` (the table does not cascade)."""
    rows_for_ids(connection, "DELETE FROM copies WHERE passage_id IN ({marks})", passage_ids)
    rows_for_ids(connection, "DELETE FROM copies WHERE other_id IN ({marks})", passage_ids)


def clear(connection: sqlite3.Connection) -> None:
    connection.execute("DELETE FROM copies")


def copies_of(connection: sqlite3.Connection, passage_id: int) -> dict[int, float]:
    """{other passage: similarity} of one passage, closest first."""
    return dict(connection.execute(
        "SELECT other_id, similarity FROM copies WHERE passage_id = ? ORDER BY similarity DESC",
        (int(passage_id),)).fetchall())


def copies_of_article(connection: sqlite3.Connection, article_id: str, copies: str = "copies",
                      passages: str = "passages", mark: Mark = question_mark) -> set[int]:
    """Every passage that copies some passage of the article (from the named tables, with the
    driver's placeholder: a PostgreSQL generation's partitions too)."""
    return {int(r[0]) for r in connection.execute(
        f"SELECT other_id FROM {copies} WHERE passage_id IN (SELECT id FROM {passages} WHERE article_id = {mark(0)})",
        (article_id,)).fetchall()}


def shared_passages(connection: sqlite3.Connection, articles: Sequence[str], min_similarity: float
                    ) -> dict[tuple[str, str], int]:
    """{(article, other article): how many passages of the first have a copy in the second at
    `min_similarity` or more}, for every pair that involves one of `articles`."""
    connection.execute("CREATE TEMP TABLE IF NOT EXISTS new_articles(id TEXT PRIMARY KEY)")
    connection.execute("DELETE FROM new_articles")
    connection.executemany("INSERT INTO new_articles(id) VALUES (?)", ((a,) for a in articles))
    rows = connection.execute(
        "SELECT p.article_id, o.article_id, count(DISTINCT p.id) FROM copies c "
        "JOIN passages p ON p.id = c.passage_id JOIN passages o ON o.id = c.other_id "
        "WHERE c.similarity >= ? AND (p.article_id IN (SELECT id FROM new_articles) "
        "OR o.article_id IN (SELECT id FROM new_articles)) "
        "GROUP BY p.article_id, o.article_id", (min_similarity,)).fetchall()
    connection.execute("DROP TABLE new_articles")
    return {(own, other): count for own, other, count in rows}
