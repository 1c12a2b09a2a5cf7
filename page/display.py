"""How the page writes values for a reader: one date style, counts, safe links.

Kept apart from app.py so that these rules are plain functions, testable without Streamlit.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse


def fmt_date(value: str | None) -> str:
    """ISO date → "3 Sep 2021"; partial or odd dates are shown as given; None → "undated"."""
    if not value:
        return "undated"
    day = parse_date(value)
    return value if day is None else f"{day.day} {day:%b %Y}"


def fmt_timestamp(value: str | None) -> str:
    """ISO timestamp → "21 Nov 2025, 17:50 UTC" (timezone as stored)."""
    if not value:
        return "unknown"
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    zone = f" {t.tzname()}" if t.tzinfo else ""
    return f"{t.day} {t:%b %Y, %H:%M}{zone}"


def fmt_span(low: str | None, high: str | None) -> str:
    """A date range in the page's one date format; a single day is not written twice."""
    if not low:
        return "no dated articles"
    if fmt_date(low) == fmt_date(high):
        return fmt_date(low)
    return f"{fmt_date(low)} – {fmt_date(high)}"


def plural(count: int, noun: str) -> str:
    """ "1 article", "2 articles"."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def parse_date(value: str | None) -> dt.date | None:
    """An ISO date from the index's stats, or None."""
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def safe_url(url: str | None) -> str | None:
    """The url if it is a real http(s) link; anything else (javascript:, file:) is not linked."""
    if not url:
        return None
    parsed = urlparse(url.strip())
    if parsed.scheme.lower() in ("http", "https") and parsed.netloc:
        return url.strip()
    return None


def dates_label(since: str | None, until: str | None) -> str:
    """The date filter in words: "from 3 Sep 2021", "up to …", "3 Sep 2021 – 30 Sep 2021"."""
    if since and until:
        return fmt_span(since, until) if since != until else f"of {fmt_date(since)}"
    return f"from {fmt_date(since)}" if since else f"up to {fmt_date(until)}"
