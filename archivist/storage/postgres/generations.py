"""Build generations: a writer fills a new generation beside the live one, then one transaction
makes it live. Readers ask which generation is live and read only its partitions, so they never
see half a build; a writer killed mid-way leaves a 'writing' generation that nobody reads and
that the next writer drops before it starts.

One writer at a time: a session advisory lock, released when the writer's connection ends
(even when its process is killed), so a crash never leaves the index locked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from archivist.errors import IndexBusy, IndexMissing
from archivist.storage.postgres.schema import GENERATION_TABLES, LATEST
from archivist.storage.term_scores import B, K1

MIN_IDF = 1e-6  # FTS5's floor for a word in more than half the passages


def bm25_share(passages: str, holding: str, tf: str, words: str, average: str) -> str:
    """FTS5's bm25 share of one word in one passage (its formula and constants), as SQL over the
    given expressions: the passage count, the word's passage count, its count in the passage,
    the passage's length and the average length. One formula for the stored postings and for
    the per-query statement, so the two keyword paths cannot drift apart."""
    return (f"greatest(ln(({passages} - {holding} + 0.5) / ({holding} + 0.5)), {MIN_IDF}) * {tf} * ({K1} + 1) "
            f"/ ({tf} + {K1} * (1 - {B} + {B} * {words} / {average}))")


WRITER_LOCK = "archivist_writer"

# Built after the rows are in (much faster than keeping them up to date row by row).
# HNSW settings: pgvector's defaults (m 16, ef_construction 64); see benchmarks/postgres.py.
INDEXES = (
    "CREATE INDEX ON {passages} USING hnsw (embedding halfvec_ip_ops)",
    "CREATE INDEX ON {passages} USING gin (tsv)",
    "CREATE INDEX ON {passages} (article_id)",
    "CREATE INDEX ON {articles} (outlet)",
    "CREATE INDEX ON {articles} (date)",
    "CREATE INDEX ON {articles} (language)",
    "CREATE INDEX ON {sentences} (passage_id)",
    "CREATE INDEX ON {copies} (passage_id)",
    "CREATE INDEX ON {story_members} (article_id)",
    "CREATE INDEX ON {relations} (a, b)",
    "CREATE INDEX ON {mentions} (key, type)",
    "CREATE INDEX ON {mentions} (article_id)",
)
# What bm25 needs and a tsvector does not keep at hand (storage/postgres/keywords.py): each
# passage's length in words and each lexeme's passage count. The length is the tsvector's last
# position: PostgreSQL numbers stop words too without storing them, so that is every token, as
# FTS5 counts a row's length (the stored positions alone undercount a passage by its stop words,
# about a fifth of English text, and would skew bm25's length normalisation against FTS5's).
KEYWORD_STATISTICS = (
    "INSERT INTO {passage_words} SELECT {generation}, id, "
    "coalesce((SELECT max(position) FROM unnest(tsv) u, unnest(u.positions) AS position), 0) FROM {passages}",
    "INSERT INTO {term_stats} SELECT {generation}, word, ndoc FROM ts_stat('SELECT tsv FROM {passages}')",
    "CREATE UNIQUE INDEX ON {passage_words} (id)",
    "CREATE UNIQUE INDEX ON {term_stats} (lexeme)",
    # Each (word, passage)'s share of bm25 (FTS5's formula, as keywords.BM25 computes it per
    # query), so an any-word query sums the posting lists of its words instead of reading the
    # tsvector of every passage holding one of them (a common word is in thousands).
    "INSERT INTO {term_postings} SELECT {generation}, u.lexeme, p.id, "
    + bm25_share("n.passages", "t.passages", "u.tf", "l.words", "n.average") + " "
    "FROM {passages} p JOIN {passage_words} l ON l.id = p.id "
    "CROSS JOIN LATERAL (SELECT lexeme, cardinality(positions) AS tf FROM unnest(p.tsv)) u "
    "JOIN {term_stats} t ON t.lexeme = u.lexeme "
    "CROSS JOIN (SELECT count(*) AS passages, coalesce(avg(words), 1) AS average FROM {passage_words}) n",
    "CREATE INDEX ON {term_postings} (lexeme)",
)


def partition(table: str, generation: int) -> str:
    return f"{table}_g{int(generation)}"


def live_generation(connection) -> int:
    """The generation readers use; IndexMissing when none was ever published (nor the schema made)."""
    from psycopg.errors import UndefinedTable

    try:
        row = connection.execute("SELECT id FROM generations WHERE state = 'live'").fetchone()
    except UndefinedTable:  # a database nothing was published to yet
        connection.rollback()
        row = None
    if row is None:
        raise IndexMissing("The PostgreSQL index has no published build yet; run `archivist publish "
                           "--index-url URL` (or a reindex into it) first.")
    return row[0]


@contextmanager
def writer(connection) -> Iterator[None]:
    """Hold the one-writer lock for the block; IndexBusy at once when another writer has it."""
    if not connection.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (WRITER_LOCK,)).fetchone()[0]:
        connection.commit()
        raise IndexBusy("Another reindex or publish is writing this PostgreSQL index; wait for it to finish.")
    connection.commit()
    try:
        yield
    finally:
        connection.rollback()
        connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (WRITER_LOCK,))
        connection.commit()


def resume_or_begin(connection, build_id: str) -> tuple[int, bool]:
    """The generation to write `build_id` into, and whether it is indexed already: an interrupted
    publish of the same build, begun by this schema with every partition there, is resumed (its
    committed articles are kept); otherwise a new one (`begin`). Call it holding the writer lock."""
    with connection.transaction():
        found = connection.execute(
            "SELECT id, coalesce((counts -> 'writing' ->> 'indexed')::boolean, false) FROM generations "
            "WHERE state = 'writing' AND build_id = %s AND counts -> 'writing' ->> 'schema' = %s "
            "ORDER BY id DESC LIMIT 1", (build_id, str(LATEST))).fetchone()
        if found is not None and not all(connection.execute("SELECT to_regclass(%s) IS NOT NULL", (
                partition(table, found[0]),)).fetchone()[0] for table in GENERATION_TABLES):
            found = None  # a table this code writes is missing there: start over
    if found is None:
        return begin(connection, build_id), False
    with connection.transaction():
        _drop_abandoned(connection, keep=found[0])
    return found[0], found[1]


def _drop_abandoned(connection, keep: int = -1) -> None:
    """Drop every generation nobody reads (half-written or retired) but `keep`."""
    for (stale,) in connection.execute("SELECT id FROM generations WHERE state IN ('writing', 'retired') "
                                       "AND id != %s", (keep,)).fetchall():
        drop(connection, stale)


def begin(connection, build_id: str) -> int:
    """A new generation in state 'writing', with empty partitions; drops abandoned ones first."""
    with connection.transaction():
        _drop_abandoned(connection)
        generation = connection.execute("SELECT nextval('generation_ids')").fetchone()[0]
        # What wrote it, so a resume never mixes rows of two schemas (publish replaces the counts).
        connection.execute("INSERT INTO generations(id, build_id, state, counts) VALUES (%s, %s, 'writing', %s)",
                           (generation, build_id, json.dumps({"writing": {"schema": LATEST}})))
        for table in GENERATION_TABLES:
            connection.execute(f"CREATE TABLE {partition(table, generation)} PARTITION OF {table} "
                               f"FOR VALUES IN ({int(generation)})")
    return generation


# pgvector builds an HNSW graph fast only while it fits in maintenance_work_mem (else it goes on
# on disk, many times slower, and says so in a NOTICE); PostgreSQL's default is 64 MB, which a graph
# of about 40,000 halfvec(384) passages outgrows. The build raises it for its own transaction to
# what the graph needs (about BUILD_BYTES_PER_PASSAGE each), never above BUILD_MEMORY_CAP, and never
# lowers what the server or role already gives.
BUILD_BYTES_PER_PASSAGE = 2_000
BUILD_MEMORY_CAP_MB = 4_096


def build_memory_mb(passages: int, current_mb: int) -> int:
    """maintenance_work_mem (MB) for building the HNSW graph of `passages` vectors."""
    wanted = passages * BUILD_BYTES_PER_PASSAGE // 1_000_000 + 64
    return max(current_mb, min(wanted, BUILD_MEMORY_CAP_MB))


def build_indexes(connection, generation: int) -> None:
    names = {table: partition(table, generation) for table in GENERATION_TABLES}
    with connection.transaction():
        passages = connection.execute(f"SELECT count(*) FROM {names['passages']}").fetchone()[0]
        current = connection.execute(
            "SELECT setting::bigint * 1024 / 1048576 FROM pg_settings WHERE name = 'maintenance_work_mem'").fetchone()[0]
        connection.execute("SELECT set_config('maintenance_work_mem', %s, true)",
                           (f"{build_memory_mb(passages, int(current))}MB",))
        for statement in INDEXES + KEYWORD_STATISTICS:
            connection.execute(statement.format(generation=int(generation), **names))
        for table in names.values():
            connection.execute(f"ANALYZE {table}")
        # A publish killed after this commits resumes straight to making the generation live.
        connection.execute("UPDATE generations SET counts = jsonb_set(counts, '{writing,indexed}', 'true') "
                           "WHERE id = %s AND counts ? 'writing'", (generation,))


def build_facts(connection, generation: int) -> dict:
    """What `stats` tells of the build a generation holds, as a manifest has it: `built_at` and
    `model` of the embedded build publish copied (kept under "manifest" in its `counts`). A
    generation published before they were kept: when it went live, and the model its vectors fit."""
    from archivist.config import MODEL_NAME

    stored, published_at = connection.execute(
        "SELECT counts, published_at FROM generations WHERE id = %s", (generation,)).fetchone()
    return stored.get("manifest") or {"built_at": published_at.isoformat(timespec="seconds") if published_at else None,
                                      "model": {"name": MODEL_NAME, "backend": None}}


def publish(connection, generation: int, counts: dict) -> int | None:
    """Make `generation` live in one transaction; returns the generation it replaced (retired,
    then dropped once no reader can still be reading it: DROP waits for their transactions).
    `counts` is what the generation holds (row counts, and the "manifest" facts `build_facts` reads)."""
    with connection.transaction():
        previous = connection.execute("SELECT id FROM generations WHERE state = 'live' FOR UPDATE").fetchone()
        connection.execute("UPDATE generations SET state = 'retired' WHERE state = 'live'")
        connection.execute("UPDATE generations SET state = 'live', published_at = now(), counts = %s "
                           "WHERE id = %s", (json.dumps(counts), generation))
    if previous is not None:
        with connection.transaction():
            drop(connection, previous[0])
        return previous[0]
    return None


def drop(connection, generation: int) -> None:
    for table in GENERATION_TABLES:
        connection.execute(f"DROP TABLE IF EXISTS {partition(table, generation)}")
    connection.execute("DELETE FROM generations WHERE id = %s AND state != 'live'", (generation,))


def live_entity_edits(connection) -> dict:
    """The entity clean-ups the live generation was published with ({} when none is live)."""
    row = connection.execute("SELECT entity_edits FROM generations WHERE state = 'live'").fetchone()
    return dict(row[0]) if row else {}


def entity_edits(connection, generation: int) -> dict:
    """The entity clean-ups `publish` copied with the generation (merged and hidden names)."""
    row = connection.execute("SELECT entity_edits FROM generations WHERE id = %s", (generation,)).fetchone()
    return dict(row[0]) if row else {}
