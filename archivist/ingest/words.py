"""Words of a text as queries and story signatures see them: lowercase runs of word characters."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves say said tell told did does
""".split())


def lowercase_words(text: str) -> list[str]:
    """Every run of word characters, lowercased: how queries and story signatures see text."""
    return [w.lower() for w in _WORD.findall(text)]


def query_terms(query: str) -> list[str]:
    """Content words of the query, lowercase, in order, without duplicates.

    Only word characters survive, so FTS5 syntax in user text (quotes, AND, NEAR, *, ^, col:)
    can never reach the query parser; all-stopword queries keep their words.
    """
    words = lowercase_words(query)
    content = [w for w in words if w not in STOPWORDS] or words
    return list(dict.fromkeys(content))
