"""Search filters as a user gives them (outlet names, dates as typed) checked into a `Filters` record.

Checking is separate from compiling: each index turns the checked record into its own query
language (text_tables.filter_clause for SQLite), so a server engine needs no SQL fragments
handed to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from archivist.ingest.dates import parse_user_date
from archivist.errors import BadInput
from archivist.ingest.language import language_label, language_name, normalise_language
from archivist.records import UNKNOWN_LANGUAGE, UNKNOWN_OUTLET, Filters


def check_filters(outlets: Sequence[str] | None, since: str | None, until: str | None,
                  include_undated: bool, known_outlets: Sequence[str], author: str | None = None,
                  languages: Sequence[str] | None = None, known_languages: Sequence[str] = ()) -> Filters:
    """The filters with dates as ISO days and outlets spelled as the index spells them
    (UNKNOWN_OUTLET stands for articles with no outlet).

    Raises BadInput, naming the fix, for a date that is not a date, a range that runs backwards
    or an outlet the index does not hold."""
    since_iso = parse_user_date(since, "--since")
    until_iso = parse_user_date(until, "--until")
    if since_iso and until_iso and since_iso > until_iso:
        raise BadInput(f"--since {since_iso} is after --until {until_iso}; swap them.")
    named: tuple[str, ...] = ()
    unknown_outlet = any(o.strip().lower() == UNKNOWN_OUTLET for o in outlets or ())
    outlets = [o for o in outlets or () if o.strip().lower() != UNKNOWN_OUTLET]
    if outlets:
        known = {o.lower(): o for o in known_outlets}
        unknown = [o for o in outlets if o.lower() not in known]
        if unknown:
            names = ", ".join(sorted(known.values())) or "none"
            raise BadInput(f"Unknown outlet {unknown[0]!r}; outlets in this index: {names} "
                           f"(or {UNKNOWN_OUTLET!r} for articles without one).")
        named = tuple(known[o.lower()] for o in outlets)
    author = " ".join((author or "").split()) or None
    return Filters(outlets=named, since=since_iso, until=until_iso, include_undated=include_undated,
                   unknown_outlet=unknown_outlet, author=author,
                   languages=check_languages(languages or (), known_languages))


def check_languages(languages: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    """Languages as codes ("German", "DE" and "de" are all "de"), each one the index holds."""
    codes: list[str] = []
    for given in (part.strip() for value in languages for part in value.split(",")):
        if not given:
            continue
        code = UNKNOWN_LANGUAGE if given.lower() == UNKNOWN_LANGUAGE else normalise_language(given)
        if code is None:
            raise BadInput(f"Unknown language {given!r}; give a name or two-letter code such as 'English' or 'de'.")
        if code not in known:
            held = ", ".join(f"{language_label(c)} ({c})" for c in known) or "none"
            missing = ("Every article in this index has a known language" if code == UNKNOWN_LANGUAGE
                       else f"No article in this index is in {language_name(code)}")
            raise BadInput(f"{missing}; languages here: {held}.")
        codes.append(code)
    return tuple(dict.fromkeys(codes))
