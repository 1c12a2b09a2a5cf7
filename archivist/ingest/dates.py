"""Dates from any source normalised to ISO `YYYY-MM-DD`, so filters and sorting compare strings."""

from __future__ import annotations

import datetime as dt
import re

from dateutil import parser as dateutil_parser

from archivist.errors import BadInput

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def normalise_date(value: object) -> str | None:
    """Return ISO date for a date-like value, or None when it cannot be understood.

    Unparseable dates from articles are dropped (the article becomes undated) rather than
    failing the article: a wrong date is worse than none.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    if _ISO.match(text):
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            return None
    try:
        # Parsed twice with different defaults: a value that names no full date ("Monday",
        # "12:30", "3") takes day, month or year from the default and the two disagree.
        first = dateutil_parser.parse(text, default=dt.datetime(1901, 1, 1), fuzzy=False)
        second = dateutil_parser.parse(text, default=dt.datetime(1902, 2, 2), fuzzy=False)
    except (ValueError, OverflowError, TypeError):
        return None
    if first.date() != second.date():
        return None
    return first.date().isoformat()


def parse_user_date(value: str | None, flag: str) -> str | None:
    """A date the user typed as a filter: ISO or anything unambiguous, else a BadInput naming the flag."""
    if value is None or not str(value).strip():
        return None
    iso = normalise_date(value)
    if iso is None:
        raise BadInput(f"{flag} {value!r} is not a date; use the form YYYY-MM-DD, e.g. 2021-09-03.")
    return iso
