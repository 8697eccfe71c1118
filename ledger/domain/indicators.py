"""Value balance indicators: how the value partners put in compares with what they agreed, and who it depends on.

* share        = a partner's value put in / everyone's value put in
* agreed share = the partner's cost share / everyone's cost share (its part of the cost pools, as agreed)
* drift        = share - agreed share: how far reality has moved from the agreement
* HHI          = sum of the shares squared (Herfindahl index, 1/n for n equal partners, 1 for a single one)
* diversity    = (partner types present / 7) squared

Ratios are kept as :class:`fractions.Fraction` until they are shown: a
Decimal quotient is rounded at 28 digits, and then shares no longer add up to
exactly one nor equal shares to exactly 1/n. :func:`fixed` rounds once, at the
edge, to the four places people read.

Net position over time reuses :func:`ledger.domain.balances.compute_balances`
on cumulative sums, month by month, so its last point is the balance page's
net to the cent (pools are split once on the cumulated total, as there).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from ledger.domain.balances import PartnerBalance, Sums
from ledger.domain.vocabulary import PartnerType, PoolSide

#: How many partner types there are; diversity is measured against all of them.
TYPES_TOTAL = len(PartnerType)

K = Hashable


def shares(amounts: Mapping[K, int]) -> dict[K, Fraction]:
    """Each key's part of the total; all zero when the total is zero (nothing put in yet, nothing to share)."""
    total = sum(amounts.values())
    if total == 0:
        return {key: Fraction(0) for key in amounts}
    return {key: Fraction(amount, total) for key, amount in amounts.items()}


def drift(actual: Mapping[K, Fraction], agreed: Mapping[K, Fraction]) -> dict[K, Fraction]:
    """Share put in minus agreed share, for every key of either; positive = puts in more than agreed."""
    keys = list(actual) + [k for k in agreed if k not in actual]
    return {key: actual.get(key, Fraction(0)) - agreed.get(key, Fraction(0)) for key in keys}


def herfindahl(part: Mapping[K, Fraction] | Iterable[Fraction]) -> Fraction:
    """Sum of the squared shares: 1 when one partner puts in everything, 1/n when n put in equally."""
    values = part.values() if isinstance(part, Mapping) else part
    return sum((s * s for s in values), Fraction(0))


def is_concentrated(hhi: Fraction, threshold: Decimal | Fraction) -> bool:
    """Flagged strictly above the alliance's threshold."""
    return hhi > Fraction(threshold)


def types_present(types: Iterable[object]) -> int:
    return len(set(types))


def diversity(present: int, total: int = TYPES_TOTAL) -> Fraction:
    """(types present / types) squared: 1 when every kind of partner takes part."""
    if total <= 0:
        return Fraction(0)
    return Fraction(min(max(present, 0), total), total) ** 2


def fixed(value: Fraction, places: int = 4) -> Decimal:
    """Round once, half to even, to ``places`` decimals, exactly (no float, no 28-digit quotient)."""
    scale = 10 ** places
    scaled = value * scale
    whole = scaled.numerator // scaled.denominator
    remainder = scaled - whole
    if remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and whole % 2):
        whole += 1
    return Decimal(whole).scaleb(-places).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)


def fraction_text(value: Fraction | Decimal, places: int = 4) -> str:
    """The JSON form of a ratio: rounded to ``places``, trailing zeros dropped ("0.5", "0.5234", "0", "-0.02")."""
    rounded = fixed(Fraction(value), places)
    if rounded == 0:
        return "0"
    return format(rounded.normalize(), "f")


# ---------------------------------------------------------------- net position over time

def month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_labels(start: date, end: date) -> list[str]:
    """"YYYY-MM" of every month from ``start``'s to ``end``'s, both included (empty if end is before start)."""
    labels = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


def cumulative_balances(labels: Sequence[str], monthly: Mapping[str, Sums], partner_ids: Sequence[K],
                        weights: Mapping[K, tuple[PoolSide, Mapping[K, Decimal]]]) -> list[list[PartnerBalance]]:
    """The balances at the end of each labelled month, from everything up to it.

    Months before the first label count towards it; months after the last
    are left out. Each point splits the pools on the cumulated totals, so a
    point is what the balance page shows for the term up to that month.
    """
    ordered = sorted(monthly)
    running = Sums()
    points = []
    index = 0
    for label in labels:
        while index < len(ordered) and ordered[index] <= label:
            running.merge(monthly[ordered[index]])
            index += 1
        points.append(running.balances(partner_ids, weights))
    return points
