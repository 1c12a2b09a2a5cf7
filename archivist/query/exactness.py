"""Exact words win when they are exact: a sentence pasted from an article, and a rare name typed
as a name, lift the passages that hold them above passages that only resemble them.

The model reads a pasted sentence and its paraphrase in another article alike, and a name it has
never seen as noise; the words themselves are the evidence a reporter means. Two bonuses, added
to the fused score after fusion:
- verbatim: the query's words (six or more, no operators) in this order in the passage's text;
- a name: a word the user capitalised, in at most NAME_MAX_SHARE of passages, in a query of at
  most NAME_MAX_WORDS content words; every passage holding it.
Measured by benchmarks/exact_words.py on Reuters-21578 (the quality table in the README).
"""

from __future__ import annotations

import re

from archivist.ingest.words import lowercase_words
from archivist.records import Filters, ParsedQuery
from archivist.storage.keyword_index import KeywordIndex

VERBATIM_MIN_WORDS = 6
VERBATIM_BONUS = 1.0
NAME_MAX_WORDS = 3
NAME_MAX_SHARE = 0.005  # of the archive's passages
NAME_MIN_PASSAGES = 5  # a small archive still treats a word in this many passages as rare
NAME_BONUS = 0.5
MAX_BOOSTED = 200
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*", re.UNICODE)


def exact_boosts(query: ParsedQuery, keywords: KeywordIndex, passages: int, filters: Filters) -> dict[int, float]:
    """{passage id: bonus} for the passages that hold the query's exact words."""
    boosts: dict[int, float] = {}
    words = lowercase_words(query.text)
    if not query.phrases and not query.excluded and len(words) >= VERBATIM_MIN_WORDS:
        for passage_id in keywords.phrase_ids(words, MAX_BOOSTED, filters):
            boosts[passage_id] = VERBATIM_BONUS
    names = _typed_names(query)
    if names and len(query.terms) <= NAME_MAX_WORDS:
        frequencies = keywords.document_frequencies(names)
        limit = max(NAME_MIN_PASSAGES, NAME_MAX_SHARE * passages)
        for name in names:
            if 0 < frequencies[name] <= limit:
                for passage_id in keywords.phrase_ids([name], MAX_BOOSTED, filters):
                    boosts[passage_id] = boosts.get(passage_id, 0.0) + NAME_BONUS
    return boosts


def _typed_names(query: ParsedQuery) -> list[str]:
    """Content words the user wrote capitalised (not in a query written all in capitals)."""
    if query.text.upper() == query.text:
        return []
    typed = {w for match in _CAPITALISED.findall(query.text) for w in lowercase_words(match)}
    return [t for t in query.terms if t in typed]
