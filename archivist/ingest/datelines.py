"""Wire datelines ("SAO PAULO, Sept 10 -", "KABUL (Reuters) -"): where a story was filed, and when.

A plain-text article has no metadata of its own, but agency copy opens its first paragraph with
the place it was filed from and often the day. That is the best a .txt can say about its place,
and about its date when neither the headline line nor `metadata.csv` gives one.

A dateline names a month and day but seldom a year. The year is then taken from the file's own
context, its path ("2021/09/kabul.txt", "reuters-1987-03.txt": one plausible year in a folder or
file name), and without one the article is left undated: guessing the year from the file's
modification time or today's date would date it wrong more often than not.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# A month as datelines write it: any start of at least three letters of its name ("Sept", "Sep.").
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_AGENCY = r"\((?:Reuters|AP|AFP|UPI|Bloomberg|dpa|Xinhua|IANS|PTI|ANI|AA|Anadolu)\)"
# A place is written in capitals ("SAO PAULO", "WASHINGTON", "NEW YORK", "PORT-AU-PRINCE"), up to
# four words, optionally followed by its region ("SPRINGFIELD, Ill.").
_PLACE = r"(?P<place>[A-Z][A-Z'.\-]+(?: [A-Z][A-Z'.\-]+){0,3})"
_DAY = r"(?P<month>[A-Z][a-z]{2,8})\.? (?P<day>\d{1,2})(?:,? (?P<year>(?:19|20)\d\d))?"
_DASH = r"\s*(?:-+|–|—)(?:\s+|$)"
_DATELINE = re.compile(rf"^\s*{_PLACE}(?:, [A-Z][a-z]{{1,12}}\.?)??(?:, {_DAY})?(?:\s*{_AGENCY})?{_DASH}")
_PATH_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


@dataclass(frozen=True)
class Dateline:
    """What a dateline says: its place (as written, title-cased) and its date when it is whole."""

    place: str
    date: str | None  # ISO YYYY-MM-DD, or None when no year is known or the day is not a date
    end: int  # offset just past the dateline in the text it was read from


def read_dateline(text: str, path: str = "") -> Dateline | None:
    """The dateline opening `text` (the article's first paragraph), if it has one.

    Only a line that looks like agency copy counts: a place in capitals followed by a day and
    month, an agency's name in brackets, or both, then a dash; "NATO said on Monday - ..." or an
    all-capitals shout without a day or an agency is not a dateline."""
    match = _DATELINE.match(text)
    if not match:
        return None
    month, day = match.group("month"), match.group("day")
    if not month and "(" not in match.group(0):
        return None  # neither a day nor an agency: too weak to call it a dateline
    date = None
    if month:
        number = _month_number(month)
        if number is None:
            return None  # "Mayor 3 -" and the like: not a month, not a dateline
        year = match.group("year") or year_from_path(path)
        date = _iso(int(year), number, int(day)) if year else None
    return Dateline(place=_title_case(match.group("place")), date=date, end=match.end())


def year_from_path(path: str) -> str | None:
    """The one plausible year (1900-2099) named in a folder or file name of `path`, else None."""
    years = set(_PATH_YEAR.findall(path))
    return years.pop() if len(years) == 1 else None


def _month_number(word: str) -> int | None:
    word = word.lower()
    return next((n for n, name in enumerate(_MONTHS, start=1) if name.startswith(word)), None)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _title_case(place: str) -> str:
    """ "SAO PAULO" -> "Sao Paulo", "PORT-AU-PRINCE" -> "Port-Au-Prince": how a card shows it."""
    return " ".join("-".join(part.capitalize() for part in word.split("-")) for word in place.split())
