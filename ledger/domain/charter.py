"""What changed between two versions of an alliance's charter, in words a steering group reads.

The version history shows, for every version, what it changed against the
one before ("term end 2022-03-31 -> 2022-09-30", "target 'masks produced'
2,000,000 -> 2,500,000"). The same list decides whether a save changes
anything at all (an empty list: nothing to save). It works on plain data,
so it is tested without a database.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ledger.domain.targets import grouped


@dataclass(frozen=True, slots=True)
class CommitmentData:
    """What a partner expects to get from the alliance and commits to bring."""

    partner: str
    expects: str = ""
    brings: str = ""

    @property
    def empty(self) -> bool:
        return not self.expects.strip() and not self.brings.strip()


@dataclass(frozen=True, slots=True)
class TargetData:
    """A target as one version sets it; ``unit`` and ``period`` (e.g. "per month") only describe it."""

    name: str
    value: Decimal
    unit: str = ""
    period: str = ""


@dataclass(frozen=True)
class CharterData:
    """A charter version's content, keyed by partner id and target id (names can repeat across time)."""

    cause: str
    objective: str
    term_end: date
    commitments: Mapping[Hashable, CommitmentData] = field(default_factory=dict)
    targets: Mapping[Hashable, TargetData] = field(default_factory=dict)


def _target_text(target: TargetData) -> str:
    described = " ".join(part for part in (grouped(target.value), target.unit, target.period) if part)
    return f"target '{target.name}' added ({described})"


def changes(old: CharterData | None, new: CharterData) -> list[str]:
    """Each difference from ``old`` to ``new`` as a short phrase; empty when nothing changed."""
    if old is None:
        return ["first version"]
    found: list[str] = []
    if old.cause.strip() != new.cause.strip():
        found.append("cause changed")
    if old.objective.strip() != new.objective.strip():
        found.append("objective changed")
    if old.term_end != new.term_end:
        found.append(f"term end {old.term_end.isoformat()} -> {new.term_end.isoformat()}")
    found.extend(_commitment_changes(old.commitments, new.commitments))
    found.extend(_target_changes(old.targets, new.targets))
    return found


def _commitment_changes(old: Mapping[Hashable, CommitmentData],
                        new: Mapping[Hashable, CommitmentData]) -> list[str]:
    found = []
    before = {k: c for k, c in old.items() if not c.empty}
    after = {k: c for k, c in new.items() if not c.empty}
    for key, commitment in after.items():
        earlier = before.get(key)
        if earlier is None:
            found.append(f"{commitment.partner}'s commitment added")
            continue
        parts = [what for what, a, b in (("expects", earlier.expects, commitment.expects),
                                         ("brings", earlier.brings, commitment.brings)) if a.strip() != b.strip()]
        if parts:
            found.append(f"{commitment.partner}'s commitment changed (what it {' and '.join(parts)})")
    found.extend(f"{c.partner}'s commitment removed" for k, c in before.items() if k not in after)
    return found


def _target_changes(old: Mapping[Hashable, TargetData], new: Mapping[Hashable, TargetData]) -> list[str]:
    found = []
    for key, target in new.items():
        earlier = old.get(key)
        if earlier is None:
            found.append(_target_text(target))
        elif earlier.value != target.value:
            found.append(f"target '{target.name}' {grouped(earlier.value)} -> {grouped(target.value)}")
    found.extend(f"target '{t.name}' removed" for k, t in old.items() if k not in new)
    return found


def in_force(versions, day: date):
    """The version in force on ``day`` among objects with ``effective_from`` and ``number``, or None.

    The latest ``effective_from`` on or before the day wins; among equal dates the highest number.
    """
    candidates = [v for v in versions if v.effective_from <= day]
    if not candidates:
        return None
    return max(candidates, key=lambda v: (v.effective_from, v.number))
