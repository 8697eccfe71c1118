"""Balances: the nets of all partners add up to zero, whatever the entries, their order or their corrections."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.balances import LedgerLine, PartnerBalance, PoolTotal, balances_from_entries, compute_balances
from ledger.domain.vocabulary import EntryKind, PoolSide

PARTNERS = ["alpha", "beta", "gamma", "omega"]
COST_KINDS = [EntryKind.COST, EntryKind.CONTRIBUTION, EntryKind.SERVICE_FEE]

weights = st.dictionaries(
    st.sampled_from(PARTNERS),
    st.one_of(st.integers(min_value=1, max_value=5).map(Decimal),
              st.integers(min_value=1, max_value=10_000).map(lambda n: Decimal(n).scaleb(-2))),
    min_size=1, max_size=4)


@st.composite
def books(draw):
    """Pools of both sides (as several agreement versions would give) and lines falling into them."""
    pools = {}
    for i in range(draw(st.integers(min_value=1, max_value=3))):
        pools[f"cost{i}"] = (PoolSide.COSTS, draw(weights))
        pools[f"ret{i}"] = (PoolSide.RETURNS, draw(weights))
    cost_pools = [p for p, (side, _) in pools.items() if side is PoolSide.COSTS]
    return_pools = [p for p, (side, _) in pools.items() if side is PoolSide.RETURNS]
    lines = []
    for _ in range(draw(st.integers(min_value=0, max_value=25))):
        partner = draw(st.sampled_from(PARTNERS))
        amount = draw(st.integers(min_value=1, max_value=10**11))
        kind = draw(st.sampled_from(list(EntryKind)))
        if kind is EntryKind.SETTLEMENT:
            other = draw(st.sampled_from([p for p in PARTNERS if p != partner]))
            lines.append(LedgerLine(partner, kind, amount, counterparty_id=other))
        elif kind is EntryKind.REVENUE:
            lines.append(LedgerLine(partner, kind, amount, pool_id=draw(st.sampled_from(return_pools))))
        else:
            lines.append(LedgerLine(partner, kind, amount, pool_id=draw(st.sampled_from(cost_pools))))
    return pools, lines


def _reversal(line: LedgerLine) -> LedgerLine:
    return replace(line, amount=-line.amount)


@given(books())
def test_nets_add_up_to_zero(book):
    pools, lines = book
    rows = balances_from_entries(PARTNERS, lines, pools)
    assert [r.partner_id for r in rows] == PARTNERS
    assert sum(r.net for r in rows) == 0
    assert sum(r.cost_share for r in rows) == sum(r.borne for r in rows) - sum(
        line.amount for line in lines if line.kind is EntryKind.SETTLEMENT)


@given(books(), st.randoms(use_true_random=False))
def test_order_does_not_matter(book, rnd):
    pools, lines = book
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    assert balances_from_entries(PARTNERS, shuffled, pools) == balances_from_entries(PARTNERS, lines, pools)


@settings(max_examples=60)
@given(books(), st.data())
def test_entry_plus_reversal_changes_nothing(book, data):
    pools, lines = book
    before = balances_from_entries(PARTNERS, lines, pools)
    extra = data.draw(books())[1]
    # Only lines whose pools exist in this book: re-home the drawn ones into the first pool of each side.
    first = {side: next(p for p, (s, _) in pools.items() if s is side) for side in PoolSide}
    extra = [line if line.pool_id is None else replace(
        line, pool_id=first[PoolSide.RETURNS if line.kind is EntryKind.REVENUE else PoolSide.COSTS])
        for line in extra]
    corrected = lines + extra + [_reversal(line) for line in extra]
    assert balances_from_entries(PARTNERS, corrected, pools) == before


def test_entry_and_its_reversal_alone_net_to_nothing():
    pools = {"c": (PoolSide.COSTS, {"alpha": Decimal(1), "beta": Decimal(1)})}
    line = LedgerLine("gamma", EntryKind.SERVICE_FEE, 101, pool_id="c")
    rows = balances_from_entries(PARTNERS, [line, _reversal(line)], pools)
    assert rows == [PartnerBalance(p) for p in PARTNERS]


def test_worked_example():
    """Alpha pays 100.01 of costs and Omega bills a 30.00 fee; Beta sells for 50.00; Beta pays Alpha 10.00.

    Cost pool 50/50 Alpha/Beta: 130.01 -> Alpha 65.01 (first of equal remainders), Beta 65.00.
    Returns 50/50: 50.00 -> 25.00 each.
    Alpha: borne 100.01, share 65.01, received 10.00, return share 25.00 -> net 35.00 - (-15.00) = 50.00
    Beta:  borne 10.00, share 65.00, received 50.00, return share 25.00 -> -55.00 - 25.00 = -80.00
    Omega: borne 30.00, no shares -> +30.00. Gamma nothing. Sum: 50 - 80 + 30 = 0.
    """
    fifty = {"alpha": Decimal(1), "beta": Decimal(1)}
    pools = {"c": (PoolSide.COSTS, fifty), "r": (PoolSide.RETURNS, fifty)}
    lines = [
        LedgerLine("alpha", EntryKind.COST, 10001, pool_id="c"),
        LedgerLine("omega", EntryKind.SERVICE_FEE, 3000, pool_id="c"),
        LedgerLine("beta", EntryKind.REVENUE, 5000, pool_id="r"),
        LedgerLine("beta", EntryKind.SETTLEMENT, 1000, counterparty_id="alpha"),
    ]
    rows = {r.partner_id: r for r in balances_from_entries(PARTNERS, lines, pools)}
    assert rows["alpha"] == PartnerBalance("alpha", 10001, 6501, 1000, 2500)
    assert rows["beta"] == PartnerBalance("beta", 1000, 6500, 5000, 2500)
    assert rows["omega"] == PartnerBalance("omega", 3000, 0, 0, 0)
    assert rows["gamma"] == PartnerBalance("gamma")
    assert [rows[p].net for p in PARTNERS] == [5000, -8000, 0, 3000]


def test_rounding_is_per_pool_not_per_entry():
    """Three entries of 0.01 in a 50/50 pool: 0.03 split once (0.02/0.01), not 0.01 + 0.01 + 0.01 to Alpha."""
    pools = {"c": (PoolSide.COSTS, {"alpha": Decimal(1), "beta": Decimal(1)})}
    lines = [LedgerLine("gamma", EntryKind.COST, 1, pool_id="c")] * 3
    rows = {r.partner_id: r for r in balances_from_entries(PARTNERS, lines, pools)}
    assert (rows["alpha"].cost_share, rows["beta"].cost_share) == (2, 1)


def test_compute_balances_refuses_strangers():
    with pytest.raises(ValueError, match="outside"):
        compute_balances(["alpha"], {"zeta": 1}, {}, [])
    with pytest.raises(ValueError, match="outside"):
        compute_balances(["alpha"], {}, {}, [PoolTotal("c", PoolSide.COSTS, 10, {"zeta": Decimal(1)})])


def test_net_sign():
    assert PartnerBalance("a", borne=100, cost_share=40).net == 60
    assert PartnerBalance("a", received=100, return_share=40).net == -60
