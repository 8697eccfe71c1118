"""Largest-remainder allocation: shares never lose or invent a cent, and never drift from the exact part."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.allocation import allocate

totals = st.integers(min_value=-10**13, max_value=10**13)
int_weights = st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=8)
# Percentage-style weights with up to four decimals, as parse_weight accepts them.
dec_weights = st.lists(
    st.integers(min_value=1, max_value=1_000_000).map(lambda n: Decimal(n).scaleb(-4)), min_size=1, max_size=8)


def _keyed(weights):
    return {f"p{i}": w for i, w in enumerate(weights)}


def _check(total, weights):
    shares = allocate(total, weights)
    assert list(shares) == list(weights)
    assert sum(shares.values()) == total
    weight_sum = sum(Fraction(Decimal(w)) for w in weights.values())
    for key, share in shares.items():
        assert type(share) is int
        exact = Fraction(total) * Fraction(Decimal(weights[key])) / weight_sum
        assert abs(share - exact) < 1
    return shares


@given(totals, int_weights)
def test_integer_weights_add_up_and_stay_within_a_cent(total, weights):
    _check(total, _keyed(weights))


@given(totals, dec_weights)
def test_percentage_weights_add_up_and_stay_within_a_cent(total, weights):
    _check(total, _keyed(weights))


@given(totals, int_weights)
def test_deterministic(total, weights):
    keyed = _keyed(weights)
    assert allocate(total, keyed) == allocate(total, dict(keyed))


@given(totals, st.one_of(int_weights, dec_weights))
def test_negative_total_mirrors_positive(total, weights):
    keyed = _keyed(weights)
    assert allocate(-total, keyed) == {k: -v for k, v in allocate(total, keyed).items()}


@given(st.integers(min_value=0, max_value=10**12), int_weights)
def test_proportional_weights_give_the_same_split(total, weights):
    """1:1 and 50:50 are the same agreement; scaling every weight changes nothing."""
    keyed = _keyed(weights)
    scaled = {k: Decimal(w) * Decimal("2.5") for k, w in keyed.items()}
    assert allocate(total, keyed) == allocate(total, scaled)


def test_odd_cent_goes_to_the_first_of_equal_remainders():
    assert allocate(101, {"alpha": 1, "beta": 1}) == {"alpha": 51, "beta": 50}
    assert allocate(101, {"beta": 1, "alpha": 1}) == {"beta": 51, "alpha": 50}
    assert allocate(-101, {"alpha": 1, "beta": 1}) == {"alpha": -51, "beta": -50}


def test_largest_remainder_not_first_key():
    # 100 * 1/6 = 16.67, 100 * 2/6 = 33.33, 100 * 3/6 = 50: the left-over cent goes to the .67.
    assert allocate(100, {"a": 1, "b": 2, "c": 3}) == {"a": 17, "b": 33, "c": 50}
    # 10 by 1:1:1 = 3.33 each: one cent left over, to the first.
    assert allocate(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}


def test_percentages_and_decimals():
    assert allocate(10000, {"a": Decimal(60), "b": Decimal(40)}) == {"a": 6000, "b": 4000}
    assert allocate(100, {"a": Decimal("33.3333"), "b": Decimal("33.3333"), "c": Decimal("33.3334")}) == {
        "a": 33, "b": 33, "c": 34}
    assert allocate(0, {"a": 1, "b": 3}) == {"a": 0, "b": 0}


@pytest.mark.parametrize(("total", "weights", "error"), [
    (1.5, {"a": 1}, TypeError),
    (Decimal(1), {"a": 1}, TypeError),
    (100, {}, ValueError),
    (100, {"a": 0, "b": 1}, ValueError),
    (100, {"a": -1, "b": 2}, ValueError),
])
def test_refusals(total, weights, error):
    with pytest.raises(error):
        allocate(total, weights)


def _by_fractions(total, weights):
    """The rule as stated, in exact fractions: floors, then a unit each to the largest remainders."""
    if total < 0:
        return {k: -v for k, v in _by_fractions(-total, weights).items()}
    exact = {k: Fraction(Decimal(w)) for k, w in weights.items()}
    parts = {k: total * w / sum(exact.values()) for k, w in exact.items()}
    shares = {k: int(p) for k, p in parts.items()}
    order = sorted(enumerate(weights), key=lambda pair: (-(parts[pair[1]] - shares[pair[1]]), pair[0]))
    for _, key in order[:total - sum(shares.values())]:
        shares[key] += 1
    return shares


@given(totals, st.one_of(int_weights, dec_weights))
def test_integer_arithmetic_splits_exactly_as_fractions_would(total, weights):
    assert allocate(total, _keyed(weights)) == _by_fractions(total, _keyed(weights))


@pytest.mark.parametrize("weight", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_a_weight_that_is_not_a_number_is_refused(weight):
    with pytest.raises(ValueError, match="positive"):
        allocate(100, {"a": weight, "b": 1})
