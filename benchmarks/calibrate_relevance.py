"""Calibrate the relevance scale and the weak-match threshold (archivist/query/relevance.py).

Usage: .venv/bin/python benchmarks/calibrate_relevance.py [--data ../shared/data]

Fits, on collections the ranking was not tuned on, a logistic curve from each hit's evidence
(cosine to the question, share of the question's idf weight the passage holds) to "this hit is
a relevant document": TIME's questions asked of TIME (answerable, judged by its qrels) and
SciFact's training claims asked of TIME (which a 1963 news magazine cannot answer). It then
picks the strong-match threshold: the lowest that flags no more than 5% of the answerable TIME
questions as weak. Finally it measures, with those numbers, the rates the README reports: on the
seed archive (its 26 questions vs tests/data/unanswerable_questions.txt) and on SciFact (its 300
test claims vs TIME's questions and the same unanswerable list, asked of SciFact).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from archivist.build.indexer import reindex  # noqa: E402
from archivist.evaluation import default_index_for, load_queries  # noqa: E402
from archivist.query import relevance  # noqa: E402
from archivist.query.search import Searcher  # noqa: E402

FALSE_ALARMS_ALLOWED = 0.05
TESTS = ROOT / "tests" / "data"


def searcher_for(collection: Path, embedder=None) -> Searcher:
    index = default_index_for(collection)
    reindex(collection / "corpus.jsonl", index, embedder=embedder)
    return Searcher.open(index, embedder=embedder)


def hits_evidence(searcher: Searcher, questions: list[str]) -> list[list[tuple[str, float, float]]]:
    """Per question, its top 10 hits as (document id or path, cosine, coverage)."""
    out = []
    for question in questions:
        hits = searcher.search(question, k=10).hits
        out.append([(h.article.path.split("#", 1)[-1], h.evidence["cosine"], h.evidence["coverage"]) for h in hits])
    return out


def fit_logistic(features: np.ndarray, labels: np.ndarray, steps: int = 200) -> np.ndarray:
    """Newton's method for logistic regression with a small ridge; returns (intercept, w...)."""
    x = np.hstack([np.ones((len(features), 1)), features])
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -50, 50)))
        gradient = x.T @ (p - labels) + 1e-3 * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w


def best_relevance(evidence: list[tuple[str, float, float]], w: np.ndarray) -> float:
    if not evidence:
        return 0.0
    return max(1 / (1 + math.exp(-(w[0] + w[1] * c + w[2] * v))) for _, c, v in evidence)


def weak_share(evidence: list[list], w: np.ndarray, threshold: float) -> float:
    return float(np.mean([best_relevance(e, w) < threshold for e in evidence])) if evidence else float("nan")


def seed_questions() -> tuple[list[str], list[str]]:
    answerable = []
    for name in ("seed_questions.tsv", "seed_examples.tsv"):
        for line in (TESTS / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                answerable.append(line.split("\t")[0])
    unanswerable = [line for line in (TESTS / "unanswerable_questions.txt").read_text(encoding="utf-8").splitlines()
                    if line.strip() and not line.startswith("#")]
    return answerable, unanswerable


def calibrate(data: Path) -> dict:
    time_searcher = searcher_for(data / "time")
    time_queries, time_qrels = load_queries(data / "time", "test")
    train_claims, _ = load_queries(data / "scifact", "train")
    ids = list(time_queries)
    answerable = hits_evidence(time_searcher, [time_queries[q] for q in ids])
    unanswerable = hits_evidence(time_searcher, list(train_claims.values())[:200])
    features, labels = [], []
    for query_id, evidence in zip(ids, answerable):
        for doc, cosine, share in evidence:
            features.append((cosine, share))
            labels.append(1.0 if time_qrels[query_id].get(doc, 0) > 0 else 0.0)
    for evidence in unanswerable:
        for _, cosine, share in evidence:
            features.append((cosine, share))
            labels.append(0.0)
    w = fit_logistic(np.asarray(features), np.asarray(labels))
    best = sorted(best_relevance(e, w) for e in answerable)
    threshold = best[int(math.floor(FALSE_ALARMS_ALLOWED * len(best)))]  # at most 5% below it
    return {"coefficients": {"intercept": float(w[0]), "cosine": float(w[1]), "coverage": float(w[2])},
            "threshold": float(threshold), "hits": len(labels),
            "calibration": {"answerable_flagged_weak": weak_share(answerable, w, threshold),
                            "unanswerable_not_flagged": 1 - weak_share(unanswerable, w, threshold),
                            "answerable": len(answerable), "unanswerable": len(unanswerable)}}


def measured_rates(data: Path, w: np.ndarray, threshold: float, seed_index: Path) -> dict:
    answerable, unanswerable = seed_questions()
    seed = Searcher.open(seed_index)
    seed_a, seed_u = hits_evidence(seed, answerable), hits_evidence(seed, unanswerable)
    scifact = searcher_for(data / "scifact")
    claims, _ = load_queries(data / "scifact", "test")
    time_queries, _ = load_queries(data / "time", "test")
    sci_a = hits_evidence(scifact, list(claims.values()))
    sci_u = hits_evidence(scifact, list(time_queries.values()) + unanswerable)
    return {"seed": {"answerable": len(seed_a), "unanswerable": len(seed_u),
                     "answerable_flagged_weak": weak_share(seed_a, w, threshold),
                     "unanswerable_not_flagged": 1 - weak_share(seed_u, w, threshold)},
            "scifact": {"answerable": len(sci_a), "unanswerable": len(sci_u),
                        "answerable_flagged_weak": weak_share(sci_a, w, threshold),
                        "unanswerable_not_flagged": 1 - weak_share(sci_u, w, threshold)}}


def seed_index(work: Path) -> Path:
    index = work / "seed-index"
    reindex(TESTS / "seed_archive", index)
    return index


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=Path("/tmp/archivist-calibration"))
    parser.add_argument("--use-current", action="store_true",
                        help="measure the rates with the shipped coefficients instead of fitting new ones")
    args = parser.parse_args()
    if args.use_current:
        fitted = {"coefficients": {"intercept": relevance.INTERCEPT, "cosine": relevance.COSINE,
                                   "coverage": relevance.COVERAGE}, "threshold": relevance.STRONG}
    else:
        fitted = calibrate(args.data)
    c = fitted["coefficients"]
    w = np.array([c["intercept"], c["cosine"], c["coverage"]])
    fitted["measured"] = measured_rates(args.data, w, fitted["threshold"], seed_index(args.work))
    print(json.dumps(fitted, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
