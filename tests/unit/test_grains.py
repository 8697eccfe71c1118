"""A period cut into grains covers every day of it exactly once, whatever its ends."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.grains import Grain, Segment, month_start, next_month_start, segments

DAYS = st.dates(min_value=date(2019, 1, 1), max_value=date(2026, 12, 31))
FAR_PAST, FAR_FUTURE = date(2000, 1, 1), date(2040, 12, 31)


def days_of(segment: Segment) -> set[date]:
    """The calendar days a segment's rows stand for (open ends bounded for counting)."""
    if segment.grain is Grain.ALL_TIME:
        first, last = FAR_PAST, FAR_FUTURE
    elif segment.grain is Grain.DAY:
        first, last = segment.first, segment.last
    else:
        first = segment.first or FAR_PAST
        last = next_month_start(segment.last or month_start(FAR_FUTURE)) - timedelta(days=1)
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


@given(st.one_of(st.none(), DAYS), st.one_of(st.none(), DAYS))
def test_segments_cover_the_period_exactly_once(date_from, date_to):
    parts = segments(date_from, date_to)
    covered: list[date] = [day for part in parts for day in days_of(part)]
    assert len(covered) == len(set(covered)), "a day is counted twice"
    first, last = date_from or FAR_PAST, date_to or FAR_FUTURE
    want = {first + timedelta(days=i) for i in range((last - first).days + 1)} if first <= last else set()
    assert set(covered) == want


@given(DAYS, DAYS)
def test_month_rows_start_on_the_first_and_loose_days_are_few(date_from, date_to):
    for part in segments(date_from, date_to):
        if part.grain is Grain.MONTH:
            assert part.first.day == 1
            assert part.last.day == 1
        if part.grain is Grain.DAY:
            assert (part.last - part.first).days < 62  # at most the two partial months at the ends


def test_a_year_from_the_third_of_march():
    assert segments(date(2024, 3, 3), date(2024, 11, 17)) == [
        Segment(Grain.DAY, date(2024, 3, 3), date(2024, 3, 31)),
        Segment(Grain.MONTH, date(2024, 4, 1), date(2024, 10, 1)),
        Segment(Grain.DAY, date(2024, 11, 1), date(2024, 11, 17)),
    ]
    assert segments(None, None) == [Segment(Grain.ALL_TIME)]
    assert segments(date(2024, 2, 1), date(2024, 2, 29)) == [Segment(Grain.MONTH, date(2024, 2, 1), date(2024, 2, 1))]
    assert segments(date(2024, 5, 2), date(2024, 5, 1)) == []
