"""The index on disk: a SQLite database (articles, passages, FTS5, embedding cache, copies),
a FAISS file, and `manifest.json`, which names the live build and is replaced last.

Layout of the index folder:
    manifest.json            the published build: its folder, model, settings, counts
    builds/<build_id>/       archive.sqlite + vectors.faiss of one build
    .lock                    held (flock) by a running reindex
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from archivist.config import FORMAT_VERSION, MODEL_NAME
from archivist.errors import IndexIncompatible, IndexMissing, first_line

MANIFEST = "manifest.json"
BUILDS = "builds"
DATABASE = "archive.sqlite"
VECTORS = "vectors.faiss"
BUILD_FILES = (DATABASE, VECTORS)  # what a published build holds

# How FTS5 splits and stems words; the keyword module stems query words with the same one.
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, outlet TEXT, date TEXT,
    url TEXT, author TEXT, text TEXT NOT NULL, sha256 TEXT NOT NULL, body_start INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_outlet ON articles(outlet);
CREATE INDEX IF NOT EXISTS articles_date ON articles(date);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- the FAISS id; never reused, so an old id never names new text
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    embed_hash TEXT NOT NULL
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


def read_manifest(index: Path) -> dict:
    """The published manifest, checked for format and model; raises with the fix in the message."""
    path = index / MANIFEST
    if not path.exists():
        raise IndexMissing(f"No index in {index}; build it with: python -m archivist reindex")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise IndexIncompatible(f"The index manifest {path} is damaged; rebuild it with: "
                                "python -m archivist reindex") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexIncompatible(f"The index in {index} has format version {manifest.get('format_version')}, "
                                f"this Archivist reads version {FORMAT_VERSION}; rebuild it with: "
                                "python -m archivist reindex")
    if manifest.get("model", {}).get("name") != MODEL_NAME:
        raise IndexIncompatible(f"The index in {index} was built with the model "
                                f"{manifest.get('model', {}).get('name')!r}, not {MODEL_NAME!r}; "
                                "rebuild it with: python -m archivist reindex")
    build = build_dir(index, manifest.get("build_id", ""))
    for name in BUILD_FILES:
        if not (build / name).is_file():
            raise IndexIncompatible(f"The index in {index} is missing {BUILDS}/{build.name}/{name}; "
                                    "rebuild it with: python -m archivist reindex")
    return manifest


def damaged(index: Path, error: BaseException) -> IndexIncompatible:
    """The one message for a published build that cannot be read, with the fix."""
    return IndexIncompatible(f"The index in {index} is damaged ({first_line(error)}); "
                             "rebuild it with: python -m archivist reindex")


def open_live_database(index: Path, manifest: dict) -> sqlite3.Connection:
    """A read-only connection to the published build's database, checked to be readable."""
    try:
        connection = connect(build_dir(index, manifest["build_id"]) / DATABASE, readonly=True)
        connection.execute("SELECT count(*) FROM articles").fetchone()
    except sqlite3.DatabaseError as error:
        raise damaged(index, error) from None
    return connection


def current_build_id(index: Path) -> str | None:
    """Cheap check of which build is live (for cache keys); None when there is no readable manifest."""
    try:
        return json.loads((index / MANIFEST).read_text(encoding="utf-8")).get("build_id")
    except (OSError, ValueError):
        return None


def build_dir(index: Path, build_id: str) -> Path:
    return index / BUILDS / build_id


def publish_manifest(index: Path, manifest: dict) -> None:
    """Write the manifest beside the old one and swap it in with one atomic rename."""
    tmp = index / f".{MANIFEST}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, index / MANIFEST)
    _fsync_dir(index)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def vector_to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def save_vectors(connection: sqlite3.Connection, model: str, pairs) -> None:
    """Put (text hash, vector) pairs into the embedding cache."""
    connection.executemany("INSERT OR REPLACE INTO embeddings(model, text_hash, vector) VALUES (?, ?, ?)",
                           ((model, digest, vector_to_blob(vector)) for digest, vector in pairs))


# SQLite caps the parameters of one statement; long id lists are sent in slices of this size.
ID_BATCH = 500


def id_batches(ids: Sequence) -> Iterator[list]:
    """`ids` in slices small enough for one statement's placeholders."""
    for begin in range(0, len(ids), ID_BATCH):
        yield list(ids[begin:begin + ID_BATCH])


def rows_for_ids(connection: sqlite3.Connection | sqlite3.Cursor, sql: str, ids: Sequence, *params) -> list:
    """All rows of `sql` for `ids`, whose placeholders go where `sql` says `{marks}`; `params`
    are bound before them."""
    rows: list = []
    for batch in id_batches(ids):
        rows.extend(connection.execute(sql.format(marks=",".join("?" * len(batch))), [*params, *batch]))
    return rows


def blob_to_vectors(blobs: list[bytes], dimension: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dimension).astype(np.float32)
