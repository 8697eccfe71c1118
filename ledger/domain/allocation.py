"""Exact splitting of an amount by weights.

A pool's total is split once per agreement version with the largest-remainder
method, so the shares always add up to the total and the rounding is at most
one minor unit per pool, never one per entry (the mistake that makes shared
spreadsheets drift by a few cents a month).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def allocate(total: int, weights: Mapping[K, int | Decimal]) -> dict[K, int]:
    """Split ``total`` minor units in proportion to ``weights``.

    Each share is the floor of its exact part; the units left over go one by
    one to the largest fractional remainders, ties to the earlier key in
    ``weights`` order so the result is stable from run to run. A negative
    total (a pool of reversals) is split as its absolute value and negated,
    so an entry and its reversal allocate symmetrically.
    """
    if not isinstance(total, int):
        raise TypeError("total must be an int number of minor units")
    if not weights:
        raise ValueError("cannot allocate over no weights")
    if any(Decimal(w) <= 0 for w in weights.values()):
        raise ValueError("weights must be positive")
    if total < 0:
        return {k: -v for k, v in allocate(-total, weights).items()}
    exact = {k: Fraction(Decimal(w)) for k, w in weights.items()}
    weight_sum = sum(exact.values())
    parts = {k: total * w / weight_sum for k, w in exact.items()}
    shares = {k: int(p) for k, p in parts.items()}  # floor: parts are non-negative
    left = total - sum(shares.values())
    by_remainder = sorted(enumerate(weights), key=lambda pair: (-(parts[pair[1]] - shares[pair[1]]), pair[0]))
    for _, key in by_remainder[:left]:
        shares[key] += 1
    return shares
