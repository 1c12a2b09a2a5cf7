"""How strongly a result answers the question, on a scale a person can read (0 to 1, not relative
to the best hit), and the line under which the archive is said to have no strong match.

Two kinds of evidence per hit: the passage's cosine to the question (meaning) and its coverage,
the share of the question's word weight (idf) that the passage holds (words). A logistic curve
over both was fitted by benchmarks/calibrate_relevance.py on collections the ranking was not
tuned on (TIME's questions, answerable, and SciFact's training claims asked of TIME, which it
cannot answer); the coefficients and the threshold below come from that run, and the README
reports the false-alarm and miss rates it measured on the seed archive and SciFact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from archivist.records import Hit, ParsedQuery
from archivist.storage.keyword_index import KeywordIndex
from archivist.storage.vector_index import VectorIndex

# relevance = 1 / (1 + exp(-(INTERCEPT + COSINE * cosine + COVERAGE * coverage))), fitted on
# 2,781 hits (79 TIME questions, 200 SciFact training claims asked of TIME) on 2026-12-02. The
# fitted intercept was -6.3495 and the chosen threshold (at most 5% of TIME's answerable
# questions below it: 3.8%) was 0.1299; the intercept is shifted by that threshold's logit (+1.9022)
# so that the strong-match line reads as 0.5 on the scale shown to people.
INTERCEPT = -4.4473
COSINE = 8.9550
COVERAGE = 2.0086
# A hit at or above this relevance is a strong match; when none is, the response says so.
STRONG = 0.5


def relevance(cosine: float, coverage: float) -> float:
    """The calibrated relevance of one passage, from its cosine and its word coverage."""
    z = INTERCEPT + COSINE * cosine + COVERAGE * coverage
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def idf_weights(frequencies: Mapping[str, int], passages: int) -> dict[str, float]:
    """bm25's idf of each query word: a word in few passages says more than one in many."""
    return {term: math.log((passages - df + 0.5) / (df + 0.5) + 1.0) for term, df in frequencies.items()}


def coverage(held: set[str], weights: Mapping[str, float]) -> float:
    """The share of the query's word weight that a passage holds (0 when the query has no words)."""
    total = sum(weights.values())
    return sum(weights[t] for t in held if t in weights) / total if total > 0 else 0.0


def rate_hits(hits: list[Hit], query: ParsedQuery, vector: np.ndarray, vectors: VectorIndex,
              keywords: KeywordIndex) -> None:
    """Rate every hit against the query: its passage's cosine, and which query words it holds."""
    if not hits:
        return
    ids = [h.passage_id for h in hits]
    terms = query.terms
    weights = idf_weights(keywords.document_frequencies(terms), vectors.count) if terms else {}
    rate(hits, vectors.cosines(ids, vector), keywords.terms_held(ids, terms) if terms else {}, weights)


def rate(hits: list[Hit], cosines: list[float], held: Mapping[int, set[str]], weights: Mapping[str, float]) -> None:
    """Set each hit's `relevance` and the evidence behind it."""
    for hit, cosine in zip(hits, cosines):
        share = coverage(held.get(hit.passage_id, set()), weights)
        hit.evidence = {"cosine": round(float(cosine), 4), "coverage": round(share, 4)}
        hit.relevance = relevance(float(cosine), share)


def no_strong_match(hits: list[Hit]) -> bool:
    """Whether no hit reaches STRONG (also when there are no hits at all)."""
    return not any((h.relevance or 0.0) >= STRONG for h in hits)
