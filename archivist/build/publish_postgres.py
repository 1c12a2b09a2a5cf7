"""Copy a published embedded build (SQLite + FAISS under index/) into PostgreSQL as a new
generation, without re-embedding: the vectors are read back from the FAISS index.

This is how an archive moves off the embedded default: `archivist publish --index-url URL`.
The copy goes into a 'writing' generation beside the live one; only when every row and index is
in does one transaction make it live, so readers see the old build or the new one, never part
of one. Each article goes in with one transaction (its row, its passages with their vectors,
their sentences, its mentions; whole articles are grouped about BATCH passages to a
transaction), so the writing generation never holds part of an article. Killed mid-way, it
leaves the live generation as it was; the next publish of the same build resumes after the
articles already committed (a different build drops the half-written one and starts again).
What spans articles (copies, stories, relations) is rewritten on resume; the indexes and bm25
statistics are built once, in the transaction that marks the generation indexed (a publish killed
after that only makes it live).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archivist.query.entity_names import EDITS_FILE
from archivist.storage import manifest, sidecar
from archivist.storage.postgres import generations, schema
from archivist.storage.postgres.connection import connect
from archivist.storage.vector_index import FaissVectorIndex

Progress = Callable[[str, int, int], None]
BATCH = 2_000  # passages read, vectors reconstructed and copied at a time


@dataclass
class PublishReport:
    generation: int
    replaced: int | None
    build_id: str
    counts: dict
    seconds: float
    resumed_articles: int = 0  # articles an interrupted publish of this build had committed

    def to_json(self) -> dict:
        return {"generation": self.generation, "replaced": self.replaced, "build_id": self.build_id,
                "counts": self.counts, "seconds": round(self.seconds, 2), "resumed_articles": self.resumed_articles}


def publish_embedded(index: Path, url: str, progress: Progress | None = None,
                     after_rows: Callable[[int], None] | None = None, batch: int = BATCH) -> PublishReport:
    """Copy the live build of `index` into the database at `url` and make it live there.
    `after_rows(n)` is called after each committed group of articles, `n` passages in so far
    (tests stop a publish there); `batch` is about how many passages go in one transaction."""
    started = time.perf_counter()
    progress = progress or (lambda stage, done, total: None)
    live = manifest.read_manifest(index)
    source = manifest.open_live_database(index, live)
    vectors = FaissVectorIndex.load(manifest.build_dir(index, live["build_id"]) / manifest.VECTORS)
    target = connect(url)
    try:
        schema.migrate(target)
        from archivist.storage.postgres.connection import register_vector_types

        register_vector_types(target)  # the extension may be new
        with generations.writer(target):
            generation, indexed = generations.resume_or_begin(target, live["build_id"])
            if indexed:  # killed after everything was in and indexed, before it went live
                counts = _counts(target, generation)
                counts["resumed_articles"] = counts["articles"]
            else:
                counts = _copy(source, vectors, target, generation, live["model"]["name"], progress, after_rows, batch)
                progress("building the vector and keyword indexes", 0, 1)
                generations.build_indexes(target, generation)
                progress("building the vector and keyword indexes", 1, 1)
            resumed_articles = counts.pop("resumed_articles")
            # The user's entity clean-ups live beside the embedded index; readers of this generation
            # apply them too. A working folder that has none (a reindex from the page or the API, a
            # second machine) carries the live generation's forward instead of dropping them.
            with target.transaction():
                edits = (sidecar.read_json(index / EDITS_FILE, {}) if (index / EDITS_FILE).is_file()
                         else generations.live_entity_edits(target))
                target.execute("UPDATE generations SET entity_edits = %s WHERE id = %s",
                               (json.dumps(edits), generation))
            # The build's manifest facts go with the counts, so `stats` on Postgres tells the same.
            replaced = generations.publish(target, generation, {
                **counts, "manifest": {"built_at": live.get("built_at"), "model": live["model"]}})
    finally:
        target.close()
        source.close()
    return PublishReport(generation, replaced, live["build_id"], counts, time.perf_counter() - started,
                         resumed_articles)


ARTICLE_COLUMNS = ("id", "path", "title", "outlet", "date", "url", "author", "place", "language", "pages",
                   "extraction", "text", "sha256", "body_start")
PASSAGE_COLUMNS = ("generation", "id", "article_id", "start", "end", "kind", "title", "body", "stemmed", "embedding")
PASSAGE_TYPES = ("integer", "bigint", "text", "integer", "integer", "text", "text", "text", "boolean", "halfvec")
SPANNING_TABLES = ("copies", "story_members", "relations")  # rows that join articles: written last, whole


def _copy(source, vectors: FaissVectorIndex, target, generation: int, model: str, progress: Progress,
          after_rows: Callable[[int], None] | None, batch: int) -> dict:
    """Every row of the build into `generation`'s partitions: the articles a group at a time, each
    group one transaction, skipping those an interrupted publish committed; then what spans them."""
    tables = {t: generations.partition(t, generation) for t in schema.GENERATION_TABLES}
    committed = {row[0] for row in target.execute(f"SELECT id FROM {tables['articles']}")}
    target.commit()
    sizes = source.execute("SELECT a.id, count(p.id) FROM articles a LEFT JOIN passages p ON p.article_id = a.id "
                           "GROUP BY a.id ORDER BY a.id").fetchall()
    total = sum(size for _, size in sizes)
    done = sum(size for article_id, size in sizes if article_id in committed)
    plain = {r[0] for r in source.execute("SELECT rowid FROM passages_fts_plain")}
    for group in _article_groups([(a, n) for a, n in sizes if a not in committed], batch):
        with target.transaction():
            # The publish that makes the generation live commits durably; a crash that loses the
            # last of these commits only makes the resume copy those articles again.
            target.execute("SET LOCAL synchronous_commit = off")
            done += _copy_articles(source, vectors, target, tables, generation, model, plain, group)
        progress("copying passages and their vectors", done, total)
        if after_rows:
            after_rows(done)
    with target.transaction():
        for table in SPANNING_TABLES:
            target.execute(f"TRUNCATE {tables[table]}")  # a resumed publish writes them again, whole
        _copy_rows(target, tables["copies"], ("generation", "passage_id", "other_id", "similarity"), (
            (generation, *row) for row in source.execute("SELECT passage_id, other_id, similarity FROM copies")))
        _copy_rows(target, tables["story_members"], ("generation", "story_id", "story_kind", "article_id", "kind"), (
            (generation, *row) for row in source.execute(
                "SELECT m.story_id, s.kind, m.article_id, m.kind FROM story_members m JOIN stories s ON s.id = m.story_id")))
        _copy_rows(target, tables["relations"], ("generation", "a", "b", "kind"), (
            (generation, *row) for row in source.execute("SELECT a, b, kind FROM relations")))
    return {**_counts(target, generation), "resumed_articles": len(committed)}


def _counts(target, generation: int) -> dict[str, int]:
    """The rows `generation` holds of each build table (what `stats` and the report tell)."""
    counts = {table: target.execute(f"SELECT count(*) FROM {generations.partition(table, generation)}").fetchone()[0]
              for table in ("articles", "passages", "sentences", *SPANNING_TABLES, "mentions")}
    target.commit()
    return counts


def _article_groups(sizes: list[tuple[str, int]], batch: int) -> Iterator[list[str]]:
    """Article ids in groups of whole articles holding about `batch` passages (at least one article)."""
    group: list[str] = []
    passages = 0
    for article_id, size in sizes:
        if group and passages + size > batch:
            yield group
            group, passages = [], 0
        group.append(article_id)
        passages += size
    if group:
        yield group


def _copy_articles(source, vectors: FaissVectorIndex, target, tables: dict, generation: int, model: str,
                   plain: set[int], group: list[str]) -> int:
    """One group of articles with their passages (and vectors), sentences and mentions, in the
    caller's transaction; returns the passages written."""
    from pgvector import HalfVector

    chosen = json.dumps(group)
    _copy_rows(target, tables["articles"], ("generation",) + ARTICLE_COLUMNS, (
        (generation, *row) for row in source.execute(
            f"SELECT {', '.join('a.' + c for c in ARTICLE_COLUMNS)} FROM articles a "
            "JOIN json_each(?) j ON j.value = a.id", (chosen,))))
    # The body is the text the embedded keyword index holds (acronyms spelled out beside them:
    # "NRF (National Resistance Front)"), so both backends match the same words.
    rows = source.execute(
        "SELECT p.id, p.article_id, p.start, p.end, p.kind, coalesce(f.title, g.title, ''), "
        "coalesce(f.body, g.body, substr(a.text, p.start + 1, p.end - p.start)) "
        "FROM passages p JOIN json_each(?) j ON j.value = p.article_id JOIN articles a ON a.id = p.article_id "
        "LEFT JOIN passages_fts f ON f.rowid = p.id LEFT JOIN passages_fts_plain g ON g.rowid = p.id "
        "ORDER BY p.id", (chosen,)).fetchall()
    stored = vectors.vectors(np.asarray([row[0] for row in rows], dtype=np.int64))
    _copy_rows(target, tables["passages"], PASSAGE_COLUMNS, (
        (generation, *row[:6], row[6], row[0] not in plain, HalfVector(vector)) for row, vector in zip(rows, stored)),
        types=PASSAGE_TYPES)
    _copy_rows(target, tables["sentences"], ("generation", "passage_id", "start", "end", "embedding"), (
        (generation, passage_id, start, end, _halfvec(vector)) for passage_id, start, end, vector in source.execute(
            "SELECT s.passage_id, s.start, s.end, e.vector FROM passages p JOIN json_each(?) j ON j.value = p.article_id "
            "JOIN sentences s ON s.passage_id = p.id LEFT JOIN embeddings e ON e.model = ? AND e.text_hash = s.embed_hash",
            (chosen, model))), types=("integer", "bigint", "integer", "integer", "halfvec"))
    _copy_rows(target, tables["mentions"], ("generation", "article_id", "key", "name", "type", "start", "end"), (
        (generation, *row) for row in source.execute(
            "SELECT m.article_id, m.key, m.name, m.type, m.start, m.end FROM mentions m "
            "JOIN json_each(?) j ON j.value = m.article_id", (chosen,))))
    return len(rows)


def _halfvec(blob: bytes | None):
    """A stored float32 vector (the embedding cache's blob) as pgvector's halfvec, or None."""
    if blob is None:
        return None
    from pgvector import HalfVector

    return HalfVector(np.frombuffer(blob, dtype="<f4"))


def _copy_rows(target, table: str, columns: tuple[str, ...], rows: Iterable[tuple],
               types: tuple[str, ...] | None = None) -> int:
    """COPY `rows` into `table`; returns how many. Text format (psycopg adapts each value), or
    binary with the column `types` given (what a vector column needs)."""
    count = 0
    binary = " WITH (FORMAT BINARY)" if types else ""
    with target.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(_quoted(columns))}) FROM STDIN{binary}") as copy:
        if types:
            copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _quoted(columns: Iterable[str]) -> list[str]:
    return [f'"{c}"' for c in columns]  # "end" is a reserved word in PostgreSQL
