"""Paraphrases find their answer: questions worded unlike the passage that answers them, asked
in hybrid search over the seed archive and Reuters-21578, answer in the top 3 (target >= 95%).

Usage: .venv/bin/python benchmarks/paraphrases.py [--data ../shared/data] [--work DIR]

The questions are labelled by hand (tests/data/paraphrase_questions.tsv for the seed archive,
benchmarks/data/reuters_paraphrases.tsv for Reuters) and were never used to tune the ranking.
A question counts as answered when one of the first three results (or an article listed with it
as a copy) holds one of its expected phrases; each miss is printed with the rank it reached.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archivist.build.indexer import reindex  # noqa: E402
from archivist.query.search import Searcher  # noqa: E402

SEED_QUESTIONS = ROOT / "tests" / "data" / "paraphrase_questions.tsv"
REUTERS_QUESTIONS = ROOT / "benchmarks" / "data" / "reuters_paraphrases.tsv"
TOP = 3
DEPTH = 20  # how far down a miss is looked for, to say how near it came


def labelled(path: Path) -> list[tuple[str, list[str]]]:
    """(question, expected phrases) from a tab-separated file whose last two columns are those."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            *_, query, phrases = line.split("\t")
            rows.append((query, phrases.split("|")))
    return rows


def answer_rank(searcher: Searcher, query: str, phrases: list[str], depth: int = DEPTH) -> int | None:
    """The rank of the first result holding an expected phrase (whitespace flattened), or None."""
    for rank, hit in enumerate(searcher.search(query, k=depth).hits, start=1):
        texts = [hit.passage] + [source.passage for source in hit.also_in]
        if any(p in " ".join(t.split()) for t in texts for p in phrases):
            return rank
    return None


def paraphrase_rates(searcher: Searcher, questions: list[tuple[str, list[str]]]) -> dict:
    ranks = {query: answer_rank(searcher, query, phrases) for query, phrases in questions}
    answered = sum(1 for r in ranks.values() if r is not None and r <= TOP)
    return {"questions": len(ranks), "top3": answered / max(1, len(ranks)),
            "misses": {q: r for q, r in ranks.items() if r is None or r > TOP}}


def measure(data: Path, work: Path) -> dict[str, dict]:
    """Both labelled sets over indexes built (or reused) under `work`."""
    seed_index = work / "seed-index"
    reindex(ROOT / "tests" / "data" / "seed_archive", seed_index)  # as the tests and calibrate_relevance.py index it
    results = {"seed archive": paraphrase_rates(Searcher.open(seed_index), labelled(SEED_QUESTIONS))}
    reuters_index = work / "reuters-index"
    print(f"reuters: {reindex(data / 'reuters21578' / 'reuters21578.jsonl', reuters_index).summary()}",
          file=sys.stderr)
    results["Reuters-21578"] = paraphrase_rates(Searcher.open(reuters_index), labelled(REUTERS_QUESTIONS))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=Path("/tmp/archivist-quality"))
    args = parser.parse_args()
    if not (args.data / "reuters21578").is_dir():
        print(f"paraphrases.py: {args.data}/reuters21578 not found; pass --data DIR.", file=sys.stderr)
        return 2
    print("| labelled paraphrase questions (hybrid) | questions | answer in top 3 | target |")
    print("|---|---|---|---|")
    for name, rates in measure(args.data, args.work).items():
        print(f"| {name} | {rates['questions']} | {rates['top3']:.3f} | >= 0.95 |")
        for query, rank in rates["misses"].items():
            print(f"|   miss: {query} | | rank {rank or f'> {DEPTH}'} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
