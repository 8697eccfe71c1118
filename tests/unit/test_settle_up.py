"""Settle up: few transfers, all positive, that zero every net, and the same suggestion on every run."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.settle_up import Transfer, settle_up


@st.composite
def nets(draw):
    """Nets of 1 to 8 partners that add up to zero (the last partner takes up the difference)."""
    n = draw(st.integers(min_value=1, max_value=8))
    values = draw(st.lists(st.integers(min_value=-10**11, max_value=10**11), min_size=n - 1, max_size=n - 1))
    values.append(-sum(values))
    return {f"p{i}": v for i, v in enumerate(values)}


def _apply(balances, transfers):
    left = dict(balances)
    for t in transfers:
        left[t.payer_id] += t.amount  # paying raises the payer's net towards zero
        left[t.payee_id] -= t.amount
    return left


@given(nets())
def test_transfers_zero_every_net(balances):
    transfers = settle_up(balances)
    assert all(v == 0 for v in _apply(balances, transfers).values())


@given(nets())
def test_at_most_one_fewer_than_partners_and_all_positive(balances):
    transfers = settle_up(balances)
    assert len(transfers) <= max(len(balances) - 1, 0)
    assert all(type(t.amount) is int and t.amount > 0 for t in transfers)
    assert all(t.payer_id != t.payee_id for t in transfers)
    # Debtors only pay, creditors only receive: nobody is asked to pay and be paid back.
    assert all(balances[t.payer_id] < 0 < balances[t.payee_id] for t in transfers)


@given(nets())
def test_stable(balances):
    assert settle_up(balances) == settle_up(dict(balances))
    # Nets recomputed from scratch (a fresh dict with the same figures) give the same suggestion.
    assert settle_up({k: int(str(v)) for k, v in balances.items()}) == settle_up(balances)


def test_largest_debtor_pays_largest_creditor():
    transfers = settle_up({"alpha": 7000, "beta": -9000, "gamma": -1000, "omega": 3000})
    assert transfers == [
        Transfer("beta", "alpha", 7000),
        Transfer("beta", "omega", 2000),
        Transfer("gamma", "omega", 1000),
    ]


def test_ties_follow_the_given_order():
    assert settle_up({"a": 5, "b": 5, "c": -10}) == [Transfer("c", "a", 5), Transfer("c", "b", 5)]
    assert settle_up({"b": 5, "a": 5, "c": -10}) == [Transfer("c", "b", 5), Transfer("c", "a", 5)]


def test_nothing_to_settle():
    assert settle_up({}) == []
    assert settle_up({"a": 0, "b": 0}) == []


def test_refuses_nets_that_do_not_balance():
    with pytest.raises(ValueError, match="zero"):
        settle_up({"a": 1, "b": 0})
