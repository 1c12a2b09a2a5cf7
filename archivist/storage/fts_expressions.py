"""FTS5 MATCH expressions for a parsed query: the SQLite keyword index's reading of the query
language (query/syntax.py). Every word reaches FTS5 quoted, so its syntax never acts."""

from __future__ import annotations

from archivist.ingest.words import query_terms
from archivist.records import ParsedQuery, Unit


def quoted(word: str) -> str:
    """A word or phrase as an FTS5 string: its syntax characters can never act."""
    return '"' + word.replace('"', '""') + '"'


def _unit_expression(unit: Unit) -> str:
    if unit.prefix:
        return f"{quoted(unit.words[0])} *"
    return " OR ".join(quoted(w) for w in unit.words)


def ranking_expression(parsed: ParsedQuery, terms: list[str] | None = None) -> str | None:
    """FTS5 MATCH for the keyword list of Hybrid mode: any word may match (bm25 ranks by how many
    and how rare), the phrases are required in the passage's text and no excluded word may occur."""
    words = [quoted(t) for t in (terms if terms is not None else content_words(parsed))]
    words += [_unit_expression(u) for u in parsed.units if u.prefix]
    positive = " OR ".join(words)
    phrases = [f"body : {quoted(' '.join(p))}" for p in parsed.phrases]
    if positive and phrases:
        expression = f"({positive}) AND " + " AND ".join(phrases)
    else:
        expression = positive or " AND ".join(phrases)
    return _without_excluded(expression, parsed) if expression else None


def all_words_expression(parsed: ParsedQuery) -> str | None:
    """FTS5 MATCH for Keyword mode: every word (or one of its alternatives, or a word with the
    prefix) and every phrase in the passage's text, no excluded word anywhere."""
    content = set(content_words(parsed))
    parts = [f"body : ({_unit_expression(u)})" for u in parsed.units
             if u.prefix or len(u.words) > 1 or u.words[0] in content]
    parts += [f"body : {quoted(' '.join(p))}" for p in parsed.phrases]
    return _without_excluded(" AND ".join(parts), parsed) if parts else None


def constraint_expressions(parsed: ParsedQuery) -> tuple[str | None, str | None]:
    """(what a passage must match, what it must not) for the hard constraints of any mode."""
    required = " AND ".join(f"body : {quoted(' '.join(p))}" for p in parsed.phrases) or None
    excluded = " OR ".join(quoted(" ".join(e)) for e in parsed.excluded) or None
    return required, excluded


def content_words(parsed: ParsedQuery) -> list[str]:
    """The plain words (not prefixes) to rank by, stopwords left out unless they are all there is."""
    plain = " ".join(w for u in parsed.units if not u.prefix for w in u.words)
    return query_terms(plain) if plain else []


def _without_excluded(expression: str, parsed: ParsedQuery) -> str:
    _, excluded = constraint_expressions(parsed)
    return f"({expression}) NOT ({excluded})" if excluded else expression
