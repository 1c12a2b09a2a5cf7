"""The story tables (signatures, relations, stories, story_members): every statement over them.

`stories` decides which articles relate and how groups form; this module stores and reads them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from archivist.storage.database import rows_for_ids
from archivist.records import UNDATED, ArticleRef, Story, StoryMember


def put_signatures(connection: sqlite3.Connection, rows: Iterable[tuple[str, str, bytes]]) -> None:
    """Store (article id, exact-copy key, MinHash signature bytes)."""
    connection.executemany(
        "INSERT OR REPLACE INTO signatures(article_id, exact_key, minhash) VALUES (?, ?, ?)", rows)


def exact_copies(connection: sqlite3.Connection, articles: Sequence[str]) -> set[tuple[str, str]]:
    """(article, other) pairs with the same exact-copy key, for each of `articles`."""
    return {(r[0], r[1]) for r in rows_for_ids(
        connection, "SELECT n.article_id, o.article_id FROM signatures n JOIN signatures o "
        "ON o.exact_key = n.exact_key AND o.article_id != n.article_id WHERE n.article_id IN ({marks})",
        articles)}


def signatures(connection: sqlite3.Connection) -> list[tuple[str, bytes]]:
    """(article id, MinHash bytes) of every article."""
    return connection.execute("SELECT article_id, minhash FROM signatures").fetchall()


def put_relations(connection: sqlite3.Connection, relations: dict[tuple[str, str], str]) -> None:
    connection.executemany("INSERT OR REPLACE INTO relations(a, b, kind) VALUES (?, ?, ?)",
                           ((a, b, kind) for (a, b), kind in relations.items()))


def clear_relations(connection: sqlite3.Connection) -> None:
    """Forget every relation and signature (a change of story rules recomputes them all)."""
    connection.execute("DELETE FROM relations")
    connection.execute("DELETE FROM signatures")


def relations(connection: sqlite3.Connection) -> dict[tuple[str, str], str]:
    return {(a, b): kind for a, b, kind in connection.execute("SELECT a, b, kind FROM relations")}


def relation(connection: sqlite3.Connection, a: str, b: str) -> str | None:
    """The stored direct relation of two articles (kept under the smaller id first), or None."""
    key = (a, b) if a < b else (b, a)
    row = connection.execute("SELECT kind FROM relations WHERE a = ? AND b = ?", key).fetchone()
    return row[0] if row else None


def replace_groups(connection: sqlite3.Connection, groups: list[tuple[str, dict[str, str]]]) -> None:
    """Store the groups [(kind, {article id: its kind})] numbered from 1, replacing the old ones."""
    connection.execute("DELETE FROM story_members")
    connection.execute("DELETE FROM stories")
    for number, (kind, members) in enumerate(groups, start=1):
        connection.execute("INSERT INTO stories(id, kind) VALUES (?, ?)", (number, kind))
        connection.executemany("INSERT INTO story_members(story_id, article_id, kind) VALUES (?, ?, ?)",
                               ((number, article, how) for article, how in members.items()))


def kinds_in_shared_story(connection: sqlite3.Connection, a: str, b: str) -> tuple[str, str] | None:
    """Each article's kind in the story they both belong to, or None when they are not one story."""
    row = connection.execute(
        "SELECT x.kind, y.kind FROM story_members x JOIN story_members y ON y.story_id = x.story_id "
        "WHERE x.article_id = ? AND y.article_id = ?", (a, b)).fetchone()
    return (row[0], row[1]) if row else None


# Each story member with its story's kind: the rows `read_stories` reads, which a PostgreSQL
# generation's story_members partition holds as they are.
MEMBERS_WITH_KIND = ("(SELECT m.story_id, s.kind AS story_kind, m.article_id, m.kind "
                     "FROM story_members m JOIN stories s ON s.id = m.story_id)")


def read_stories(connection, members: str = MEMBERS_WITH_KIND, articles: str = "articles") -> list[Story]:
    """Every stored group with its members, earliest dated first. `members` and `articles` name
    where the rows are (a PostgreSQL generation's partitions too); the order is made here, in
    code-point order of the paths as SQLite compares them, not by a database's collation."""
    rows = connection.execute(
        "SELECT m.story_id, m.story_kind, m.kind, a.id, a.path, a.title, a.outlet, a.date, a.url "
        f"FROM {members} m JOIN {articles} a ON a.id = m.article_id").fetchall()
    stories: dict[int, Story] = {}
    for story_id, kind, how, *meta in sorted(rows, key=lambda r: (r[0], r[7] or UNDATED, r[4])):
        story = stories.setdefault(story_id, Story(story_id, kind, []))
        story.members.append(StoryMember(ArticleRef(*meta), how))
    return list(stories.values())
