"""The page's timeline: matching articles counted per day, month or year, drawn as an Altair
bar chart whose click or drag selection becomes the date filter.

Plain functions and one chart builder, no Streamlit: the page wires them to its widgets.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import altair as alt

from archivist.records import Hit
from page.display import fmt_date, parse_date

TIMELINE_COLOR = "#3a7bd5"
TIMELINE_HEIGHT = 140  # pixels, axes included: small, but room for a readable bar height
# Axis labels and titles: Streamlit's theme draws them in #808495 (3.8:1 on white); this grey is
# 6.9:1, the page's caption colour (page/style.css).
AXIS_TEXT_COLOR = "#5c5a57"


@dataclass(frozen=True)
class Period:
    """One bar of the timeline: a day, month or year and how many matching articles it holds."""

    first: dt.date
    last: dt.date
    label: str
    articles: int


@dataclass(frozen=True)
class Timeline:
    """Matching articles counted per period; `undated` ones cannot be placed and are only counted."""

    unit: str  # "day", "month" or "year"
    periods: tuple[Period, ...]
    undated: int


def period_unit(low: dt.date, high: dt.date) -> str:
    """Days for a few weeks of news, months for a few years, else years: never more than ~50 bars."""
    days = (high - low).days
    if days <= 45:
        return "day"
    return "month" if days <= 4 * 366 else "year"


def period_bounds(day: dt.date, unit: str) -> tuple[dt.date, dt.date]:
    """The first and last day of the period (of `unit`) that holds `day`."""
    if unit == "day":
        return day, day
    if unit == "month":
        first = day.replace(day=1)
        return first, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)


def period_label(first: dt.date, unit: str) -> str:
    """ "3 Sep 2021", "Sep 2021" or "2021", in the page's one date style."""
    if unit == "day":
        return fmt_date(first.isoformat())
    return f"{first:%b %Y}" if unit == "month" else str(first.year)


def timeline_of(dates: Iterable[str | None]) -> Timeline:
    """Count articles (one date each) per period, the period length chosen by the dates' span."""
    known = list(map(parse_date, dates))
    dated = [day for day in known if day is not None]
    if not dated:
        return Timeline("day", (), len(known))
    unit = period_unit(min(dated), max(dated))
    counts = Counter(period_bounds(day, unit) for day in dated)
    periods = tuple(Period(first, last, period_label(first, unit), n)
                    for (first, last), n in sorted(counts.items()))
    return Timeline(unit, periods, len(known) - len(dated))


def matching_articles(hits: Iterable[Hit]) -> dict[str, str | None]:
    """Every article that carries a hit, its own or a copy, once: article id → date."""
    found: dict[str, str | None] = {}
    for hit in hits:
        for article in [hit.article, *(source.article for source in hit.also_in)]:
            found.setdefault(article.id or article.path, article.date)
    return found


def epoch_ms(day: dt.date) -> int:
    """Midnight UTC of `day` in milliseconds, the unit of Vega-Lite's time scales."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def as_epoch_ms(value: Any) -> float | None:
    """A selection bound from the chart (milliseconds, or an ISO date/time string) in ms."""
    if isinstance(value, int | float):
        return float(value)
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp() * 1000


def selected_period(selection: Mapping[str, Any],
                    periods: Iterable[Period]) -> tuple[dt.date, dt.date] | None:
    """The dates a chart selection stands for: the bars a brush touches, else the clicked bars.

    A brush comes as {field: [low, high]} on the time axis; it is widened to whole bars so
    the results match what the bars count. A click comes as [{"from": ISO, "to": ISO}, ...].
    """
    periods = list(periods)
    for bounds in (selection.get("span") or {}).values():
        ends = sorted(v for v in map(as_epoch_ms, list(bounds)[:2]) if v is not None)
        if len(ends) < 2:
            continue
        touched = [p for p in periods if epoch_ms(p.first) < ends[1]
                   and epoch_ms(p.last + dt.timedelta(days=1)) > ends[0]]
        if touched:
            return touched[0].first, touched[-1].last
        days = [dt.datetime.fromtimestamp(v / 1000, dt.UTC).date() for v in ends]
        return days[0], days[1]
    clicked = [(parse_date(p.get("from")), parse_date(p.get("to")))
               for p in selection.get("bar") or () if isinstance(p, Mapping)]
    clicked = [(first, last) for first, last in clicked if first and last]
    if clicked:
        return min(first for first, _ in clicked), max(last for _, last in clicked)
    return None


def label_step(low: dt.date, high: dt.date, unit: str) -> int:
    """Label every n-th period between `low` and `high` so that about ten labels fit."""
    periods = {"day": (high - low).days, "year": high.year - low.year,
               "month": (high.year - low.year) * 12 + high.month - low.month}[unit]
    return max(1, -(-periods // 10))


def counts_sentence(timeline: Timeline) -> str:
    """The chart's counts in words, its text alternative: "Matching articles by day: 3 Sep 2021,
    1 article; 5 Sep 2021, 2 articles." (and the undated ones, which have no bar)."""
    def articles(n: int) -> str:
        return f"{n:,} article{'' if n == 1 else 's'}"

    sentence = (f"Matching articles by {timeline.unit}: "
                + "; ".join(f"{p.label}, {articles(p.articles)}" for p in timeline.periods) + ".")
    if timeline.undated:
        sentence += f" Undated, not on the timeline: {articles(timeline.undated)}."
    return sentence


def timeline_chart(timeline: Timeline, since: str | None, until: str | None) -> alt.Chart:
    """Small bars per period on a UTC time axis; bars outside the date filter are pale.

    Clicking a bar ("bar") or dragging across bars ("span") is a selection the page reads.
    The axis is padded by one period each side so a lone bar does not fill the width.
    """
    unit = timeline.unit
    rows = [{"start": p.first.isoformat(), "end": (p.last + dt.timedelta(days=1)).isoformat(),
             "from": p.first.isoformat(), "to": p.last.isoformat(), "period": p.label,
             "articles": p.articles,
             "said": f"{p.label}: {p.articles:,} matching article{'' if p.articles == 1 else 's'}",
             "shown": (not since or p.last.isoformat() >= since)
             and (not until or p.first.isoformat() <= until)}
            for p in timeline.periods]
    low = period_bounds(timeline.periods[0].first - dt.timedelta(days=1), unit)[0]
    high = period_bounds(timeline.periods[-1].last + dt.timedelta(days=1), unit)[1]
    high += dt.timedelta(days=1)
    formats = {"day": "%-d %b %Y", "month": "%b %Y", "year": "%Y"}
    bar = alt.selection_point(name="bar", fields=["from", "to"])
    span = alt.selection_interval(name="span", encodings=["x"])
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar(color=TIMELINE_COLOR, stroke="white", strokeWidth=1, cursor="pointer")
        .encode(
            x=alt.X("start:T", title=f"Published (by {unit})",
                    scale=alt.Scale(type="utc", domain=[epoch_ms(low), epoch_ms(high)]),
                    axis=alt.Axis(format=formats[unit], grid=False,
                                  tickCount={"interval": unit,
                                             "step": label_step(low, high, unit)},
                                  labelOverlap=True)),
            x2="end:T",
            y2=alt.datum(0),  # with x and x2 given, a bar needs both ends of its height too
            y=alt.Y("articles:Q", title="Articles",
                    axis=alt.Axis(tickMinStep=1, format="d", tickCount=3)),
            opacity=alt.when("datum.shown").then(alt.value(1.0)).otherwise(alt.value(0.3)),
            description="said:N",  # each bar's label for a screen reader
            tooltip=[alt.Tooltip("period:N", title=unit.capitalize()),
                     alt.Tooltip("articles:Q", title="Matching articles")],
        )
        .add_params(bar, span)
        # Vega puts the description on the chart as its accessible name ("Vega visualization"
        # otherwise); each bar already carries its own label.
        .properties(height=TIMELINE_HEIGHT, description="Timeline chart. " + counts_sentence(timeline))
        .configure_axis(labelColor=AXIS_TEXT_COLOR, titleColor=AXIS_TEXT_COLOR)
    )
