"""A synthetic archive of N passages (default 1,000,000): text plus vectors, no model needed.

Usage: .venv/bin/python benchmarks/synthetic_archive.py --index /tmp/synthetic/index [--passages N]

Writes a complete index (SQLite with FTS5, FAISS files, manifest) in the same format reindex writes,
so `Searcher` and `archivist search` open it as they would a real archive. What it imitates:
- text: 100-word passages from a Zipf-distributed vocabulary of 50,000 made-up words, half drawn
  from the whole vocabulary and half from one of 2,000 topics (so keyword queries have common and
  rare words, as news text does); four passages an article, 60 outlets, dates 1990-2025;
- vectors: unit vectors around each passage's topic centre, so neighbours cluster as real
  embeddings do (uniform noise would make every vector index look bad or good at random).
Passages have no sentence rows (their highlight is the only thing sentences are for).
It also writes `queries.jsonl`: questions made of a passage's words (passages drawn uniformly), with
a vector near it; `--queries-only` draws them again for an existing archive.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archivist.storage import database, manifest as index_files  # noqa: E402
from archivist.storage.keyword_index import Fts5KeywordIndex  # noqa: E402
from archivist.storage.vector_index import FaissVectorIndex, kind_for  # noqa: E402
from archivist.build.indexer import ReindexReport, build_manifest  # noqa: E402

VOCABULARY = 50_000
TOPICS = 2_000
WORDS_PER_TOPIC = 400
PASSAGE_WORDS = 100
PASSAGES_PER_ARTICLE = 4
OUTLETS = 60
DIMENSION = 384
_SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["an", "er", "in", "or", "ul"]


def made_up_words(count: int, rng: np.random.Generator) -> list[str]:
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(_SYLLABLES, size=int(rng.integers(2, 5)))))
    return sorted(words, key=lambda w: (len(w), w))  # short words get the frequent ranks


def write_queries(index: Path, count: int, rng: np.random.Generator) -> None:
    """`queries.jsonl`: for passages drawn uniformly from the whole archive, six of their words as the
    question and a vector close to theirs (what the model would give a question about them)."""
    published = json.loads((index / index_files.MANIFEST).read_text())
    build = index_files.build_dir(index, published["build_id"])
    vector_index = FaissVectorIndex.load(build / index_files.VECTORS)
    connection = database.connect(build / index_files.DATABASE, readonly=True)
    ids = vector_index.ids()
    with open(index / "queries.jsonl", "w", encoding="utf-8") as out:
        for passage_id in rng.choice(ids, size=min(count, len(ids)), replace=False):
            text = connection.execute("SELECT body FROM passages_fts WHERE rowid = ?", (int(passage_id),)).fetchone()[0]
            words = rng.choice(text.rstrip(".").lower().split(), size=6, replace=False)
            near = vector_index.vector(int(passage_id))[0] + 0.05 * rng.normal(size=DIMENSION)
            out.write(json.dumps({"query": " ".join(words), "passage_id": int(passage_id),
                                  "vector": (near / np.linalg.norm(near)).round(5).tolist()}) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--queries-only", action="store_true", help="only draw new queries for an existing archive")
    args = parser.parse_args()
    if args.queries_only:
        write_queries(args.index, args.queries, np.random.default_rng(args.seed))
        return 0
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    words = np.array(made_up_words(VOCABULARY, rng))
    zipf = 1.0 / np.arange(1, VOCABULARY + 1) ** 1.07
    cdf = np.cumsum(zipf / zipf.sum())
    topic_words = rng.integers(200, VOCABULARY, size=(TOPICS, WORDS_PER_TOPIC))  # topics skip the commonest
    centres = rng.normal(size=(TOPICS, DIMENSION)).astype(np.float32)

    build_id = "synthetic-" + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    build = index_files.build_dir(args.index, build_id)
    build.mkdir(parents=True)
    connection = database.connect(build / index_files.DATABASE)
    connection.execute("PRAGMA synchronous = OFF")
    articles = args.passages // PASSAGES_PER_ARTICLE
    matrix = np.zeros((articles * PASSAGES_PER_ARTICLE, DIMENSION), dtype=np.float32)
    passage_id = 0
    for first in range(0, articles, 5000):
        article_rows, passage_rows, fts_rows = [], [], []
        count = min(first + 5000, articles) - first
        topics = rng.integers(TOPICS, size=count)
        half = PASSAGE_WORDS // 2
        general = np.minimum(np.searchsorted(cdf, rng.random((count, PASSAGES_PER_ARTICLE, half))), VOCABULARY - 1)
        topical = topic_words[topics[:, None, None], rng.integers(0, WORDS_PER_TOPIC, (count, PASSAGES_PER_ARTICLE, half))]
        mixed = rng.permuted(np.concatenate([general, topical], axis=2), axis=2)
        noise = rng.normal(size=(count, PASSAGES_PER_ARTICLE, DIMENSION)).astype(np.float32)
        for row, number in enumerate(range(first, first + count)):
            article_id = f"synthetic-{number:07d}"
            topic = int(topics[row])
            texts, offsets, position = [], [], 0
            for part in range(PASSAGES_PER_ARTICLE):
                text = " ".join(words[mixed[row, part]]).capitalize() + "."
                texts.append(text)
                offsets.append((position, position + len(text)))
                position += len(text) + 2
            body = "\n\n".join(texts)
            date = (dt.date(1990, 1, 1) + dt.timedelta(days=int(rng.integers(0, 35 * 365)))).isoformat()
            title = " ".join(words[topic_words[topic, :3]]).title()
            article_rows.append((article_id, f"synthetic/{number:07d}.txt", title, f"Outlet {number % OUTLETS}",
                                 date, None, None, body, f"{number:064x}", 0))
            for ordinal, ((start, end), text) in enumerate(zip(offsets, texts)):
                passage_id += 1
                passage_rows.append((passage_id, article_id, ordinal, start, end, ""))
                fts_rows.append((passage_id, title, text))
                vector = centres[topic] + 0.9 * noise[row, ordinal]
                matrix[passage_id - 1] = vector / np.linalg.norm(vector)
        connection.executemany("INSERT INTO articles(id, path, title, outlet, date, url, author, text, sha256, "
                               "body_start) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", article_rows)
        connection.executemany("INSERT INTO passages(id, article_id, ordinal, start, end, embed_hash) "
                               "VALUES (?, ?, ?, ?, ?, ?)", passage_rows)
        connection.executemany("INSERT INTO passages_fts(rowid, title, body) VALUES (?, ?, ?)", fts_rows)
        connection.commit()
        print(f"\rtext: {passage_id:,} / {len(matrix):,} passages ({time.perf_counter() - started:.0f} s)",
              end="", file=sys.stderr)
    print(file=sys.stderr)
    connection.execute("INSERT INTO passages_fts(passages_fts) VALUES ('optimize')")
    Fts5KeywordIndex(connection).finish_build()
    connection.commit()
    connection.close()
    print(f"vectors: building a {kind_for(len(matrix))} index of {len(matrix):,}", file=sys.stderr)
    vector_index = FaissVectorIndex.build(matrix, np.arange(1, len(matrix) + 1, dtype=np.int64))
    vector_index.save(build / index_files.VECTORS)
    del vector_index
    report = ReindexReport(articles=articles, added=articles, passages=len(matrix), sentences=0)
    index_files.publish_manifest(args.index, build_manifest(build, None, report, embedder_backend="synthetic"))
    del matrix
    write_queries(args.index, args.queries, rng)
    size = sum(f.stat().st_size for f in build.iterdir())
    print(f"done: {report.passages:,} passages, {args.queries} queries, {size / 1e9:.2f} GB on disk, "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    raise SystemExit(main())
