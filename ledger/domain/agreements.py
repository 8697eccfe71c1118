"""Split agreements: which pool an entry falls into, and whether a set of pools makes sense.

A version of the agreement has pools; a pool covers some entry kinds and
categories and names the partners who share it with their weights. Every
entry but a settlement must fall into exactly one pool of the version in
force on its date, otherwise it is refused: an entry that silently belonged
to nobody would vanish from every balance.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from ledger.domain.errors import FieldErrors, InvalidInput
from ledger.domain.targets import plain
from ledger.domain.vocabulary import EntryKind, PoolSide

MAX_WEIGHT = Decimal(1_000_000)
WEIGHT_DECIMALS = 4


@dataclass(frozen=True)
class PoolRule:
    """One pool of an agreement version.

    ``categories`` of ``None`` means every category of the alliance, including
    ones added later, which is how the case's agreement reads ("costs of
    production, trading and waste ... in every category").
    """

    name: str
    side: PoolSide
    kinds: frozenset[EntryKind]
    categories: frozenset[Hashable] | None
    weights: Mapping[Hashable, Decimal] = field(hash=False)
    key: Hashable = None

    def covers(self, kind: EntryKind, category: Hashable) -> bool:
        return kind in self.kinds and (self.categories is None or category in self.categories)


def pool_for(pools: Sequence[PoolRule], kind: EntryKind, category: Hashable) -> PoolRule | None:
    """The pool an entry falls into, or None (settlements always get None)."""
    if kind is EntryKind.SETTLEMENT:
        return None
    for pool in pools:
        if pool.covers(kind, category):
            return pool
    return None


def version_in_force(effective_dates: Sequence[tuple[Hashable, date]], on: date) -> Hashable | None:
    """The key of the version with the latest effective-from date not after ``on``."""
    best: tuple[date, Hashable] | None = None
    for key, effective in effective_dates:
        if effective <= on and (best is None or effective >= best[0]):
            best = (effective, key)
    return None if best is None else best[1]


def parse_weight(text: object, *, field_name: str = "weight") -> Decimal:
    """A positive weight: "1", "2.5", "50%" (a percentage is just a weight of 50)."""
    if isinstance(text, bool) or text is None:
        raise InvalidInput.at(field_name, "Enter a weight.")
    raw = str(text).strip().removesuffix("%").strip()
    if not raw:
        raise InvalidInput.at(field_name, "Enter a weight.")
    if not re.fullmatch(r"\d+(\.\d+)?", raw):
        raise InvalidInput.at(field_name, "A weight is a positive number such as 1, 2.5 or 50%.")
    try:
        weight = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput.at(field_name, "A weight is a positive number such as 1 or 50%.") from None
    if weight <= 0:
        raise InvalidInput.at(field_name, "A weight must be greater than zero.")
    if weight > MAX_WEIGHT:
        raise InvalidInput.at(field_name, "A weight cannot be over 1,000,000.")
    if -weight.as_tuple().exponent > WEIGHT_DECIMALS and weight != round(weight, WEIGHT_DECIMALS):
        raise InvalidInput.at(field_name, f"Use at most {WEIGHT_DECIMALS} decimals in a weight.")
    # quantize, not normalize, for whole numbers: Decimal("50").normalize() is 5E+1, which would show as such.
    return weight.quantize(Decimal(1)) if weight == weight.to_integral() else weight.normalize()


def weight_text(weight: Decimal) -> str:
    """A weight as people and the API read it, and as the form takes it back: "50", "2.5", "33.3333".

    The one formatter for weights. A Decimal's own ``str`` shows its exponent: a whole weight normalised
    is ``5E+1``, one read back at four decimals ``50.0000``; this never does either.
    """
    return plain(weight)


def share_percent(weight: Decimal, weights: Sequence[Decimal]) -> str:
    """``weight``'s share of the pool as a percentage to two decimals, exactly ("33.33"), for people."""
    total = sum(weights, Decimal(0))
    share = weight * 100 / total if total else Decimal(0)
    return format(share.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN), "f")


def check_pools(pools: Sequence[PoolRule]) -> None:
    """Refuse pools that would make an entry's pool ambiguous or meaningless.

    Errors are keyed ``pools-N-...`` so a form can show each next to the
    pool that caused it.
    """
    errors = FieldErrors()
    if not pools:
        errors.add("pools", "An agreement version needs at least one pool.")
    names: set[str] = set()
    for i, pool in enumerate(pools):
        prefix = f"pools-{i}-"
        if not pool.name.strip():
            errors.add(prefix + "name", "Give the pool a name.")
        elif pool.name.strip().lower() in names:
            errors.add(prefix + "name", f"Two pools are called \u201c{pool.name}\u201d.")
        names.add(pool.name.strip().lower())
        if not pool.kinds:
            errors.add(prefix + "kinds", "Choose at least one kind of entry.")
        elif EntryKind.SETTLEMENT in pool.kinds:
            errors.add(prefix + "kinds", "Settlements belong to no pool.")
        elif not pool.kinds <= pool.side.kinds:
            wrong = ", ".join(sorted(k.label for k in pool.kinds - pool.side.kinds))
            errors.add(prefix + "kinds", f"A {pool.side.value} pool cannot cover {wrong}.")
        if pool.categories is not None and not pool.categories:
            errors.add(prefix + "categories", "Choose at least one category, or all.")
        if not pool.weights:
            errors.add(prefix + "weights", "At least one partner must share the pool.")
        elif any(w <= 0 for w in pool.weights.values()):
            errors.add(prefix + "weights", "Every weight must be greater than zero.")
    for i, a in enumerate(pools):
        for j in range(i + 1, len(pools)):
            clash = _overlap(a, pools[j])
            if clash:
                errors.add(f"pools-{j}-kinds",
                           f"\u201c{pools[j].name}\u201d covers {clash} too, already in \u201c{a.name}\u201d.")
    errors.raise_if_any()


def _overlap(a: PoolRule, b: PoolRule) -> str | None:
    kinds = a.kinds & b.kinds
    if not kinds:
        return None
    if a.categories is not None and b.categories is not None and not (a.categories & b.categories):
        return None
    return ", ".join(sorted(k.label for k in kinds))
