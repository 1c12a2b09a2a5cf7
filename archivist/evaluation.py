"""`archivist eval`: retrieval quality on a BEIR-format collection, with the archive's own pipeline.

Each corpus record is read as an article by the JSON Lines reader, indexed by the same reindex,
and searched by the same fused retrieval; a document's score comes from its passages.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from archivist.config import cache_home
from archivist.errors import BadInput
from archivist.build.indexer import reindex
from archivist.progress import ProgressBars
from archivist.query.search import Searcher

# How many documents are ranked per query (Recall@100 needs 100) and passages fetched for them.
DOCS_PER_QUERY = 100
PASSAGES_PER_QUERY = 400
AGGREGATIONS = ("max", "sum", "top2")


@dataclass
class EvalResult:
    metrics: dict[str, float]
    queries: int
    run: dict[str, dict[str, float]]

    def to_json(self) -> dict:
        return {"queries": self.queries, **{k: round(v, 4) for k, v in self.metrics.items()}}


def default_index_for(collection: Path) -> Path:
    """A per-collection cache folder, so re-running eval reuses its index."""
    base = cache_home() / "eval"
    key = hashlib.sha256(str(collection.resolve()).encode()).hexdigest()[:10]
    return base / f"{collection.resolve().name}-{key}"


def load_queries(collection: Path, split: str) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """Queries that have judgments in `qrels/<split>.tsv`, and those judgments."""
    qrels_path = collection / "qrels" / f"{split}.tsv"
    for needed in (collection / "corpus.jsonl", collection / "queries.jsonl", qrels_path):
        if not needed.is_file():
            raise BadInput(f"{needed} is missing; a BEIR collection has corpus.jsonl, queries.jsonl "
                           "and qrels/<split>.tsv.")
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(qrels_path, encoding="utf-8", errors="replace") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if len(row) < 3 or row[0] == "query-id":
                continue
            try:
                qrels[row[0]][row[1]] = int(row[2])
            except ValueError:
                raise BadInput(f"{qrels_path} line {number}: the score {row[2]!r} is not a whole number; "
                               "qrels lines are query-id, corpus-id, score.") from None
    queries: dict[str, str] = {}
    path = collection / "queries.jsonl"
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                query_id, text = str(record["_id"]), str(record["text"])
            except (ValueError, KeyError, TypeError):
                raise BadInput(f"{path} line {number} is not a query; each line needs "
                               '{"_id": ..., "text": ...}.') from None
            if query_id in qrels:
                queries[query_id] = text
    return queries, dict(qrels)


def rank_documents(searcher: Searcher, queries: dict[str, str], mode: str, aggregation: str = "max",
                   progress: Callable[[str, int, int], None] | None = None) -> dict[str, dict[str, float]]:
    """Run every query; a document's score aggregates its passages' fused scores."""
    if aggregation not in AGGREGATIONS:
        raise BadInput(f"Unknown aggregation {aggregation!r}; use one of {', '.join(AGGREGATIONS)}.")
    doc_of = {passage: path.split("#", 1)[1] for passage, path in searcher.passage_paths().items()}
    ids = list(queries)
    vectors = searcher.embedder.encode([queries[q] for q in ids]) if mode != "keyword" else [None] * len(ids)
    run: dict[str, dict[str, float]] = {}
    for done, (query_id, vector) in enumerate(zip(ids, vectors), start=1):
        ranked = searcher.rank_passages(queries[query_id], vector, PASSAGES_PER_QUERY, mode)
        per_doc: dict[str, list[float]] = defaultdict(list)
        for passage_id, score, _ in ranked:
            per_doc[doc_of[passage_id]].append(score)
        scores = {doc: _aggregate(values, aggregation) for doc, values in per_doc.items()}
        best = sorted(scores.items(), key=lambda item: -item[1])[:DOCS_PER_QUERY]
        run[query_id] = dict(best)
        if progress and (done % 25 == 0 or done == len(ids)):
            progress("queries", done, len(ids))
    return run


def _aggregate(values: list[float], how: str) -> float:
    ordered = sorted(values, reverse=True)
    if how == "max":
        return ordered[0]
    if how == "sum":
        return sum(ordered)
    return ordered[0] + 0.5 * (ordered[1] if len(ordered) > 1 else 0.0)


def score_run(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """nDCG@10, Recall@100 and MRR@10 with ir-measures (pytrec_eval underneath)."""
    import ir_measures
    from ir_measures import RR, R, nDCG

    measures = {"nDCG@10": nDCG @ 10, "Recall@100": R @ 100, "MRR@10": RR @ 10}
    # Queries with no results still count (as zeros), as in trec_eval with -c.
    full_run = {q: (run.get(q) or {"__none__": 0.0}) for q in qrels}
    totals = ir_measures.calc_aggregate(list(measures.values()), qrels, full_run)
    return {name: float(totals[measure]) for name, measure in measures.items()}


def write_trec_run(run: dict[str, dict[str, float]], path: Path, tag: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for query_id, docs in run.items():
            for rank, (doc, score) in enumerate(sorted(docs.items(), key=lambda item: -item[1]), start=1):
                handle.write(f"{query_id} Q0 {doc} {rank} {score:.6f} {tag}\n")


def evaluate(collection: Path, split: str = "test", index: Path | None = None, mode: str = "hybrid",
             aggregation: str = "max", quiet: bool = False, index_url: str | None = None) -> EvalResult:
    """Index the corpus (reusing an up-to-date index) and score the split's queries; with
    `index_url`, the index is published to that PostgreSQL database and ranked from there."""
    queries, qrels = load_queries(collection, split)
    index = index or default_index_for(collection)
    bars = ProgressBars(enabled=not quiet, min_items=1)
    try:
        report = reindex(collection / "corpus.jsonl", index, progress=bars.update)
        if not quiet:
            print(f"index: {report.summary()}", file=sys.stderr)
        searcher = _ranker(index, index_url, bars.update)
        try:
            run = rank_documents(searcher, queries, mode, aggregation, progress=bars.update)
        finally:
            searcher.close()
    finally:
        bars.close()
    return EvalResult(score_run(run, qrels), len(queries), run)


def _ranker(index: Path, index_url: str | None, progress: Callable[[str, int, int], None]):
    """What ranks the passages: the embedded build itself, or its copy published to PostgreSQL."""
    if not index_url:
        return Searcher.open(index)
    from archivist.build.publish_postgres import publish_embedded
    from archivist.query.postgres_search import PostgresSearcher

    publish_embedded(index, index_url, progress=progress)
    return PostgresSearcher(index_url)
