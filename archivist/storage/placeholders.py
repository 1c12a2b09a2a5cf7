"""What lets one read statement serve both backends: its placeholder and its rows by column name.

SQLite takes `?` and gives `sqlite3.Row`; psycopg takes `%s` and gives tuples. The statements
that browse a build (an article, its passages and mentions, the stories, the counts) are written
once in the table modules with a `mark(n)` writing the n-th placeholder (as
`text_tables.filter_clause` does) and read their rows through `dict_rows`, so the PostgreSQL
searcher runs them over a generation's partitions instead of keeping copies of them.
"""

from __future__ import annotations

from collections.abc import Callable

Mark = Callable[[int], str]  # the placeholder of a statement's n-th parameter


def question_mark(_: int) -> str:
    """SQLite's placeholder."""
    return "?"


def percent_mark(_: int) -> str:
    """psycopg's positional placeholder."""
    return "%s"


def dict_rows(cursor) -> list[dict]:
    """The rows of an executed cursor as {column: value}, from either driver."""
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
