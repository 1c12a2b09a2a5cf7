"""Passages that other articles carry too (wire copies, rewrites): found once at reindex time.

Two passages are copies when their vectors (headline + passage) are nearly the same and they
belong to different articles. Search uses the pairs to fold copies into one result's `also_in`.
"""

from __future__ import annotations

import numpy as np

from archivist.storage.vector_index import VectorIndex

# Cosine above which two passages of different articles say the same thing in near-same words.
# Measured on the seeds: three of the four passages of the rewrite 000 pair with its source 001
# at 0.95-0.98, while distinct passages about the same events in other reports reach at most 0.82.
COPY_THRESHOLD = 0.85
COPY_NEIGHBOURS = 10


def settings() -> dict:
    """What decides the stored copy pairs, for the build's settings record."""
    return {"threshold": COPY_THRESHOLD, "neighbours": COPY_NEIGHBOURS}


def find_copies(vector_index: VectorIndex, passage_ids: np.ndarray, article_of: dict[int, str],
                threshold: float = COPY_THRESHOLD, neighbours: int = COPY_NEIGHBOURS
                ) -> list[tuple[int, int, float]]:
    """(passage, other, similarity) in both directions for each of `passage_ids` that has copies."""
    pairs: dict[tuple[int, int], float] = {}
    for begin in range(0, len(passage_ids), 4096):
        batch = passage_ids[begin:begin + 4096]
        queries = vector_index.vectors(batch)
        scores, ids = vector_index.search(queries, neighbours + 1)
        for own, row_scores, row_ids in zip(batch, scores, ids):
            own = int(own)
            for score, other in zip(row_scores, row_ids):
                other = int(other)
                if other < 0 or score < threshold or other == own or other not in article_of:
                    continue  # an aside (not in article_of) is nobody's copy
                if article_of.get(other) == article_of.get(own):
                    continue
                similarity = float(min(score, 1.0))
                pairs[(own, other)] = similarity
                pairs[(other, own)] = similarity
    return [(a, b, s) for (a, b), s in pairs.items()]
