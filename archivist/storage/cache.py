"""The embedding cache: every vector the model has made, keyed by the exact text it saw.

One object owns the `embeddings` table: its keys, lookups, writes, pruning and salvage. A text
is sent to the model only when its key is missing, so an unchanged article, a re-split that
yields the same passages, or a format change (salvaged from the old build) costs no model time.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from archivist.storage.database import rows_for_ids


def text_key(text: str) -> str:
    """Key of a text's vector (and of its mentions in a shared entity cache): the sha256 of the
    exact text the model sees."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sentence_key(passage_key: str, span: tuple[int, int]) -> str:
    """Key of a sentence vector: it is pooled from its passage's model pass (see
    Embedder.encode_passages), so it is named by the passage text and the sentence's place in it."""
    return text_key(f"{passage_key} {span[0]} {span[1]}")


class EmbeddingCache:
    """The vectors of one model in one build's database."""

    def __init__(self, connection: sqlite3.Connection, model: str, dimension: int) -> None:
        self.connection = connection
        self.model = model
        self.dimension = dimension

    def get(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among `keys`."""
        rows = rows_for_ids(self.connection, "SELECT text_hash, vector FROM embeddings "
                            "WHERE model = ? AND text_hash IN ({marks})", list(keys), self.model)
        return dict(zip((r[0] for r in rows), self._decode([r[1] for r in rows])))

    def missing(self, keys: Iterable[str]) -> set[str]:
        """Keys with no cached vector: only their texts are sent to the model."""
        wanted = set(keys)
        found = {r[0] for r in rows_for_ids(
            self.connection, "SELECT text_hash FROM embeddings WHERE model = ? AND text_hash IN ({marks})",
            list(wanted), self.model)}
        return wanted - found

    def put(self, pairs: Iterable[tuple[str, np.ndarray]]) -> None:
        """Store (key, vector) pairs, replacing any vector already under the key."""
        self.connection.executemany(
            "INSERT OR REPLACE INTO embeddings(model, text_hash, vector) VALUES (?, ?, ?)",
            ((self.model, key, np.asarray(vector, dtype="<f4").tobytes()) for key, vector in pairs))

    def prune(self) -> int:
        """Delete vectors that no passage or sentence names (after a re-split); returns how many."""
        return self.connection.execute(
            "DELETE FROM embeddings WHERE text_hash NOT IN (SELECT embed_hash FROM passages) "
            "AND text_hash NOT IN (SELECT embed_hash FROM sentences)").rowcount

    def salvage(self, old_database: Path | None) -> None:
        """Copy this model's vectors out of an index this version cannot read (an older format),
        so a format change rebuilds the tables without sending every text through the model."""
        if old_database is None or not old_database.is_file():
            return
        try:
            self.connection.execute("ATTACH DATABASE ? AS old", (str(old_database),))
        except sqlite3.DatabaseError:
            return
        try:
            self.connection.execute("INSERT OR IGNORE INTO embeddings(model, text_hash, vector) "
                                    "SELECT model, text_hash, vector FROM old.embeddings WHERE model = ?",
                                    (self.model,))
            self.connection.commit()
        except sqlite3.DatabaseError:
            self.connection.rollback()  # no usable cache there: embed everything
        finally:
            self.connection.execute("DETACH DATABASE old")

    def passage_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every passage, in id order: what the vector index is built from."""
        rows = self.connection.execute(
            "SELECT p.id, e.vector FROM passages p JOIN embeddings e "
            "ON e.model = ? AND e.text_hash = p.embed_hash ORDER BY p.id", (self.model,)).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return ids, self._decode([r[1] for r in rows])

    def sentence_vectors(self, passage_ids: list[int], start: int, end: int
                         ) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Spans (in the article) and vectors of the sentences of `passage_ids` inside start..end."""
        rows = rows_for_ids(
            self.connection, "SELECT s.start, s.end, e.vector FROM sentences s JOIN embeddings e "
            "ON e.model = ? AND e.text_hash = s.embed_hash WHERE s.start >= ? AND s.end <= ? "
            "AND s.passage_id IN ({marks}) ORDER BY s.start", passage_ids, self.model, start, end)
        return [(r[0], r[1]) for r in rows], self._decode([r[2] for r in rows])

    def _decode(self, blobs: list[bytes]) -> np.ndarray:
        if not blobs:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), self.dimension).astype(np.float32)
