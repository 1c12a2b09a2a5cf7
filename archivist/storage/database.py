"""The SQLite database of a build: its schema, connections, and batched id lookups.

Which statements run against which tables is decided by the table groups' own modules
(text_tables, keyword_index, cache, copy_table, story_tables); this module only opens the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

# How FTS5 splits and stems words; the keyword module stems query words with the same one.
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"
# ... and passages in another language than English: no English stemming (keyword_index.PLAIN).
PLAIN_TOKENIZER = "unicode61 remove_diacritics 2"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, outlet TEXT, date TEXT,
    url TEXT, author TEXT, text TEXT NOT NULL, sha256 TEXT NOT NULL, body_start INTEGER NOT NULL,
    place TEXT,
    language TEXT,  -- ISO 639-1 (ingest/language.py); NULL when it cannot be told
    pages TEXT,  -- JSON list: where each page starts in text (PDFs)
    extraction TEXT  -- how it was read (reader, OCR pages), when more than a plain read
);
CREATE INDEX IF NOT EXISTS articles_outlet ON articles(outlet);
CREATE INDEX IF NOT EXISTS articles_date ON articles(date);
CREATE INDEX IF NOT EXISTS articles_language ON articles(language);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- the FAISS id; never reused, so an old id never names new text
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    embed_hash TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'text'  -- or an aside: caption, keywords, link (ingest/clutter.py)
);
CREATE INDEX IF NOT EXISTS passages_article ON passages(article_id);
CREATE TABLE IF NOT EXISTS sentences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    passage_id INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    start INTEGER NOT NULL, end INTEGER NOT NULL, embed_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_passage ON sentences(passage_id);
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
    title, body, tokenize = '{FTS_TOKENIZER}'
);
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts_plain USING fts5(
    title, body, tokenize = '{PLAIN_TOKENIZER}'
);
CREATE TABLE IF NOT EXISTS term_frequencies_plain (term TEXT PRIMARY KEY, passages INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS embeddings (
    model TEXT NOT NULL, text_hash TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (model, text_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS copies (
    passage_id INTEGER NOT NULL, other_id INTEGER NOT NULL, similarity REAL NOT NULL,
    PRIMARY KEY (passage_id, other_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS copies_other ON copies(other_id);
CREATE TABLE IF NOT EXISTS signatures (
    article_id TEXT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    exact_key TEXT NOT NULL, minhash BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS signatures_exact ON signatures(exact_key);
CREATE TABLE IF NOT EXISTS relations (
    a TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    b TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS relations_b ON relations(b);
CREATE TABLE IF NOT EXISTS term_frequencies (
    term TEXT PRIMARY KEY,  -- as FTS5 stems it
    passages INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mentions (  -- people, organisations and places an article names (ingest/entities.py)
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    key TEXT NOT NULL,  -- the name normalised: what groups its spellings
    name TEXT NOT NULL, type TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS mentions_article ON mentions(article_id);
CREATE INDEX IF NOT EXISTS mentions_key ON mentions(key, type);
CREATE TABLE IF NOT EXISTS stories (id INTEGER PRIMARY KEY, kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS story_members (
    story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, PRIMARY KEY (story_id, article_id)
) WITHOUT ROWID;
"""


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """Open the database; read-only connections can never modify a published build."""
    if readonly:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        connection = sqlite3.connect(path, check_same_thread=False)
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.executescript(SCHEMA)
    connection.row_factory = sqlite3.Row
    return connection


# SQLite caps the parameters of one statement; long id lists are sent in slices of this size.
ID_BATCH = 500


def id_batches(ids: Sequence) -> Iterator[list]:
    """`ids` in slices small enough for one statement's placeholders."""
    for begin in range(0, len(ids), ID_BATCH):
        yield list(ids[begin:begin + ID_BATCH])


def rows_for_ids(connection: sqlite3.Connection | sqlite3.Cursor, sql: str, ids: Sequence, *params,
                 mark: str = "?") -> list:
    """All rows of `sql` for `ids`, whose placeholders go where `sql` says `{marks}`; `params`
    are bound before them. `mark` is the driver's placeholder (psycopg's "%s" too)."""
    rows: list = []
    for batch in id_batches(ids):
        rows.extend(connection.execute(sql.format(marks=",".join([mark] * len(batch))), [*params, *batch]))
    return rows
