"""Reindex: read the archive, diff against the live index by content hash, embed only new text,
and publish a new build atomically (new files first, manifest swapped last).

A crash or kill at any moment leaves the previous build and manifest untouched; the next
reindex removes the half-written build.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from archivist import keyword, store, vectors
from archivist.articles import scan_archive
from archivist.chunking import ChunkingSettings, chunk_article
from archivist.config import FORMAT_VERSION, MODEL_DIMENSION, MODEL_MAX_TOKENS, MODEL_NAME
from archivist.copies import COPY_NEIGHBOURS, COPY_THRESHOLD, find_copies
from archivist.embedding import Embedder, sentence_hash, text_hash
from archivist.errors import ArchivistError, IndexIncompatible, IndexMissing
from archivist.locking import IndexLock
from archivist.progress import StageClock
from archivist.records import Article, Chunk, Skipped
from archivist.stories import update_stories
from archivist.tokens import token_counter

Progress = Callable[[str, int, int], None]
CHUNKING = ChunkingSettings(max_tokens=MODEL_MAX_TOKENS)
_INSERT_BATCH = 5000


@dataclass
class ReindexReport:
    """What a reindex did; `to_json` is the `--json` contract of the CLI."""

    articles: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    passages: int = 0
    passages_embedded: int = 0
    sentences: int = 0
    stories: int = 0
    seconds: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)
    build_id: str = ""
    # Wall seconds per stage (reading, splitting, embedding, writing, vectors, copies, stories, ...).
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"articles": self.articles, "added": self.added, "updated": self.updated,
                "removed": self.removed, "unchanged": self.unchanged, "passages": self.passages,
                "passages_embedded": self.passages_embedded, "seconds": round(self.seconds, 3),
                "skipped": [s.to_json() for s in self.skipped], "build_id": self.build_id,
                "stage_seconds": self.stage_seconds}

    def summary(self) -> str:
        return (f"Indexed {self.articles} articles ({self.added} added, {self.updated} updated, "
                f"{self.removed} removed, {self.unchanged} unchanged), {self.passages} passages "
                f"({self.passages_embedded} embedded) in {self.seconds:.1f} s"
                + (f"; {len(self.skipped)} skipped" if self.skipped else "") + ".")


def reindex(archive: Path, index: Path, progress: Progress | None = None,
            embedder: Embedder | None = None) -> ReindexReport:
    """Bring the index in line with the archive; raises IndexBusy if another reindex runs."""
    started = time.perf_counter()
    report_progress = StageClock(progress or (lambda stage, done, total: None))
    try:
        index.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ArchivistError(f"Cannot create the index folder {index} ({error.strerror}); "
                             "choose a writable folder with --index DIR.") from None
    embedder = embedder or Embedder()
    with IndexLock(index):
        previous = _live_manifest(index)
        # An unreadable manifest's build is kept too: its embedding cache is salvaged below.
        _remove_stale_builds(index, keep={previous.get("build_id"), previous.get("previous_build_id")}
                             if previous else {store.current_build_id(index)})
        report_progress("reading", 0, 1)
        scan = scan_archive(archive)
        report_progress("reading", 1, 1)
        if previous and _nothing_changed(index, previous, scan.articles):
            counts = previous.get("counts", {})
            return ReindexReport(articles=len(scan.articles), unchanged=len(scan.articles),
                                 passages=counts.get("passages", 0), sentences=counts.get("sentences", 0),
                                 seconds=time.perf_counter() - started, skipped=scan.skipped,
                                 build_id=previous["build_id"])
        build_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        build = store.build_dir(index, build_id)
        try:
            report = _build(index, build, previous, scan.articles, report_progress, embedder)
            report.skipped = scan.skipped
            report.build_id = build_id
            report_progress.stop()
            report.stage_seconds = report_progress.seconds
            report.seconds = time.perf_counter() - started
            # The backend that embedded; when nothing needed embedding, the one that built before.
            backend = embedder.backend if embedder.loaded else (
                (previous or {}).get("model", {}).get("backend") or "none (nothing embedded)")
            manifest = build_manifest(build, previous, report, embedder_backend=backend)
            report_progress("publishing", 0, 1)
            store.publish_manifest(index, manifest)
        except (OSError, sqlite3.OperationalError) as error:
            shutil.rmtree(build, ignore_errors=True)
            reason = getattr(error, "strerror", None) or str(error)
            raise ArchivistError(f"Reindex failed while writing {index} ({reason}); "
                                 "the previous index is unchanged. Free disk space or fix permissions, "
                                 "then run reindex again.") from None
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        _remove_stale_builds(index, keep={build_id, previous.get("build_id") if previous else None})
        return report


def _live_manifest(index: Path) -> dict | None:
    """The published manifest if it is usable as a base for an incremental build."""
    try:
        return store.read_manifest(index)
    except (IndexMissing, IndexIncompatible):
        return None


def _nothing_changed(index: Path, previous: dict, articles: list[Article]) -> bool:
    """Same articles with the same content hashes and settings: the live build is already right."""
    build = store.build_dir(index, previous["build_id"])
    if previous.get("chunking") != CHUNKING.as_dict() or previous.get("files") != file_sizes(build):
        return False  # other settings, or a build file truncated or replaced since it was published
    database = build / store.DATABASE
    try:
        with closing(store.connect(database, readonly=True)) as connection:
            live = dict(connection.execute("SELECT id, sha256 FROM articles").fetchall())
    except sqlite3.DatabaseError:
        return False
    return live == {a.id: a.sha256 for a in articles}


def file_sizes(build: Path) -> dict[str, int]:
    sizes = {}
    for name in store.BUILD_FILES:
        path = build / name
        sizes[name] = path.stat().st_size if path.exists() else -1
    return sizes


def _remove_stale_builds(index: Path, keep: set) -> None:
    """Leftovers of crashed or superseded builds; the live one and its predecessor stay for readers."""
    builds = index / store.BUILDS
    if not builds.is_dir():
        return
    for entry in builds.iterdir():
        if entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)
    for leftover in index.glob(f".{store.MANIFEST}.tmp"):
        leftover.unlink(missing_ok=True)


def _build(index: Path, build: Path, previous: dict | None, articles: list[Article],
           progress: Progress, embedder: Embedder) -> ReindexReport:
    build.mkdir(parents=True)
    db_path = build / store.DATABASE
    settings_match = previous and previous.get("chunking") == CHUNKING.as_dict()
    connection = None
    if previous:
        try:
            _copy_database(store.build_dir(index, previous["build_id"]) / store.DATABASE, db_path)
            connection = store.connect(db_path)
            connection.execute("SELECT count(*) FROM articles").fetchone()
        except sqlite3.DatabaseError:
            # A damaged live database: rebuild everything from the archive instead.
            if connection is not None:
                connection.close()
            connection = None
            db_path.unlink(missing_ok=True)
            settings_match = False
    if connection is None:
        connection = store.connect(db_path)
        _salvage_embeddings(index, connection, embedder.name)
    try:
        report = _apply_changes(connection, articles, bool(settings_match), progress, embedder)
        # After a re-split (other settings or rules) the cache's vectors of the old split are
        # never asked for again: dropped, so every later build does not copy them along.
        pruned = 0 if settings_match else _prune_embeddings(connection)
        progress("vectors", 0, 1)
        ids, matrix = _all_vectors(connection, embedder)
        dense = vectors.build(matrix, ids)
        progress("vectors", 1, 1)
        del matrix
        _update_copies(connection, dense, report.new_passage_ids, progress)
        progress("stories", 0, 1)
        report.stories = update_stories(connection, report.new_article_ids, embedder.encode)
        progress("stories", 1, 1)
        progress("keywords", 0, 1)
        keyword.store_term_frequencies(connection)
        progress("saving", 0, 1)
        connection.commit()
        if pruned:
            connection.execute("VACUUM")  # the freed pages would otherwise be copied with the file
        report.passages = len(ids)
        report.sentences = connection.execute("SELECT count(*) FROM sentences").fetchone()[0]
    finally:
        connection.close()
    vectors.save(dense, build / store.VECTORS)
    for name in store.BUILD_FILES:
        with open(build / name, "rb") as handle:
            os.fsync(handle.fileno())
    return report


def _copy_database(source: Path, target: Path) -> None:
    """Start from a copy of the live database so the live one is never written to."""
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _salvage_embeddings(index: Path, connection: sqlite3.Connection, model: str) -> None:
    """Keep the cached vectors of an index this version cannot read (older format), so a format
    change rebuilds the tables without sending every text through the model again."""
    build_id = store.current_build_id(index)
    old = store.build_dir(index, build_id) / store.DATABASE if build_id else None
    if old is None or not old.is_file():
        return
    try:
        connection.execute("ATTACH DATABASE ? AS old", (str(old),))
    except sqlite3.DatabaseError:
        return
    try:
        connection.execute("INSERT OR IGNORE INTO embeddings(model, text_hash, vector) "
                           "SELECT model, text_hash, vector FROM old.embeddings WHERE model = ?", (model,))
        connection.commit()
    except sqlite3.DatabaseError:
        connection.rollback()  # no usable cache there: embed everything
    finally:
        connection.execute("DETACH DATABASE old")


@dataclass
class _ChangeReport(ReindexReport):
    new_passage_ids: list[int] = field(default_factory=list)
    new_article_ids: list[str] = field(default_factory=list)


def _apply_changes(connection: sqlite3.Connection, articles: list[Article], settings_match: bool,
                   progress: Progress, embedder: Embedder) -> _ChangeReport:
    """Delete gone and changed articles, insert new ones with their passages and embeddings."""
    existing = dict(connection.execute("SELECT id, sha256 FROM articles").fetchall())
    # Other chunking settings than the live build's: every article is split and written again.
    existing_for_diff = existing if settings_match else {}
    current = {a.id: a for a in articles}
    report = _ChangeReport(articles=len(articles))
    to_write = [a for a in articles if existing_for_diff.get(a.id) != a.sha256]
    report.added = sum(1 for a in to_write if a.id not in existing)
    report.updated = len(to_write) - report.added
    report.unchanged = len(articles) - len(to_write)
    gone = [i for i in existing if i not in current]
    report.removed = len(gone)
    report.new_article_ids = [a.id for a in to_write]
    _delete_articles(connection, gone + [a.id for a in to_write if a.id in existing])

    count_tokens = token_counter(embedder.model_path)
    chunks: list[tuple[Article, Chunk]] = []
    progress("splitting", 0, len(to_write))
    for done, article in enumerate(to_write, start=1):
        chunks.extend((article, c) for c in chunk_article(article, count_tokens, CHUNKING))
        if done % 500 == 0 or done == len(to_write):
            progress("splitting", done, len(to_write))
    hashes = [text_hash(c.embed_text) for _, c in chunks]
    sentence_hashes = [[sentence_hash(h, span) for span in c.sentence_embed_spans]
                       for h, (_, c) in zip(hashes, chunks)]
    missing = _missing_hashes(connection, embedder.name,
                              list({*hashes, *(h for group in sentence_hashes for h in group)}))
    # A passage is embedded again when its vector or any of its sentences' is not cached: they
    # come from the same model pass.
    # One text can be split into sentences differently in two articles (a line break in one, a
    # space in the other): its pass pools every span either needs. {passage hash: (text, {span: hash})}
    pending: dict[str, tuple[str, dict[tuple[int, int], str]]] = {}
    for digest, (_, chunk), group in zip(hashes, chunks, sentence_hashes):
        if digest in missing or missing.intersection(group):
            pending.setdefault(digest, (chunk.embed_text, {}))[1].update(zip(chunk.sentence_embed_spans, group))
    report.passages_embedded = len(pending)
    if pending:
        order = list(pending)
        progress("embedding", 0, len(order))
        matrix, sentence_vectors = embedder.encode_passages(
            [pending[h][0] for h in order], [list(pending[h][1]) for h in order],
            progress=lambda done, total: progress("embedding", done, total))
        rows = [(h, v) for h, v in zip(order, matrix)]
        rows.extend(pair for h, group_vectors in zip(order, sentence_vectors)
                    for pair in zip(pending[h][1].values(), group_vectors))
        store.save_vectors(connection, embedder.name, rows)
    progress("writing", 0, len(to_write))
    connection.executemany(
        "INSERT INTO articles(id, path, title, outlet, date, url, author, text, sha256, body_start) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((a.id, a.path, a.title, a.outlet, a.date, a.url, a.author, a.text, a.sha256, a.body_start)
         for a in to_write))
    for (article, chunk), digest, chunk_sentence_hashes in zip(chunks, hashes, sentence_hashes):
        cursor = connection.execute(
            "INSERT INTO passages(article_id, ordinal, start, end, embed_hash) VALUES (?, ?, ?, ?, ?)",
            (chunk.article_id, chunk.ordinal, chunk.start, chunk.end, digest))
        passage_id = cursor.lastrowid
        report.new_passage_ids.append(passage_id)
        connection.executemany(
            "INSERT INTO sentences(passage_id, start, end, embed_hash) VALUES (?, ?, ?, ?)",
            ((passage_id, s, e, h) for (s, e), h in zip(chunk.sentences, chunk_sentence_hashes)))
        connection.execute("INSERT INTO passages_fts(rowid, title, body) VALUES (?, ?, ?)",
                           (passage_id, article.title, chunk.keyword_text))
    progress("writing", len(to_write), len(to_write))
    return report


def _delete_articles(connection: sqlite3.Connection, article_ids: list[str]) -> None:
    passage_ids = [r[0] for r in store.rows_for_ids(
        connection, "SELECT id FROM passages WHERE article_id IN ({marks})", article_ids)]
    for batch in store.id_batches(passage_ids):  # FTS5 and copies do not cascade
        marks = ",".join("?" * len(batch))
        connection.execute(f"DELETE FROM passages_fts WHERE rowid IN ({marks})", batch)
        connection.execute(f"DELETE FROM copies WHERE passage_id IN ({marks}) OR other_id IN ({marks})",
                           batch + batch)
    for batch in store.id_batches(article_ids):
        marks = ",".join("?" * len(batch))
        connection.execute(f"DELETE FROM passages WHERE article_id IN ({marks})", batch)
        connection.execute(f"DELETE FROM articles WHERE id IN ({marks})", batch)


def _prune_embeddings(connection: sqlite3.Connection) -> int:
    """Delete cached vectors that no passage or sentence names; returns how many went."""
    return connection.execute(
        "DELETE FROM embeddings WHERE text_hash NOT IN (SELECT embed_hash FROM passages) "
        "AND text_hash NOT IN (SELECT embed_hash FROM sentences)").rowcount


def _missing_hashes(connection: sqlite3.Connection, model: str, hashes: list[str]) -> set[str]:
    """Hashes with no cached embedding for this model: only these are sent to the model."""
    wanted = set(hashes)
    found = {r[0] for r in store.rows_for_ids(
        connection, "SELECT text_hash FROM embeddings WHERE model = ? AND text_hash IN ({marks})",
        list(wanted), model)}
    return wanted - found


def _all_vectors(connection: sqlite3.Connection, embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of every passage, from the embedding cache."""
    rows = connection.execute("SELECT p.id, e.vector FROM passages p JOIN embeddings e "
                              "ON e.model = ? AND e.text_hash = p.embed_hash ORDER BY p.id",
                              (embedder.name,)).fetchall()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    return ids, store.blob_to_vectors([r[1] for r in rows], embedder.dimension)


def _update_copies(connection: sqlite3.Connection, dense, new_ids: list[int], progress: Progress) -> None:
    """Record near-identical passages of other articles for the passages added in this build."""
    if not new_ids:
        return
    progress("copies", 0, len(new_ids))
    article_of = dict(connection.execute("SELECT id, article_id FROM passages").fetchall())
    pairs = find_copies(dense, np.asarray(new_ids, dtype=np.int64), article_of)
    connection.executemany("INSERT OR REPLACE INTO copies(passage_id, other_id, similarity) VALUES (?, ?, ?)",
                           ((a, b, s) for a, b, s in pairs))
    progress("copies", len(new_ids), len(new_ids))


def build_manifest(build: Path, previous: dict | None, report: ReindexReport, embedder_backend: str) -> dict:
    """The manifest of a finished build (its folder name is the build id), with its files' sizes."""
    return {
        "format_version": FORMAT_VERSION,
        "build_id": build.name,
        "previous_build_id": previous.get("build_id") if previous else None,
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "model": {"name": MODEL_NAME, "dimension": MODEL_DIMENSION, "max_tokens": MODEL_MAX_TOKENS,
                  "backend": embedder_backend},
        "chunking": CHUNKING.as_dict(),
        "vectors": {"metric": "inner_product", "normalised": True, "exact_limit": vectors.EXACT_LIMIT,
                    "types": {"passages": vectors.kind_for(report.passages)},
                    "files": {"passages": store.VECTORS}},
        "copies": {"threshold": COPY_THRESHOLD, "neighbours": COPY_NEIGHBOURS},
        "counts": {"articles": report.articles, "passages": report.passages, "stories": report.stories,
                   "sentences": report.sentences,
                   "skipped": len(report.skipped)},
        "files": file_sizes(build),
    }
