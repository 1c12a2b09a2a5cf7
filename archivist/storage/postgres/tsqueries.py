"""tsquery conditions for a parsed query: the PostgreSQL keyword index's reading of the query
language (query/syntax.py), as `fts_expressions` is the SQLite index's.

Every word reaches PostgreSQL as a bound parameter of `plainto_tsquery` / `phraseto_tsquery`
(or, for a prefix, one quoted operand of `to_tsquery`), so nothing a user types acts as tsquery
syntax. The operators map onto tsquery's own: a phrase is `phraseto_tsquery` (stop words
inside it count as any one word, as PostgreSQL places them), an OR group `||`, a prefix `:*`
on the word's stem (the English configuration stems a prefix as FTS5's porter tokenizer does),
an exclusion `!!`.

As on the embedded index, phrases and Keyword mode's words must be in a passage's text (not its
headline: the tsvector's body positions carry weight D, so `ts_filter(tsv, '{d}')` keeps only
them); an excluded word may be nowhere in the passage. A generation holding passages in other
languages has them under the 'simple' configuration (`stemmed` false); each passage is tested
under its own configuration only, so an English passage holding an excluded word's stem never
passes through the unstemmed reading of the query.
"""

from __future__ import annotations

from archivist.records import ParsedQuery, Unit
from archivist.storage.fts_expressions import content_words


class Parameters(dict):
    """The statement's named parameters, each value added once under a fresh name."""

    def add(self, value: str) -> str:
        name = f"tsq{len(self)}"
        self[name] = value
        return f"%({name})s"


def _words(config: str, text: str, params: Parameters) -> str:
    return f"plainto_tsquery('{config}', {params.add(text)})"


def _phrase(config: str, words: tuple[str, ...], params: Parameters) -> str:
    return f"phraseto_tsquery('{config}', {params.add(' '.join(words))})"


def _unit(config: str, unit: Unit, params: Parameters) -> str:
    if unit.prefix:
        operand = "'" + unit.words[0].replace("\\", "\\\\").replace("'", "''") + "':*"
        return f"to_tsquery('{config}', {params.add(operand)})"
    return "(" + " || ".join(_words(config, word, params) for word in unit.words) + ")"


def _and(parts: list[str]) -> str:
    return "(" + " && ".join(parts) + ")"


def _any_phrase(config: str, phrases: list[tuple[str, ...]], params: Parameters) -> str:
    """A tsquery matching any of `phrases` (a word is a phrase of one): what exclusions rule out."""
    return "(" + " || ".join(_phrase(config, p, params) for p in phrases) + ")"


def _one_config(config: str, parsed: ParsedQuery, every_word: bool, params: Parameters,
                vector: str = "p.tsv") -> str | None:
    """The condition over the tsvector `vector` (a passage's, or a text's) under one
    configuration, or None when nothing is asked for."""
    content = set(content_words(parsed))
    if every_word:  # every word (or one of its alternatives, or the prefix) in the text
        positive = [_unit(config, u, params) for u in parsed.units
                    if u.prefix or len(u.words) > 1 or u.words[0] in content]
    else:  # any word ranks: one of them (or a prefix) suffices
        alternatives = [_words(config, w, params) for w in content_words(parsed)]
        alternatives += [_unit(config, u, params) for u in parsed.units if u.prefix]
        positive = ["(" + " || ".join(alternatives) + ")"] if alternatives else []
    phrases = [_phrase(config, p, params) for p in parsed.phrases]
    if not positive and not phrases:
        return None
    in_text = positive + phrases if every_word else phrases
    whole = positive + phrases
    if parsed.excluded:
        whole.append("!!" + _any_phrase(config, parsed.excluded, params))
    condition = f"{vector} @@ {_and(whole)}"
    if in_text:
        condition += f" AND ts_filter({vector}, '{{d}}') @@ {_and(in_text)}"
    return condition


def phrase_condition(config: str, phrases: list[tuple[str, ...]], params: Parameters,
                     vector: str = "p.tsv") -> str:
    """Every one of `phrases` in the text of `vector` (the GIN index finds, the filter checks)."""
    both = _and([_phrase(config, p, params) for p in phrases])
    return f"{vector} @@ {both} AND ts_filter({vector}, '{{d}}') @@ {both}"


def prefix_condition(config: str, unit: Unit, params: Parameters) -> str:
    return f"p.tsv @@ {_unit(config, unit, params)}"


def by_passage_config(conditions: dict[str, str | None]) -> str | None:
    """One condition testing each passage under its own configuration."""
    if set(conditions) == {"english"}:
        return conditions["english"]
    parts = [f"(p.stemmed AND {conditions['english']})" if conditions.get("english") else None,
             f"(NOT p.stemmed AND {conditions['simple']})" if conditions.get("simple") else None]
    kept = [part for part in parts if part]
    return "(" + " OR ".join(kept) + ")" if kept else None


def match_condition(parsed: ParsedQuery, configs: tuple[str, ...], every_word: bool,
                    params: Parameters) -> str | None:
    """The WHERE condition over passages `p` a keyword search matches with: any word (or, with
    `every_word`, each word, alternative group and prefix) with every phrase and no excluded word;
    None when the query asks for nothing the index holds."""
    return by_passage_config({c: _one_config(c, parsed, every_word, params) for c in configs})


def constraint_conditions(parsed: ParsedQuery, configs: tuple[str, ...],
                          params: Parameters) -> tuple[str | None, str | None]:
    """(what a passage must match: every phrase in its text, what it must not: any excluded word)."""
    required = excluded = None
    if parsed.phrases:
        required = by_passage_config({c: phrase_condition(c, parsed.phrases, params) for c in configs})
    if parsed.excluded:
        excluded = by_passage_config({
            c: "p.tsv @@ " + _any_phrase(c, parsed.excluded, params) for c in configs})
    return required, excluded


def text_condition(parsed: ParsedQuery, configs: tuple[str, ...], every_word: bool,
                   params: Parameters) -> str | None:
    """A SELECT-list condition: whether the text bound as %(text)s alone holds what the query
    requires (every word with `every_word`, else its phrases), read under any configuration."""
    if not every_word and not parsed.phrases:
        return None
    vectors = {c: f"to_tsvector('{c}', %(text)s)" for c in configs}
    conditions = [_one_config(c, parsed, True, params, vectors[c]) if every_word
                  else phrase_condition(c, parsed.phrases, params, vectors[c]) for c in configs]
    kept = [condition for condition in conditions if condition]
    return " OR ".join(f"({condition})" for condition in kept) if kept else None
