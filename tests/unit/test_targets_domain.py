"""Periods, quantities and actual-against-target arithmetic of targets (plain Python, with properties)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.errors import InvalidInput
from ledger.domain.targets import (
    MAX_QUANTITY,
    Figure,
    combine,
    current_figures,
    grouped,
    met,
    next_period_start,
    parse_period_day,
    parse_quantity,
    period_end,
    period_label,
    period_start,
    period_starts,
    plain,
)
from ledger.domain.vocabulary import TargetCombine, TargetDirection, TargetPeriod

TERM_START = date(2020, 4, 15)
TERM_END = date(2022, 3, 31)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))
periods = st.sampled_from(list(TargetPeriod))
calendar_periods = st.sampled_from([TargetPeriod.MONTH, TargetPeriod.QUARTER, TargetPeriod.YEAR])
quantities = st.decimals(min_value=-MAX_QUANTITY + 1, max_value=MAX_QUANTITY - 1, places=4,
                         allow_nan=False, allow_infinity=False)


# ---- periods -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("day", "period", "start", "end", "label"), [
    (date(2020, 5, 17), TargetPeriod.MONTH, date(2020, 5, 1), date(2020, 5, 31), "May 2020"),
    (date(2020, 2, 29), TargetPeriod.MONTH, date(2020, 2, 1), date(2020, 2, 29), "February 2020"),
    (date(2020, 5, 17), TargetPeriod.QUARTER, date(2020, 4, 1), date(2020, 6, 30), "Q2 2020"),
    (date(2020, 12, 31), TargetPeriod.QUARTER, date(2020, 10, 1), date(2020, 12, 31), "Q4 2020"),
    (date(2021, 7, 1), TargetPeriod.YEAR, date(2021, 1, 1), date(2021, 12, 31), "2021"),
    (date(2021, 7, 1), TargetPeriod.TERM, TERM_START, TERM_END, "Whole term"),
])
def test_period_of_a_day(day, period, start, end, label):
    assert period_start(day, period, TERM_START) == start
    assert period_end(start, period, TERM_END) == end
    assert period_label(start, period) == label


def test_period_starts_run_from_the_term_start_to_the_period_holding_the_day():
    assert period_starts(TargetPeriod.MONTH, TERM_START, date(2020, 7, 2)) == [
        date(2020, 4, 1), date(2020, 5, 1), date(2020, 6, 1), date(2020, 7, 1)]
    assert period_starts(TargetPeriod.QUARTER, TERM_START, date(2021, 1, 1)) == [
        date(2020, 4, 1), date(2020, 7, 1), date(2020, 10, 1), date(2021, 1, 1)]
    assert period_starts(TargetPeriod.TERM, TERM_START, date(2021, 1, 1)) == [TERM_START]
    assert period_starts(TargetPeriod.MONTH, TERM_START, date(2020, 1, 1)) == []


@given(days, periods)
def test_a_day_lies_inside_its_period(day, period):
    start = period_start(day, period, day - timedelta(days=3))
    term_end = day + timedelta(days=3)
    assert start <= day <= period_end(start, period, term_end)
    assert period_start(start, period, start) == start  # a period's first day starts itself


@given(days, calendar_periods)
def test_calendar_periods_follow_each_other_without_gap_or_overlap(day, period):
    start = period_start(day, period, day)
    following = next_period_start(start, period)
    assert following == period_end(start, period, day) + timedelta(days=1)
    assert period_start(following, period, day) == following


@given(days, days, calendar_periods)
def test_period_starts_cover_every_day_from_the_term_start(term_start, upto, period):
    starts = period_starts(period, term_start, upto)
    if upto < term_start:
        assert starts == []
        return
    assert starts[0] == period_start(term_start, period, term_start)
    assert starts[-1] == period_start(upto, period, term_start)
    assert starts == sorted(set(starts))
    for a, b in itertools.pairwise(starts):
        assert next_period_start(a, period) == b


@pytest.mark.parametrize(("text", "day"), [("2020-05", date(2020, 5, 1)), ("2020-05-31", date(2020, 5, 31)),
                                           (" 2021-12 ", date(2021, 12, 1))])
def test_a_period_is_a_month_or_a_day(text, day):
    assert parse_period_day(text) == day


@pytest.mark.parametrize("text", ["", "2020-13", "May 2020", "2020/05", None, 202005])
def test_a_period_that_is_neither_is_refused(text):
    with pytest.raises(InvalidInput) as refused:
        parse_period_day(text, "period")
    assert "period" in refused.value.errors


# ---- quantities ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("2,000,000", Decimal(2000000)), ("2000000", Decimal(2000000)), ("2000000.5", Decimal("2000000.5")),
    ("0.0625", Decimal("0.0625")), ("1,234.5", Decimal("1234.5")), (" 2 000 000 ", Decimal(2000000)),
    (2000000, Decimal(2000000)), (2000000.5, Decimal("2000000.5")), (0, Decimal(0)), ("1.50000", Decimal("1.5")),
])
def test_quantities_people_type_are_read_exactly(value, expected):
    assert parse_quantity(value, "value") == expected


@pytest.mark.parametrize(("value", "message"), [
    ("", "Enter the value"), (None, "Enter the value"), (True, "Enter the value"),
    ("NaN", "must be a number"), ("inf", "must be a number"), ("1e6", "must be a number"),
    (float("nan"), "plain number"), (float("inf"), "plain number"), (1e20, "plain number"),
    ("1,5", "commas only between thousands"), ("2,00,000", "commas only between thousands"),
    ("0.00001", "at most 4 decimals"), ("-5", "cannot be negative"), ("100000000000000", "must be under"),
    ("0x10", "must be a number"), ("1_000", "must be a number"), ([1], "must be a number"), ("12abc", "must be"),
])
def test_anything_else_is_refused_with_a_message(value, message):
    with pytest.raises(InvalidInput) as refused:
        parse_quantity(value, "targets-0-value")
    assert message in refused.value.errors["targets-0-value"]


def test_negative_values_only_when_allowed():
    assert parse_quantity("-1,250.5", allow_negative=True) == Decimal("-1250.5")


@given(quantities)
def test_plain_and_grouped_text_read_back_to_the_same_value(value):
    assert parse_quantity(plain(value), allow_negative=True) == value
    assert parse_quantity(grouped(value), allow_negative=True) == value
    assert "e" not in plain(value).lower()


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_whatever_decimal_is_given_the_answer_is_a_bounded_4_decimal_value_or_a_message(value):
    messages: dict[str, str] = {}
    try:
        parsed = parse_quantity(str(value), allow_negative=True)
    except InvalidInput as exc:
        messages = exc.errors
        parsed = None
    if parsed is None:
        assert messages["value"]
        return
    assert abs(parsed) < MAX_QUANTITY
    assert parsed == round(parsed, 4)


def test_plain_strings_have_no_exponent_or_trailing_zeros():
    assert plain(Decimal("2E+6")) == "2000000"
    assert plain(Decimal("0.2500")) == "0.25"
    assert plain(Decimal("-0")) == "0"
    assert plain(None) is None
    assert grouped(Decimal("2500000")) == "2,500,000"


# ---- combining and meeting -----------------------------------------------------------------------------------

def test_a_newer_figure_of_a_partner_supersedes_its_older_one():
    figures = [Figure("beta", Decimal(1000), 1), Figure("alpha", Decimal(500), 2), Figure("beta", Decimal(1200), 3)]
    assert combine(figures, TargetCombine.SUM) == Decimal(1700)
    assert combine(figures, TargetCombine.LATEST) == Decimal(1200)
    assert combine([], TargetCombine.SUM) is None


figure_lists = st.lists(st.builds(Figure, st.sampled_from("abcd"),
                                  st.decimals(min_value=0, max_value=10**9, places=4), st.integers(1, 10**6)),
                        unique_by=lambda f: f.order, max_size=12)


@given(figure_lists, st.randoms())
def test_combining_does_not_depend_on_the_order_figures_arrive_in(figures, rnd):
    shuffled = list(figures)
    rnd.shuffle(shuffled)
    for how in TargetCombine:
        assert combine(figures, how) == combine(shuffled, how)


@given(figure_lists)
def test_the_sum_counts_each_partner_once_with_its_newest_figure(figures):
    current = current_figures(figures)
    assert len({f.partner for f in current}) == len(current)
    for f in figures:
        newest = next(c for c in current if c.partner == f.partner)
        assert newest.order >= f.order
    if figures:
        assert combine(figures, TargetCombine.SUM) == sum(c.value for c in current)
        assert combine(figures, TargetCombine.LATEST) == max(figures, key=lambda f: f.order).value


@given(st.decimals(min_value=0, max_value=10**6, places=2), st.decimals(min_value=0, max_value=10**6, places=2))
def test_at_least_and_at_most_agree_only_on_exactly_the_target(actual, target):
    up = met(actual, target, TargetDirection.AT_LEAST)
    down = met(actual, target, TargetDirection.AT_MOST)
    assert up or down
    assert (up and down) == (actual == target)


def test_nothing_to_judge_without_both_figures():
    assert met(None, Decimal(1), TargetDirection.AT_LEAST) is None
    assert met(Decimal(1), None, TargetDirection.AT_MOST) is None
