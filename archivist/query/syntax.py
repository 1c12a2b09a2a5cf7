"""The query language every newsroom search tool accepts, read from what a user types.

    "exact phrase"   the words in this order; a hard constraint in every mode
    -word, NOT word  never a result holding the word (or -"a phrase"); a hard constraint
    a OR b           either word (in Keyword mode, where every other word is required)
    word*            any word starting so (in Keyword mode a required word)

Everything else is a plain word and ranks as it always did. Nothing a user types can break the
keyword engine: every word reaches FTS5 quoted, an unbalanced quote is dropped, and an operator
with nothing to act on (a trailing NOT, a leading OR, a lone "-") is read as a plain word.
"""

from __future__ import annotations

import re

from archivist.errors import BadInput
from archivist.ingest.words import lowercase_words
from archivist.records import ParsedQuery, Unit

_TOKEN = re.compile(r'-?"[^"]*"|\S+')
_PREFIX = re.compile(r"^(\w{2,})\*$", re.UNICODE)


def parse_query(raw: str) -> ParsedQuery:
    """Read the operators out of `raw` (already stripped of extra spaces). A query without
    operators embeds exactly as typed; raises BadInput when it only excludes words."""
    if raw.count('"') % 2:
        last = raw.rfind('"')
        raw = raw[:last] + " " + raw[last + 1:]  # the unmatched quote goes; its words stay plain
    tokens = _TOKEN.findall(raw)
    parsed = ParsedQuery(raw=raw, text="")
    shown: list[str] = []
    negate = join_next = False
    for number, token in enumerate(tokens):
        following = tokens[number + 1] if number + 1 < len(tokens) else None
        if token == "NOT" and following is not None:
            negate = True
            continue
        if token == "OR" and parsed.units and following is not None and not negate and following not in ("OR", "NOT"):
            join_next = True
            continue
        excluded = negate or (token.startswith("-") and len(token) > 1)
        body = token[1:] if token.startswith("-") and len(token) > 1 else token
        negate, join = False, join_next
        join_next = False
        quoted = len(body) >= 2 and body.startswith('"') and body.endswith('"')
        words = tuple(lowercase_words(body))
        if not words:
            continue
        if excluded:
            parsed.excluded.append(words)
            continue
        prefix = _PREFIX.match(body)
        shown.append(body.strip('"').rstrip("*") if quoted or prefix else body)
        if quoted and len(words) > 1:
            parsed.phrases.append(words)
            continue
        new_units = [Unit((prefix.group(1).lower(),), prefix=True)] if prefix else [Unit((w,)) for w in words]
        if join and parsed.units and not parsed.units[-1].prefix and not new_units[0].prefix:
            parsed.units[-1] = Unit(parsed.units[-1].words + new_units[0].words)
            new_units = new_units[1:]
        parsed.units.extend(new_units)
    parsed.text = " ".join(shown)
    if not parsed.units and not parsed.phrases:
        if parsed.excluded:
            raise BadInput("The query only excludes words; add a word or a phrase to search for.")
        parsed.text = " ".join(raw.split())  # no words at all ("?!"): the model still reads it
    return parsed


def plain_query(raw: str) -> ParsedQuery:
    """`raw` read as prose, every character a word or punctuation (no operators): how evaluation
    reads benchmark questions, which quote and hyphenate as prose does ("E2f-1, -2, -3")."""
    return ParsedQuery(raw=raw, text=" ".join(raw.split()), units=[Unit((w,)) for w in lowercase_words(raw)])
