"""The text tables (articles, passages, sentences): every statement that writes or reads them.

The indexer writes through here, search and stories read through here, and filters become SQL
only here (`filter_clause`), so no other module composes SQL over these tables.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
from collections.abc import Iterable, Sequence

import numpy as np

from archivist.storage.database import rows_for_ids
from archivist.storage.placeholders import Mark, dict_rows, question_mark
from archivist.records import UNDATED, UNKNOWN_LANGUAGE, Article, ArticleRef, Chunk, Filters, Passage


def _passage_select(passages: str = "passages", articles: str = "articles") -> str:
    """A passage with the article columns of its ArticleRef; the tables are named so a PostgreSQL
    generation's partitions answer with the same statement."""
    return ("SELECT p.id, p.start, p.end, p.kind, substr(a.text, p.start + 1, p.end - p.start) AS text, "
            "a.id AS article_id, a.path, a.title, a.outlet, a.date, a.url, a.place, a.language, a.author, a.pages "
            f"FROM {passages} p JOIN {articles} a ON a.id = p.article_id ")


_PASSAGE_SELECT = _passage_select()


def article_ref(row: sqlite3.Row | dict) -> ArticleRef:
    """The ArticleRef of a row holding the article's columns (`article_id` or `id`)."""
    keys = row.keys()
    return ArticleRef(id=row["article_id"] if "article_id" in keys else row["id"], path=row["path"],
                      title=row["title"], outlet=row["outlet"], date=row["date"], url=row["url"],
                      place=row["place"] if "place" in keys else None,
                      language=row["language"] if "language" in keys else None,
                      author=row["author"] if "author" in keys else None)


# ---------------------------------------------------------------- writes (the indexer)

def article_hashes(connection: sqlite3.Connection) -> dict[str, str]:
    """{article id: sha256 of its content} of every stored article: what a reindex diffs against."""
    return dict(connection.execute("SELECT id, sha256 FROM articles").fetchall())


def insert_articles(connection: sqlite3.Connection, articles: Iterable[Article]) -> None:
    connection.executemany(
        "INSERT INTO articles(id, path, title, outlet, date, url, author, text, sha256, body_start, place, "
        "language, pages, extraction) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((a.id, a.path, a.title, a.outlet, a.date, a.url, a.author, a.text, a.sha256, a.body_start, a.place,
          a.language,
          json.dumps(list(a.pages)) if a.pages else None, a.extraction)
         for a in articles))


def insert_passage(connection: sqlite3.Connection, chunk: Chunk, embed_key: str,
                   sentence_keys: Sequence[str]) -> int:
    """Store a passage and its sentences; returns the passage id (also its vector's id)."""
    passage_id = connection.execute(
        "INSERT INTO passages(article_id, ordinal, start, end, embed_hash, kind) VALUES (?, ?, ?, ?, ?, ?)",
        (chunk.article_id, chunk.ordinal, chunk.start, chunk.end, embed_key, chunk.kind)).lastrowid
    connection.executemany(
        "INSERT INTO sentences(passage_id, start, end, embed_hash) VALUES (?, ?, ?, ?)",
        ((passage_id, s, e, key) for (s, e), key in zip(chunk.sentences, sentence_keys)))
    return int(passage_id)


def passage_ids_of_articles(connection: sqlite3.Connection, article_ids: Sequence[str]) -> list[int]:
    return [r[0] for r in rows_for_ids(
        connection, "SELECT id FROM passages WHERE article_id IN ({marks})", article_ids)]


def delete_articles(connection: sqlite3.Connection, article_ids: Sequence[str]) -> None:
    """Delete articles with their passages and sentences (and story rows: foreign keys cascade).
    The keyword index and the copy table do not cascade: their owners delete first."""
    rows_for_ids(connection, "DELETE FROM passages WHERE article_id IN ({marks})", article_ids)
    rows_for_ids(connection, "DELETE FROM articles WHERE id IN ({marks})", article_ids)


def article_of_passages(connection: sqlite3.Connection) -> dict[int, str]:
    """{passage id: article id} of every passage of articles' own text (asides are no copies)."""
    return dict(connection.execute("SELECT id, article_id FROM passages WHERE kind = 'text'").fetchall())


def count_sentences(connection: sqlite3.Connection) -> int:
    return connection.execute("SELECT count(*) FROM sentences").fetchone()[0]


# ---------------------------------------------------------------- reads (search, stories, eval)

def passage(connection: sqlite3.Connection, passage_id: int) -> Passage | None:
    row = connection.execute(_PASSAGE_SELECT + "WHERE p.id = ?", (int(passage_id),)).fetchone()
    if row is None:
        return None
    return _passage(row)


def passages_by_id(connection: sqlite3.Connection, passage_ids: Sequence[int]) -> dict[int, Passage]:
    """The stored passages of `passage_ids` (those still in the index), by id."""
    rows = rows_for_ids(connection, _PASSAGE_SELECT + "WHERE p.id IN ({marks})", [int(i) for i in passage_ids])
    return {row["id"]: _passage(row) for row in rows}


def passages_of_article(connection, article_id: str, passages: str = "passages", articles: str = "articles",
                        mark: Mark = question_mark) -> list[Passage]:
    """Every passage of an article, in reading order (from the named tables; `mark`: the placeholder)."""
    cursor = connection.execute(
        _passage_select(passages, articles) + f"WHERE p.article_id = {mark(0)} ORDER BY p.start, p.id", (article_id,))
    return [_passage(row) for row in dict_rows(cursor)]


def _passage(row: sqlite3.Row | dict) -> Passage:
    return Passage(id=row["id"], article=article_ref(row), start=row["start"], end=row["end"], text=row["text"],
                   kind=row["kind"], pages=pages_of(row["pages"], row["start"], row["end"]))


def pages_of(stored: str | None, start: int, end: int) -> tuple[int, int] | None:
    """The first and last page (1-based) of the text start..end, from the stored page starts."""
    if not stored:
        return None
    starts = json.loads(stored)
    return max(1, bisect.bisect_right(starts, start)), max(1, bisect.bisect_right(starts, max(start, end - 1)))


def aside_ids(connection: sqlite3.Connection) -> frozenset[int]:
    """The ids of every aside passage (captions, keyword lines, links, quotes): few, read once a build."""
    return frozenset(r[0] for r in connection.execute("SELECT id FROM passages WHERE kind != 'text'"))


def articles_of(connection: sqlite3.Connection, passage_ids: Sequence[int]) -> dict[int, str]:
    """{passage id: article id} for the given passages, in as few statements as the ids allow."""
    return dict(rows_for_ids(connection, "SELECT id, article_id FROM passages WHERE id IN ({marks})",
                             [int(i) for i in passage_ids]))


def passage_ids_of_article(connection: sqlite3.Connection, article_id: str, passages: str = "passages",
                           mark: Mark = question_mark) -> set[int]:
    return {int(r[0]) for r in connection.execute(f"SELECT id FROM {passages} WHERE article_id = {mark(0)}",
                                                  (article_id,)).fetchall()}


def article(connection, article_id: str, articles: str = "articles", mark: Mark = question_mark) -> dict | None:
    """The whole stored article (metadata, author and text), for the full-article view."""
    rows = dict_rows(connection.execute(
        "SELECT id, path, title, outlet, date, url, author, place, language, extraction, text "
        f"FROM {articles} WHERE id = {mark(0)}", (article_id,)))
    return rows[0] if rows else None


# The article columns an ArticleRef is made of (article_ref), read on their own.
_REF_SELECT = "SELECT id, path, title, outlet, date, url, place, language, author FROM articles "


def article_refs(connection: sqlite3.Connection, article_ids: Sequence[str]) -> dict[str, ArticleRef]:
    rows = rows_for_ids(connection, _REF_SELECT + "WHERE id IN ({marks})", article_ids)
    return {r["id"]: article_ref(r) for r in rows}


def articles_from_files(connection, rels: Sequence[str], articles: str = "articles",
                        mark: Mark = question_mark) -> list[ArticleRef]:
    """The articles read from these archive files (a mailbox's messages, an e-mail's attachments,
    a feed's items too), in file order (from the named table; `mark`: the placeholder)."""
    select = _REF_SELECT.replace("FROM articles ", f"FROM {articles} ")
    rows = []
    for rel in rels:
        rows += dict_rows(connection.execute(
            select + f"WHERE path = {mark(0)} OR substr(path, 1, {mark(1)}) = {mark(2)} ORDER BY path",
            (rel, len(rel) + 1, rel + "#")))
    return [article_ref(r) for r in rows]


def outlets(connection, articles: str = "articles") -> list[dict]:
    """Each named outlet with its article count, largest first (`articles` names the table, so a
    PostgreSQL generation's partition answers with the same statement)."""
    rows = connection.execute(
        f"SELECT outlet, count(*) AS n FROM {articles} WHERE outlet IS NOT NULL GROUP BY outlet").fetchall()
    return [{"outlet": name, "articles": n} for name, n in _largest_first(rows)]


def languages(connection, articles: str = "articles") -> list[dict]:
    """Each language with its article count, largest first; UNKNOWN_LANGUAGE for those not told."""
    rows = connection.execute(f"SELECT coalesce(language, '{UNKNOWN_LANGUAGE}') AS language, count(*) AS n "
                              f"FROM {articles} GROUP BY language").fetchall()
    return [{"language": code, "articles": n} for code, n in _largest_first(rows)]


def _largest_first(rows: Iterable[Sequence]) -> list[tuple[str, int]]:
    """(name, count) rows by count, ties by name in code-point order: sorted here rather than in
    SQL, where PostgreSQL would order the names by the database's collation and SQLite by bytes."""
    return sorted(((name, int(n)) for name, n in rows), key=lambda row: (-row[1], row[0]))


def counts(connection, articles: str = "articles", passages: str = "passages") -> dict:
    """What `stats` reports of the text tables (the named ones: a PostgreSQL generation's too)."""
    dates = connection.execute(f"SELECT min(date), max(date), count(*) - count(date) FROM {articles}").fetchone()
    return {
        "articles": connection.execute(f"SELECT count(*) FROM {articles}").fetchone()[0],
        "passages": connection.execute(f"SELECT count(*) FROM {passages}").fetchone()[0],
        "without_outlet": connection.execute(f"SELECT count(*) FROM {articles} WHERE outlet IS NULL").fetchone()[0],
        "date_min": dates[0],
        "date_max": dates[1],
        "undated": dates[2] or 0,
    }


def filter_clause(filters: Filters, mark: Mark = question_mark,
                  mentions: str = "mentions") -> tuple[str, tuple]:
    """The SQL condition (over `articles a`) and its parameters for checked filters.

    `mark(n)` writes the placeholder of the n-th parameter (SQLite's "?" here; the PostgreSQL
    backend names them) and `mentions` is the table of entity mentions, so both backends filter
    with this one condition."""
    clauses: list[str] = []
    params: list = []

    def marks(values) -> str:
        return ",".join(mark(len(params) + n) for n in range(len(values)))

    if filters.outlets or filters.unknown_outlet:
        either = [f"a.outlet IN ({marks(filters.outlets)})"] if filters.outlets else []
        either += ["a.outlet IS NULL"] if filters.unknown_outlet else []
        clauses.append("(" + " OR ".join(either) + ")")
        params.extend(filters.outlets)
    if filters.author:
        clauses.append(f"lower(a.author) LIKE {mark(len(params))} ESCAPE '\\'")
        escaped = filters.author.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{escaped}%")
    if filters.since or filters.until:
        dated = []
        if filters.since:
            dated.append(f"a.date >= {mark(len(params))}")
            params.append(filters.since)
        if filters.until:
            dated.append(f"a.date <= {mark(len(params))}")
            params.append(filters.until)
        range_clause = " AND ".join(dated)
        clauses.append(f"(({range_clause}) OR a.date IS NULL)" if filters.include_undated else f"({range_clause})")
    elif not filters.include_undated:
        clauses.append("a.date IS NOT NULL")
    if filters.languages:
        codes = [c for c in filters.languages if c != UNKNOWN_LANGUAGE]
        either = [f"a.language IN ({marks(codes)})"] if codes else []
        either += ["a.language IS NULL"] if UNKNOWN_LANGUAGE in filters.languages else []
        clauses.append("(" + " OR ".join(either) + ")")
        params.extend(codes)
    if filters.entity_keys:
        clauses.append(f"a.id IN (SELECT article_id FROM {mentions} WHERE key IN ({marks(filters.entity_keys)}))")
        params.extend(filters.entity_keys)
    return " AND ".join(clauses), tuple(params)


def allowed_passage_ids(connection: sqlite3.Connection, filters: Filters) -> np.ndarray:
    """Ids of the passages whose articles pass `filters` (the vector search's allow list)."""
    clause, params = filter_clause(filters)
    rows = connection.execute(
        f"SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id WHERE {clause}", params).fetchall()
    return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))


def passage_paths(connection: sqlite3.Connection) -> dict[int, str]:
    """{passage id: its article's path}: how evaluation maps passages to corpus documents."""
    return dict(connection.execute("SELECT p.id, a.path FROM passages p JOIN articles a ON a.id = p.article_id"))


def texts(connection: sqlite3.Connection, article_ids: Sequence[str]) -> dict[str, str]:
    """Each article's whole stored text (what offsets into an article count in)."""
    return dict(rows_for_ids(connection, "SELECT id, text FROM articles WHERE id IN ({marks})", article_ids))


def bodies(connection: sqlite3.Connection, article_ids: Sequence[str]) -> dict[str, str]:
    """Each article's text after its headline line (what story signatures compare)."""
    return dict(rows_for_ids(
        connection, "SELECT id, substr(text, body_start + 1) FROM articles WHERE id IN ({marks})", article_ids))


def dates(connection: sqlite3.Connection, article_ids: Sequence[str]) -> dict[str, str | None]:
    return dict(rows_for_ids(connection, "SELECT id, date FROM articles WHERE id IN ({marks})", article_ids))


def passage_counts(connection: sqlite3.Connection, article_ids: Sequence[str]) -> dict[str, int]:
    return dict(rows_for_ids(
        connection, "SELECT article_id, count(*) FROM passages WHERE kind = 'text' AND article_id IN ({marks}) "
        "GROUP BY article_id",
        article_ids))


def lead_sentences(connection: sqlite3.Connection, article_ids: Sequence[str], per_article: int) -> dict[str, list[str]]:
    """The first `per_article` sentences of each article's first passage, in order."""
    rows = rows_for_ids(
        connection, "SELECT p.article_id, substr(a.text, s.start + 1, s.end - s.start) FROM sentences s "
        "JOIN passages p ON p.id = s.passage_id JOIN articles a ON a.id = p.article_id "
        "WHERE p.ordinal = 0 AND p.article_id IN ({marks}) ORDER BY p.article_id, s.start", article_ids)
    leads: dict[str, list[str]] = {}
    for article_id, text in rows:
        lead = leads.setdefault(article_id, [])
        if len(lead) < per_article:
            lead.append(text)
    return leads


def earliest_first(connection: sqlite3.Connection, article_ids: Sequence[str]) -> list[str]:
    """`article_ids` ordered by date (undated last), then path and id: the order stories are formed in."""
    rows = rows_for_ids(connection, "SELECT id, coalesce(date, ?), path FROM articles WHERE id IN ({marks})",
                        article_ids, UNDATED)
    return [r[0] for r in sorted(rows, key=lambda r: (r[1], r[2], r[0]))]
