"""Who should pay whom so that every net balance becomes zero.

The greedy rule (largest debtor pays largest creditor, repeated) is what a
person would do by hand, needs at most one transfer fewer than there are
partners (every transfer clears at least one of them, the last clears two),
and with ties broken by the given partner order it gives the same answer on
every run, so two people looking at the page see the same suggestion.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Transfer:
    payer_id: Hashable
    payee_id: Hashable
    amount: int


def settle_up(nets: Mapping[Hashable, int]) -> list[Transfer]:
    """Transfers that bring every net to zero; ``nets`` must add up to zero.

    Ties between equal amounts go to the partner that comes first in
    ``nets``'s order.
    """
    if sum(nets.values()) != 0:
        raise ValueError("nets must add up to zero")
    order = {p: i for i, p in enumerate(nets)}
    left = {p: n for p, n in nets.items() if n}
    transfers: list[Transfer] = []
    while left:
        debtor = min((p for p in left if left[p] < 0), key=lambda p: (left[p], order[p]))
        creditor = min((p for p in left if left[p] > 0), key=lambda p: (-left[p], order[p]))
        amount = min(-left[debtor], left[creditor])
        transfers.append(Transfer(debtor, creditor, amount))
        for partner, delta in ((debtor, amount), (creditor, -amount)):
            left[partner] += delta
            if left[partner] == 0:
                del left[partner]
    return transfers
