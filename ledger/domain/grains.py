"""How a date range splits into the grains the running totals are kept at: all time, whole months, loose days.

The books keep, besides the entries, running sums per alliance at three grains (the ``entry_totals``
table): one row per combination for all time, one per month and one per day, and the all-time rows once
more with the categories summed together. A balance over any period then reads a bounded number of those
rows instead of every entry: the whole term is the all-time rows,
and 3 March to 17 November is the days 3 to 31 March, the months April to October and the days 1 to 17
November. The cost depends on the length of the period in months and on the loose days at its ends
(at most 61), never on how many entries the period holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

#: The period start stored on all-time rows (a date that sorts before every entry date).
ALL_TIME_START = date(1, 1, 1)


class Grain(StrEnum):
    ALL_TIME = "a"
    MONTH = "m"
    DAY = "d"
    #: All time with every category in one row (category 0): what balances and the home page read when
    #: no category is asked for. Without categories an alliance has several times fewer all-time rows,
    #: so a home page of fifty alliances reads about a thousand rows, not seven thousand.
    ALL_TIME_SUMMED = "s"


@dataclass(frozen=True)
class Segment:
    """Rows of one grain whose period starts between ``first`` and ``last`` (inclusive; None: open)."""

    grain: Grain
    first: date | None = None
    last: date | None = None


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month_start(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_start(grain: Grain, day: date) -> date:
    """The period of ``grain`` that ``day`` falls in, by its first day (what a totals row is keyed by)."""
    if grain in (Grain.ALL_TIME, Grain.ALL_TIME_SUMMED):
        return ALL_TIME_START
    return month_start(day) if grain is Grain.MONTH else day


def segments(date_from: date | None, date_to: date | None) -> list[Segment]:
    """The fewest rows that add up to exactly the entries dated ``date_from`` to ``date_to`` (None: open).

    Days before the first whole month and after the last one are read at the day grain; every whole
    month in between at the month grain. A range inside one or two partial months is read in days.
    """
    if date_from is None and date_to is None:
        return [Segment(Grain.ALL_TIME)]
    if date_from is not None and date_to is not None and date_from > date_to:
        return []
    first_whole = date_from if date_from is None or date_from.day == 1 else next_month_start(date_from)
    # The first day after the last whole month: the range ends on a month's last day, or before this.
    after_whole = None if date_to is None else (
        next_month_start(date_to) if next_month_start(date_to) - timedelta(days=1) == date_to
        else month_start(date_to))
    if first_whole is not None and after_whole is not None and first_whole >= after_whole:
        return [Segment(Grain.DAY, date_from, date_to)]
    result = []
    if date_from is not None and first_whole != date_from:
        result.append(Segment(Grain.DAY, date_from, first_whole - timedelta(days=1)))
    last_whole = None if after_whole is None else after_whole - timedelta(days=1)
    result.append(Segment(Grain.MONTH, first_whole, None if last_whole is None else month_start(last_whole)))
    if date_to is not None and after_whole is not None and after_whole <= date_to:
        result.append(Segment(Grain.DAY, after_whole, date_to))
    return result
