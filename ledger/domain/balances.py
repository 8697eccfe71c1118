"""Each partner's balance: what it bore and received against its agreed shares.

For every partner:

* borne        = its costs + contributions + service fees + settlements paid
* cost share   = its allocation of every cost pool's total
* received     = its revenues + settlements received
* return share = its allocation of every returns pool's total
* net          = (borne - cost share) - (received - return share)

A positive net means the others owe the partner. Because every pool total is
allocated exactly and settlements appear once on each side, the nets of all
partners add up to zero; the tests hold the code to that.

The persistence layer feeds :func:`compute_balances` with SQL aggregates;
:func:`balances_from_entries` does the same from individual entries and is
the reference the SQL path is tested against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ledger.domain.allocation import allocate
from ledger.domain.vocabulary import BORNE_KINDS, RECEIVED_KINDS, EntryKind, PoolSide


@dataclass(frozen=True, slots=True)
class PartnerBalance:
    partner_id: Hashable
    borne: int = 0
    cost_share: int = 0
    received: int = 0
    return_share: int = 0

    @property
    def net(self) -> int:
        return (self.borne - self.cost_share) - (self.received - self.return_share)


@dataclass(frozen=True, slots=True)
class PoolTotal:
    """The summed amount of one pool (of one agreement version) and who shares it."""

    pool_id: Hashable
    side: PoolSide
    total: int
    weights: Mapping[Hashable, Decimal]


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """The part of an entry the balance needs; settlements carry a counterparty, others a pool."""

    partner_id: Hashable
    kind: EntryKind
    amount: int
    pool_id: Hashable | None = None
    counterparty_id: Hashable | None = None


def compute_balances(
    partner_ids: Sequence[Hashable],
    borne: Mapping[Hashable, int],
    received: Mapping[Hashable, int],
    pools: Iterable[PoolTotal],
) -> list[PartnerBalance]:
    """Combine per-partner sums and pool totals into balances, in ``partner_ids`` order."""
    cost_share: dict[Hashable, int] = defaultdict(int)
    return_share: dict[Hashable, int] = defaultdict(int)
    for pool in pools:
        target = cost_share if pool.side is PoolSide.COSTS else return_share
        for partner, share in allocate(pool.total, pool.weights).items():
            target[partner] += share
    known = set(partner_ids)
    stray = (set(borne) | set(received) | set(cost_share) | set(return_share)) - known
    if stray:
        raise ValueError(f"amounts for partners outside the alliance: {sorted(map(str, stray))}")
    return [
        PartnerBalance(
            partner_id=p,
            borne=borne.get(p, 0),
            cost_share=cost_share.get(p, 0),
            received=received.get(p, 0),
            return_share=return_share.get(p, 0),
        )
        for p in partner_ids
    ]


@dataclass
class Sums:
    """What the balance needs, summed: borne and received per partner, totals per pool, and value put in.

    The balance sheet folds the running totals' grouped rows in here, and the indicators their monthly
    ones. :func:`balances_from_entries` folds lines on its own: it is the reference both are tested against.
    """

    borne: dict[Hashable, int] = field(default_factory=lambda: defaultdict(int))
    received: dict[Hashable, int] = field(default_factory=lambda: defaultdict(int))
    pool_totals: dict[Hashable, int] = field(default_factory=lambda: defaultdict(int))
    #: Costs, contributions and service fees (not settlements): the value a partner put in.
    put_in: dict[Hashable, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, kind: EntryKind, partner_id: Hashable, counterparty_id: Hashable | None, pool_id: Hashable | None,
            amount: int) -> None:
        """Fold one grouped row in: settlements move value between two partners, the rest fill a pool."""
        if kind is EntryKind.SETTLEMENT:
            self.borne[partner_id] += amount
            self.received[counterparty_id] += amount
            return
        if kind in BORNE_KINDS:
            self.borne[partner_id] += amount
            self.put_in[partner_id] += amount
        elif kind in RECEIVED_KINDS:
            self.received[partner_id] += amount
        self.pool_totals[pool_id] += amount

    def merge(self, other: Sums) -> None:
        for mine, theirs in ((self.borne, other.borne), (self.received, other.received),
                             (self.pool_totals, other.pool_totals), (self.put_in, other.put_in)):
            for key, amount in theirs.items():
                mine[key] += amount

    def balances(self, partner_ids: Sequence[Hashable],
                 weights: Mapping[Hashable, tuple[PoolSide, Mapping[Hashable, Decimal]]]) -> list[PartnerBalance]:
        pools = [PoolTotal(pid, weights[pid][0], total, weights[pid][1])
                 for pid, total in self.pool_totals.items()]
        return compute_balances(partner_ids, self.borne, self.received, pools)


def balances_from_entries(
    partner_ids: Sequence[Hashable],
    lines: Iterable[LedgerLine],
    pools: Mapping[Hashable, tuple[PoolSide, Mapping[Hashable, Decimal]]],
) -> list[PartnerBalance]:
    """The same balance from individual lines: the reference for the SQL aggregates."""
    borne: dict[Hashable, int] = defaultdict(int)
    received: dict[Hashable, int] = defaultdict(int)
    totals: dict[Hashable, int] = defaultdict(int)
    for line in lines:
        if line.kind is EntryKind.SETTLEMENT:
            borne[line.partner_id] += line.amount
            received[line.counterparty_id] += line.amount
            continue
        if line.kind in BORNE_KINDS:
            borne[line.partner_id] += line.amount
        elif line.kind in RECEIVED_KINDS:
            received[line.partner_id] += line.amount
        totals[line.pool_id] += line.amount
    pool_totals = [PoolTotal(pid, pools[pid][0], total, pools[pid][1]) for pid, total in totals.items()]
    return compute_balances(partner_ids, borne, received, pool_totals)
