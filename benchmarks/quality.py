"""Retrieval quality on ../shared/data (SciFact, TIME): keyword, semantic and hybrid in one run.

Usage: .venv/bin/python benchmarks/quality.py [--data ../shared/data] [--split test]
Indexes each collection once (cached; reused on later runs) with the archive's own pipeline and
prints one table with the published reference numbers beside ours.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from archivist.evaluation import default_index_for, load_queries, rank_documents, score_run  # noqa: E402
from archivist.build.indexer import reindex  # noqa: E402
from archivist.query.search import MODES, Searcher  # noqa: E402

# nDCG@10 on the test splits, from ../shared/data/README.md (sources named there).
PUBLISHED = {
    "scifact": "BM25 0.665 (BEIR) / 0.679 (Pyserini); MiniLM 0.645; BM25+CE 0.688; SPLADE++ 0.704; BGE-base 0.741",
    "time": "BM25 0.703; MiniLM 0.647; plain RRF 0.72-0.73",
}
TARGETS = {"scifact": "nDCG@10 >= 0.74, R@100 >= 0.96", "time": "nDCG@10 >= 0.76"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--split", default="test")
    parser.add_argument("--collections", nargs="+", default=["scifact", "time"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/archivist-quality"),
                        help="where the Reuters and seed indexes for the trust rows are built")
    parser.add_argument("--skip-trust", action="store_true",
                        help="only the nDCG table (no Reuters exact-words or weak-match rows)")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"quality.py: {args.data} not found; pass --data DIR (the folder with scifact/ and time/).",
              file=sys.stderr)
        return 2
    rows = []
    for name in args.collections:
        collection = args.data / name
        index = default_index_for(collection)
        report = reindex(collection / "corpus.jsonl", index)
        print(f"{name}: {report.summary()}", file=sys.stderr)
        searcher = Searcher.open(index)
        queries, qrels = load_queries(collection, args.split)
        for mode in MODES:
            metrics = score_run(rank_documents(searcher, queries, mode), qrels)
            rows.append((name, mode, len(queries), metrics))
    print(f"Archivist retrieval quality, {args.split} split, {dt.date.today().isoformat()}")
    print("| collection | mode | queries | nDCG@10 | Recall@100 | MRR@10 |")
    print("|---|---|---|---|---|---|")
    for name, mode, count, m in rows:
        print(f"| {name} | {mode} | {count} | {m['nDCG@10']:.4f} | {m['Recall@100']:.4f} | {m['MRR@10']:.4f} |")
    print()
    for name in args.collections:
        print(f"- {name}: published {PUBLISHED.get(name, '-')}; target {TARGETS.get(name, '-')}")
    if not args.skip_trust:
        trust_rows(args.data, args.work)
    return 0


def trust_rows(data: Path, work: Path) -> None:
    """Exact words on Reuters-21578 and the weak-match rates (the shipped relevance scale)."""
    import numpy as np

    from calibrate_relevance import measured_rates, seed_index
    from exact_words import exact_rates
    from paraphrases import REUTERS_QUESTIONS, SEED_QUESTIONS, labelled, paraphrase_rates

    from archivist.query import relevance

    reuters = work / "reuters-index"
    records = data / "reuters21578" / "reuters21578.jsonl"
    print(f"reuters: {reindex(records, reuters).summary()}", file=sys.stderr)
    exact = exact_rates(Searcher.open(reuters))
    reuters_searcher = Searcher.open(reuters)
    paraphrased = {"seed archive": paraphrase_rates(Searcher.open(seed_index(work)), labelled(SEED_QUESTIONS)),
                   "Reuters": paraphrase_rates(reuters_searcher, labelled(REUTERS_QUESTIONS))}
    w = np.array([relevance.INTERCEPT, relevance.COSINE, relevance.COVERAGE])
    weak = measured_rates(data, w, relevance.STRONG, seed_index(work))
    print()
    print("| measure (hybrid) | value | target |")
    print("|---|---|---|")
    print(f"| Reuters: a sentence pasted from an article finds it first (hit@1, {exact['sentences']} drawn) "
          f"| {exact['sentence_hit_at_1']:.3f} | >= 0.98 |")
    print(f"| Reuters: a rare name puts an article holding it first (hit@1, {exact['names']} drawn) "
          f"| {exact['rare_name_hit_at_1']:.3f} | >= 0.95 |")
    for name, rates in paraphrased.items():
        print(f"| {name}: a question worded unlike its answer finds it in the top 3 "
              f"({rates['questions']} labelled, benchmarks/paraphrases.py) | {rates['top3']:.3f} | >= 0.95 |")
    for name, rates in weak.items():
        print(f"| {name}: answerable questions flagged weak ({rates['answerable']}) "
              f"| {rates['answerable_flagged_weak']:.3f} | low |")
        print(f"| {name}: unanswerable questions not flagged ({rates['unanswerable']}) "
              f"| {rates['unanswerable_not_flagged']:.3f} | low |")


if __name__ == "__main__":
    sys.exit(main())
