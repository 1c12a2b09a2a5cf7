"""Versioned schema migrations, applied in order by whatever writes the index (publish, reindex).

Pending migrations run once each, in one transaction under an advisory lock (two writers
starting at once never both apply one), and are recorded in `archivist_schema`. A
database whose schema is newer than this code refuses to be written or read (no silent drift):
the message says to upgrade Archivist. Tables holding a build's rows are partitioned by
generation, so a new build is written beside the live one and an old one is dropped whole.
"""

from __future__ import annotations

from archivist.errors import IndexIncompatible

DIMENSION = 384  # all-MiniLM-L6-v2

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "generations, articles, passages with tsvector and halfvec, copies, stories, mentions, embedding cache", f"""
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE generations (
    id integer PRIMARY KEY,
    build_id text NOT NULL,            -- the embedded build it was copied from, or its own
    state text NOT NULL CHECK (state IN ('writing', 'live', 'retired')),
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    counts jsonb NOT NULL DEFAULT '{{}}'
);
CREATE SEQUENCE generation_ids;  -- never reused: a number names one build for good
CREATE UNIQUE INDEX generations_one_live ON generations ((true)) WHERE state = 'live';
CREATE TABLE articles (
    generation integer NOT NULL, id text NOT NULL, path text NOT NULL, title text NOT NULL,
    outlet text, date text, url text, author text, place text, language text, pages text,
    extraction text, text text NOT NULL, sha256 text NOT NULL, body_start integer NOT NULL,
    PRIMARY KEY (generation, id)
) PARTITION BY LIST (generation);
CREATE TABLE passages (
    generation integer NOT NULL, id bigint NOT NULL, article_id text NOT NULL,
    start integer NOT NULL, "end" integer NOT NULL, kind text NOT NULL DEFAULT 'text',
    title text NOT NULL DEFAULT '', body text NOT NULL,
    stemmed boolean NOT NULL DEFAULT true,  -- English: stemmed words; other languages: as written
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector(CASE WHEN stemmed THEN 'english'::regconfig ELSE 'simple'::regconfig END, title), 'A')
        || to_tsvector(CASE WHEN stemmed THEN 'english'::regconfig ELSE 'simple'::regconfig END, body)) STORED,
    embedding halfvec({DIMENSION}) NOT NULL,
    PRIMARY KEY (generation, id)
) PARTITION BY LIST (generation);
CREATE TABLE sentences (
    generation integer NOT NULL, passage_id bigint NOT NULL, start integer NOT NULL, "end" integer NOT NULL
) PARTITION BY LIST (generation);
CREATE TABLE copies (
    generation integer NOT NULL, passage_id bigint NOT NULL, other_id bigint NOT NULL, similarity real NOT NULL
) PARTITION BY LIST (generation);
CREATE TABLE story_members (
    generation integer NOT NULL, story_id integer NOT NULL, story_kind text NOT NULL,
    article_id text NOT NULL, kind text NOT NULL
) PARTITION BY LIST (generation);
CREATE TABLE relations (
    generation integer NOT NULL, a text NOT NULL, b text NOT NULL, kind text NOT NULL
) PARTITION BY LIST (generation);
CREATE TABLE mentions (
    generation integer NOT NULL, article_id text NOT NULL, key text NOT NULL, name text NOT NULL,
    type text NOT NULL, start integer NOT NULL, "end" integer NOT NULL
) PARTITION BY LIST (generation);
CREATE TABLE embeddings (  -- the embedding cache, shared by every generation
    model text NOT NULL, text_hash text NOT NULL, vector halfvec({DIMENSION}) NOT NULL,
    PRIMARY KEY (model, text_hash)
);
"""),
    (2, "bm25 statistics: each passage's word count and each word's passage count, per generation", """
CREATE TABLE passage_words (
    generation integer NOT NULL, id bigint NOT NULL, words integer NOT NULL
) PARTITION BY LIST (generation);
CREATE TABLE term_stats (
    generation integer NOT NULL, lexeme text NOT NULL, passages integer NOT NULL
) PARTITION BY LIST (generation);
"""),
    (3, "each sentence's stored vector, so a search on Postgres marks a hit's best sentence", f"""
ALTER TABLE sentences ADD COLUMN embedding halfvec({DIMENSION});
"""),
    (4, "each word's bm25 share in each passage holding it, so an any-word query sums posting lists", """
CREATE TABLE term_postings (
    generation integer NOT NULL, lexeme text NOT NULL, id bigint NOT NULL, score double precision NOT NULL
) PARTITION BY LIST (generation);
"""),
    (5, "the entity clean-ups (merges, hidden names) a generation was published with", """
ALTER TABLE generations ADD COLUMN entity_edits jsonb NOT NULL DEFAULT '{}';
"""),
    (6, "a user's own lists (the watchlist, clean-ups of names), kept outside the generations so no publish drops them", """
CREATE TABLE documents (name text PRIMARY KEY, body jsonb NOT NULL, version bigint NOT NULL DEFAULT 0);
"""),
    (7, "the entity cache: mentions found in each article's text, shared by every machine's reindex", """
CREATE TABLE entity_cache (
    model text NOT NULL, text_hash text NOT NULL, mentions jsonb NOT NULL,
    PRIMARY KEY (model, text_hash)
);
"""),
]
LATEST = MIGRATIONS[-1][0]
# The tables written per generation, each a partition of its parent.
GENERATION_TABLES = ("articles", "passages", "sentences", "copies", "story_members", "relations", "mentions",
                     "passage_words", "term_stats", "term_postings")


def schema_version(connection) -> int:
    """The highest migration applied, 0 for an empty database."""
    exists = connection.execute("SELECT to_regclass('archivist_schema') IS NOT NULL").fetchone()[0]
    if not exists:
        return 0
    return connection.execute("SELECT coalesce(max(version), 0) FROM archivist_schema").fetchone()[0]


def check_version(connection) -> int:
    """The schema version, refusing one this code does not know."""
    version = schema_version(connection)
    if version > LATEST:
        raise IndexIncompatible(f"The database's schema is version {version}, newer than this Archivist "
                                f"knows ({LATEST}); upgrade Archivist to use it.")
    return version


def migrate(connection) -> list[int]:
    """Apply every migration not yet applied; returns their versions."""
    applied: list[int] = []
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(hashtext('archivist_schema'))")
        connection.execute("CREATE TABLE IF NOT EXISTS archivist_schema (version integer PRIMARY KEY, "
                           "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        current = check_version(connection)
        for version, description, statements in MIGRATIONS:
            if version <= current:
                continue
            connection.execute(statements)
            connection.execute("INSERT INTO archivist_schema(version, description) VALUES (%s, %s)",
                               (version, description))
            applied.append(version)
    return applied
