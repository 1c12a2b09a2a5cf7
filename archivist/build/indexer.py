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

from archivist.storage import copy_table, database, manifest, story_tables, text_tables
from archivist.ingest.articles import scan_archive
from archivist.storage.cache import EmbeddingCache
from archivist.build.changes import ChangeCounts, apply_changes
from archivist.config import FORMAT_VERSION, MODEL_DIMENSION, MODEL_MAX_TOKENS, MODEL_NAME
from archivist.build.copies import find_copies
from archivist.build.entity_step import EntityCache, extract_new_entities
from archivist.model.embedding import Embedder
from archivist.errors import ArchivistError, IndexIncompatible, IndexMissing
from archivist.storage.keyword_index import LanguageSplitKeywordIndex
from archivist.storage.locking import IndexLock
from archivist.progress import Progress, StageClock
from archivist.records import Article, Skipped
from archivist.settings import BuildSettings
from archivist.build.stories import update_stories
from archivist.storage.vector_index import FaissVectorIndex, kind_for

# Wraps a build's embedding cache in one that also reads and writes a shared store.
CacheWrapper = Callable[[EmbeddingCache], EmbeddingCache]


def skipped_counts(skipped: list[Skipped]) -> str:
    """ "; 2 skipped, 1 read in part" (empty when every file was read whole)."""
    partial = sum(1 for s in skipped if s.partial)
    parts = [f"{len(skipped) - partial} skipped"] if len(skipped) > partial else []
    parts += [f"{partial} read in part"] if partial else []
    return "; " + ", ".join(parts) if parts else ""


@dataclass
class ReindexReport(ChangeCounts):
    """What a reindex did; `to_json` is the `--json` contract of the CLI."""

    articles: int = 0
    passages: int = 0
    sentences: int = 0
    stories: int = 0
    seconds: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)
    build_id: str = ""
    # Wall seconds per stage (reading, splitting, embedding, writing, vectors, copies, stories, ...).
    stage_seconds: dict[str, float] = field(default_factory=dict)
    # Build settings that differ from the previous build's, and so what this build redid.
    settings_changes: list[str] = field(default_factory=list)
    # Why no people, organisations or places were extracted (the model is missing), if so.
    entities_note: str | None = None

    def to_json(self) -> dict:
        return {"articles": self.articles, "added": self.added, "updated": self.updated,
                "removed": self.removed, "unchanged": self.unchanged, "passages": self.passages,
                "passages_embedded": self.passages_embedded, "seconds": round(self.seconds, 3),
                "skipped": [s.to_json() for s in self.skipped], "build_id": self.build_id,
                "stage_seconds": self.stage_seconds, "settings_changes": self.settings_changes}

    def summary(self) -> str:
        return (f"Indexed {self.articles} articles ({self.added} added, {self.updated} updated, "
                f"{self.removed} removed, {self.unchanged} unchanged), {self.passages} passages "
                f"({self.passages_embedded} embedded) in {self.seconds:.1f} s"
                + skipped_counts(self.skipped) + "."
                + (f" Build settings changed ({'; '.join(self.settings_changes[:3])}"
                   + (f"; {len(self.settings_changes) - 3} more" if len(self.settings_changes) > 3 else "")
                   + "): what depends on them was redone." if self.settings_changes else "")
                + (f" No entities: {self.entities_note}" if self.entities_note else ""))


def reindex(archive: Path, index: Path, progress: Progress | None = None,
            embedder: Embedder | None = None, pause: Callable[[], None] | None = None,
            shared_cache: CacheWrapper | None = None, shared_entities: EntityCache | None = None) -> ReindexReport:
    """Bring the index in line with the archive; raises IndexBusy if another reindex runs.
    `pause` is called between embedding batches (a server lets its searches go first);
    `shared_cache` wraps the build's embedding cache and `shared_entities` holds mentions found
    elsewhere (a PostgreSQL index shares its vectors and names so)."""
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
                             if previous else {manifest.current_build_id(index)})
        report_progress("reading", 0, 1)
        scan = scan_archive(archive)
        report_progress("reading", 1, 1)
        settings = BuildSettings.current()
        if previous and _nothing_changed(index, previous, scan.articles, settings):
            counts = previous.get("counts", {})
            return ReindexReport(articles=len(scan.articles), unchanged=len(scan.articles),
                                 passages=counts.get("passages", 0), sentences=counts.get("sentences", 0),
                                 seconds=time.perf_counter() - started, skipped=scan.skipped,
                                 build_id=previous["build_id"])
        build_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        build = manifest.build_dir(index, build_id)
        try:
            report = _build(index, build, previous, scan.articles, report_progress, embedder, settings, pause,
                            shared_cache, shared_entities)
            report.skipped = scan.skipped
            report.build_id = build_id
            report_progress.stop()
            report.stage_seconds = report_progress.seconds
            report.seconds = time.perf_counter() - started
            # The backend that embedded; when nothing needed embedding, the one that built before.
            backend = embedder.backend if embedder.loaded else (
                (previous or {}).get("model", {}).get("backend") or "none (nothing embedded)")
            published = build_manifest(build, previous, report, embedder_backend=backend, settings=settings)
            report_progress("publishing", 0, 1)
            manifest.publish_manifest(index, published)
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
        return manifest.read_manifest(index)
    except (IndexMissing, IndexIncompatible):
        return None


def _nothing_changed(index: Path, previous: dict, articles: list[Article], settings: BuildSettings) -> bool:
    """Same articles with the same content hashes and settings: the live build is already right."""
    build = manifest.build_dir(index, previous["build_id"])
    if BuildSettings.from_dict(previous.get("settings")) != settings or previous.get("files") != file_sizes(build):
        return False  # other settings, or a build file truncated or replaced since it was published
    try:
        with closing(database.connect(build / manifest.DATABASE, readonly=True)) as connection:
            live = text_tables.article_hashes(connection)
    except sqlite3.DatabaseError:
        return False
    return live == {a.id: a.sha256 for a in articles}


def file_sizes(build: Path) -> dict[str, int]:
    sizes = {}
    for name in manifest.BUILD_FILES:
        path = build / name
        sizes[name] = path.stat().st_size if path.exists() else -1
    return sizes


def _remove_stale_builds(index: Path, keep: set) -> None:
    """Leftovers of crashed or superseded builds; the live one and its predecessor stay for readers."""
    builds = index / manifest.BUILDS
    if not builds.is_dir():
        return
    for entry in builds.iterdir():
        if entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)
    for leftover in index.glob(f".{manifest.MANIFEST}.tmp"):
        leftover.unlink(missing_ok=True)


def _build(index: Path, build: Path, previous: dict | None, articles: list[Article],
           progress: Progress, embedder: Embedder, settings: BuildSettings,
           pause: Callable[[], None] | None = None, shared_cache: CacheWrapper | None = None,
           shared_entities: EntityCache | None = None) -> ReindexReport:
    build.mkdir(parents=True)
    db_path = build / manifest.DATABASE
    previous_settings = BuildSettings.from_dict(previous.get("settings")) if previous else None
    connection = None
    if previous:
        try:
            _copy_database(manifest.build_dir(index, previous["build_id"]) / manifest.DATABASE, db_path)
            connection = database.connect(db_path)
            connection.execute("SELECT count(*) FROM articles").fetchone()
        except sqlite3.DatabaseError:
            # A damaged live database: rebuild everything from the archive instead.
            if connection is not None:
                connection.close()
            connection = None
            db_path.unlink(missing_ok=True)
            previous_settings = None
    cache = None
    if connection is None:
        connection = database.connect(db_path)
        cache = EmbeddingCache(connection, embedder.name, embedder.dimension)
        build_id = manifest.current_build_id(index)
        cache.salvage(manifest.build_dir(index, build_id) / manifest.DATABASE if build_id else None)
    cache = cache or EmbeddingCache(connection, embedder.name, embedder.dimension)
    if shared_cache is not None:
        cache = shared_cache(cache)
    report = ReindexReport()
    if previous and previous_settings != settings:
        report.settings_changes = settings.changes_from(previous_settings)
    resplit = settings.must_resplit(previous_settings)
    try:
        regroup = settings.must_regroup(previous_settings)
        if regroup:
            # Other copy or story rules: every article's copies and relations are found again.
            copy_table.clear(connection)
            story_tables.clear_relations(connection)
        changes = apply_changes(connection, articles, resplit, progress, embedder, cache, pause)
        report.entities_note = extract_new_entities(connection, changes.new_article_ids, progress, shared_entities)
        # After a re-split (other settings or rules) the cache's vectors of the old split are
        # never asked for again: dropped, so every later build does not copy them along.
        pruned = cache.prune() if resplit else 0
        progress("vectors", 0, 1)
        ids, matrix = cache.passage_vectors()
        vector_index = FaissVectorIndex.build(matrix, ids, dimension=embedder.dimension)
        progress("vectors", 1, 1)
        del matrix
        new_passages = [int(i) for i in ids] if regroup else changes.new_passage_ids
        new_articles = [a.id for a in articles] if regroup else changes.new_article_ids
        _update_copies(connection, vector_index, new_passages, progress)
        progress("stories", 0, 1)
        report.stories = update_stories(connection, new_articles, embedder.encode, cache)
        progress("stories", 1, 1)
        progress("keywords", 0, 1)
        LanguageSplitKeywordIndex(connection).finish_build()
        progress("saving", 0, 1)
        connection.commit()
        if pruned:
            connection.execute("VACUUM")  # the freed pages would otherwise be copied with the file
        report.passages = len(ids)
        report.sentences = text_tables.count_sentences(connection)
    finally:
        connection.close()
    vector_index.save(build / manifest.VECTORS)
    for name in manifest.BUILD_FILES:
        with open(build / name, "rb") as handle:
            os.fsync(handle.fileno())
    report.count_from(changes)
    report.articles = len(articles)
    return report


def _copy_database(source: Path, target: Path) -> None:
    """Start from a copy of the live database so the live one is never written to."""
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _update_copies(connection: sqlite3.Connection, vector_index: FaissVectorIndex, new_ids: list[int],
                   progress: Progress) -> None:
    """Record near-identical passages of other articles for the passages added in this build."""
    if not new_ids:
        return
    progress("copies", 0, len(new_ids))
    article_of = text_tables.article_of_passages(connection)
    pairs = find_copies(vector_index, np.asarray([i for i in new_ids if i in article_of], dtype=np.int64), article_of)
    copy_table.insert(connection, pairs)
    progress("copies", len(new_ids), len(new_ids))


def build_manifest(build: Path, previous: dict | None, report: ReindexReport, embedder_backend: str,
                   settings: BuildSettings | None = None) -> dict:
    """The manifest of a finished build (its folder name is the build id), with its files' sizes
    and the whole settings record it was built with."""
    settings = settings or BuildSettings.current()
    return {
        "format_version": FORMAT_VERSION,
        "build_id": build.name,
        "previous_build_id": previous.get("build_id") if previous else None,
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "model": {"name": MODEL_NAME, "dimension": MODEL_DIMENSION, "max_tokens": MODEL_MAX_TOKENS,
                  "backend": embedder_backend},
        "settings": settings.as_dict(),
        "chunking": settings.chunking,
        "vectors": {"metric": "inner_product", "normalised": True, "exact_limit": settings.vectors["exact_limit"],
                    "types": {"passages": kind_for(report.passages)},
                    "files": {"passages": manifest.VECTORS}},
        "copies": settings.copies,
        "counts": {"articles": report.articles, "passages": report.passages, "stories": report.stories,
                   "sentences": report.sentences,
                   "skipped": len(report.skipped)},
        "files": file_sizes(build),
    }
