"""The `mentions` table: each person, organisation and place an article names, where, and under
which key its spellings group. Rows go with their article (foreign key), so an unchanged article
keeps its mentions from build to build and only new or changed articles are read again."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from archivist.ingest.entities import Mention
from archivist.storage.database import rows_for_ids
from archivist.storage.placeholders import Mark, dict_rows, question_mark


def insert_mentions(connection: sqlite3.Connection, article_id: str, mentions: Iterable[Mention]) -> None:
    connection.executemany("INSERT INTO mentions(article_id, key, name, type, start, end) VALUES (?, ?, ?, ?, ?, ?)",
                           ((article_id, m.key, m.name, m.type, m.start, m.end) for m in mentions))


def entity_counts(connection: sqlite3.Connection, kind: str | None = None,
                  article_ids: Sequence[str] | None = None, mentions: str = "mentions",
                  mark: Mark = question_mark) -> list[dict]:
    """Each (key, type) with its commonest spelling and how many articles name it, most first;
    over `article_ids` only when given (the facets of a page of results). From the named table
    with the driver's placeholder (a PostgreSQL generation's partition too)."""
    select = f"SELECT key, type, name, article_id FROM {mentions} WHERE " + (f"type = {mark(0)} AND " if kind else "")
    kinds = [kind] if kind else []
    if article_ids is None:
        rows = connection.execute(select + "1 = 1", kinds).fetchall()
    else:
        rows = rows_for_ids(connection, select + "article_id IN ({marks})", list(article_ids), *kinds, mark=mark(0))
    return _counted(rows)


def _counted(rows: Iterable) -> list[dict]:
    articles: dict[tuple[str, str], set[str]] = {}
    spellings: dict[tuple[str, str], dict[str, int]] = {}
    for key, kind, name, article_id in rows:
        articles.setdefault((key, kind), set()).add(article_id)
        names = spellings.setdefault((key, kind), {})
        names[name] = names.get(name, 0) + 1
    out = [{"key": key, "type": kind, "name": max(spellings[(key, kind)].items(), key=lambda kv: (kv[1], kv[0]))[0],
            "articles": len(ids), "article_ids": ids} for (key, kind), ids in articles.items()]
    return sorted(out, key=lambda row: (-row["articles"], row["name"]))


def has_key(connection: sqlite3.Connection, key: str, mentions: str = "mentions", mark: Mark = question_mark) -> bool:
    return connection.execute(f"SELECT 1 FROM {mentions} WHERE key = {mark(0)} LIMIT 1", (key,)).fetchone() is not None


def mentions_of(connection, article_id: str, mentions: str = "mentions", mark: Mark = question_mark) -> list[dict]:
    """An article's mentions in reading order (the full-article view and GET /articles), from the
    named table (a PostgreSQL generation's partition too; "end" quoted, as PostgreSQL reserves it)."""
    return dict_rows(connection.execute(
        f'SELECT key, name, type, start, "end" FROM {mentions} WHERE article_id = {mark(0)} ORDER BY start',
        (article_id,)))
