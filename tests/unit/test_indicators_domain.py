"""The indicator arithmetic: exact shares, Herfindahl bounds, diversity, rounding, and month-by-month balances."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.balances import LedgerLine, balances_from_entries
from ledger.domain.indicators import (
    TYPES_TOTAL,
    Sums,
    cumulative_balances,
    diversity,
    drift,
    fixed,
    fraction_text,
    herfindahl,
    is_concentrated,
    month_labels,
    shares,
    types_present,
)
from ledger.domain.vocabulary import EntryKind, PartnerType, PoolSide

amounts = st.dictionaries(st.integers(1, 20), st.integers(0, 10**12), min_size=1, max_size=12)


@given(amounts)
def test_shares_add_up_to_exactly_one_when_something_was_put_in(put_in):
    part = shares(put_in)
    if sum(put_in.values()) > 0:
        assert sum(part.values()) == 1
    else:
        assert set(part.values()) == {0}
    assert set(part) == set(put_in)


@given(st.dictionaries(st.integers(1, 20), st.integers(1, 10**12), min_size=1, max_size=12))
def test_hhi_lies_between_one_over_n_and_one(put_in):
    hhi = herfindahl(shares(put_in))
    assert Fraction(1, len(put_in)) <= hhi <= 1


@given(st.integers(1, 50), st.integers(1, 10**9))
def test_equal_shares_give_one_over_n(n, amount):
    assert herfindahl(shares(dict.fromkeys(range(n), amount))) == Fraction(1, n)


def test_one_partner_alone_is_fully_concentrated_and_zero_put_in_counts_for_nothing():
    assert herfindahl(shares({"a": 500, "b": 0, "c": 0})) == 1
    assert herfindahl(shares({"a": 0, "b": 0})) == 0


@given(st.integers(-3, 10))
def test_diversity_is_between_zero_and_one(present):
    value = diversity(present)
    assert 0 <= value <= 1
    if 0 <= present <= TYPES_TOTAL:
        assert value == Fraction(present, 7) ** 2


def test_diversity_counts_distinct_types_out_of_seven():
    assert TYPES_TOTAL == len(PartnerType) == 7
    present = types_present([PartnerType.SUPPLIER, PartnerType.SUPPLIER, PartnerType.CUSTOMER])
    assert present == 2
    assert fraction_text(diversity(present)) == "0.0816"  # 4/49 = 0.081632...
    assert (diversity(7), diversity(0)) == (1, 0)


def test_drift_is_share_minus_agreed_share_for_every_partner():
    got = drift({"a": Fraction(3, 5), "b": Fraction(2, 5)}, {"a": Fraction(1, 2), "b": Fraction(1, 2), "c": 0})
    assert got == {"a": Fraction(1, 10), "b": Fraction(-1, 10), "c": 0}


@given(amounts, amounts)
def test_drifts_add_up_to_zero_when_both_totals_are_positive(actual, agreed):
    keys = set(actual) | set(agreed)
    actual = {k: actual.get(k, 0) for k in keys}
    agreed = {k: agreed.get(k, 0) for k in keys}
    if sum(actual.values()) and sum(agreed.values()):
        assert sum(drift(shares(actual), shares(agreed)).values()) == 0


def test_flagged_strictly_above_the_threshold():
    assert is_concentrated(Fraction(51, 100), Decimal("0.5"))
    assert not is_concentrated(Fraction(1, 2), Decimal("0.5"))


def test_rounding_is_half_even_to_four_places_and_written_without_trailing_zeros():
    assert fixed(Fraction(1, 3)) == Decimal("0.3333")
    assert fixed(Fraction(2, 3)) == Decimal("0.6667")
    assert fixed(Fraction(1, 20000)) == Decimal("0.0000")  # 0.00005: half to even
    assert fixed(Fraction(3, 20000)) == Decimal("0.0002")  # 0.00015: half to even
    assert fixed(Fraction(-7, 15)) == Decimal("-0.4667")
    assert [fraction_text(v) for v in (Fraction(1, 2), Fraction(0), Fraction(-3, 10), Fraction(7, 15), Fraction(1))] \
        == ["0.5", "0", "-0.3", "0.4667", "1"]
    assert fraction_text(Decimal("0.5000")) == "0.5"
    assert fraction_text(Fraction(-1, 100000)) == "0"  # no "-0"


@given(st.fractions(min_value=-10, max_value=10))
def test_fixed_is_within_half_a_unit_of_the_last_place(value):
    assert abs(Fraction(fixed(value)) - value) <= Fraction(1, 20000)


def test_month_labels_span_the_year_end():
    assert month_labels(date(2020, 11, 15), date(2021, 2, 1)) == ["2020-11", "2020-12", "2021-01", "2021-02"]
    assert month_labels(date(2020, 4, 1), date(2020, 4, 30)) == ["2020-04"]
    assert month_labels(date(2020, 5, 1), date(2020, 4, 30)) == []


WEIGHTS = {"costs": (PoolSide.COSTS, {"a": Decimal(1), "b": Decimal(1)}),
           "returns": (PoolSide.RETURNS, {"a": Decimal(1), "b": Decimal(1)})}

lines = st.lists(st.tuples(
    st.sampled_from(["2020-04", "2020-05", "2020-06", "2020-07"]),
    st.sampled_from(list(EntryKind)),
    st.sampled_from(["a", "b", "c"]),
    st.integers(-10**6, 10**6).filter(bool)), max_size=40)


@given(lines)
def test_each_point_is_the_balance_of_everything_up_to_its_month(drawn):
    monthly: dict[str, Sums] = {}
    ledger = []
    for month, kind, partner, amount in drawn:
        counterparty = ("b" if partner != "b" else "a") if kind is EntryKind.SETTLEMENT else None
        pool = None if kind is EntryKind.SETTLEMENT else "returns" if kind is EntryKind.REVENUE else "costs"
        monthly.setdefault(month, Sums()).add(kind, partner, counterparty, pool, amount)
        ledger.append((month, LedgerLine(partner, kind, amount, pool, counterparty)))
    labels = ["2020-05", "2020-06", "2020-07"]  # April folds into the first point
    points = cumulative_balances(labels, monthly, ["a", "b", "c"], WEIGHTS)
    for label, point in zip(labels, points, strict=True):
        reference = balances_from_entries(["a", "b", "c"], [line for m, line in ledger if m <= label], WEIGHTS)
        assert point == reference
        assert sum(row.net for row in point) == 0


def test_put_in_leaves_settlements_and_revenue_out():
    sums = Sums()
    sums.add(EntryKind.COST, "a", None, "costs", 100)
    sums.add(EntryKind.COST, "a", None, "costs", -100)  # a reversal nets out
    sums.add(EntryKind.SERVICE_FEE, "c", None, "costs", 50)
    sums.add(EntryKind.SETTLEMENT, "b", "a", None, 70)
    sums.add(EntryKind.REVENUE, "b", None, "returns", 90)
    assert dict(sums.put_in) == {"a": 0, "c": 50}
    assert dict(sums.borne) == {"a": 0, "c": 50, "b": 70}
