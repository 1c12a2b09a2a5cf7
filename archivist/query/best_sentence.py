"""The sentence of each hit that best answers the query, marked on the page (`Hit.highlight`).

From the stored sentence vectors (pooled from each passage's own model pass at reindex), so it
costs no model call but the query's own, and that only in keyword mode.
"""

from __future__ import annotations

import numpy as np

from archivist.storage.cache import EmbeddingCache
from archivist.records import Hit


def mark_best_sentences(hits: list[Hit], cache: EmbeddingCache, query_vector: np.ndarray) -> None:
    """Set `hit.highlight` to the sentence of each hit closest in meaning to the query.

    A joined hit compares the sentences of all its passages; only sentences the card shows
    count (a trimmed one is marked in a better card).
    """
    for hit in hits:
        spans, stored = cache.sentence_vectors([hit.passage_id, *hit.joined_passage_ids], hit.start, hit.end)
        if not spans:
            continue
        hit.highlight = spans[int(np.argmax(stored @ query_vector[0]))]
