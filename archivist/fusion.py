"""Reciprocal rank fusion: combine ranked lists without comparing their incomparable scores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

RRF_K = 60


def reciprocal_rank_fusion(rankings: Mapping[str, Sequence[int]], k: int = RRF_K,
                           weights: Mapping[str, float] | None = None) -> list[tuple[int, float, dict[str, int]]]:
    """Fuse ranked id lists: score(id) = sum over lists of weight / (k + rank), rank from 1.

    Returns (id, score, {list name: rank}) best first; ties keep the order of first appearance.
    """
    scores: dict[int, float] = {}
    ranks: dict[int, dict[str, int]] = {}
    for name, ids in rankings.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, item in enumerate(ids, start=1):
            if item in ranks and name in ranks[item]:
                continue  # an id counts once per list, at its best rank
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            ranks.setdefault(item, {})[name] = rank
    order = sorted(scores, key=lambda i: -scores[i])
    return [(i, scores[i], ranks[i]) for i in order]
