"""The read side of the charter: its versions, the one in force on a day, and what each version changed.

Versions are few (a handful per alliance over its life), so the history is
read in one query with commitments and targets loaded alongside, and the
"what changed" of every version is computed from that list without further
queries.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ledger.domain.charter import CharterData, CommitmentData, TargetData, changes, in_force
from ledger.models import Alliance, CharterCommitment, CharterTarget, CharterVersion


def _loaded():
    return (selectinload(CharterVersion.commitments).selectinload(CharterCommitment.partner),
            selectinload(CharterVersion.targets).selectinload(CharterTarget.target),
            selectinload(CharterVersion.created_by))


def versions_of(session: Session, alliance: Alliance) -> list[CharterVersion]:
    """Every version, newest (highest number) first, with commitments, targets and author loaded."""
    return list(session.scalars(
        select(CharterVersion).where(CharterVersion.alliance_id == alliance.id)
        .order_by(CharterVersion.number.desc()).options(*_loaded())))


def version_number(session: Session, alliance: Alliance, number: int) -> CharterVersion | None:
    return session.scalar(select(CharterVersion).where(CharterVersion.alliance_id == alliance.id,
                                                       CharterVersion.number == number).options(*_loaded()))


def newest_version(session: Session, alliance: Alliance) -> CharterVersion | None:
    """The version with the highest number: the one the alliance row mirrors and the next edit starts from."""
    return session.scalar(select(CharterVersion).where(CharterVersion.alliance_id == alliance.id)
                          .order_by(CharterVersion.number.desc()).limit(1).options(*_loaded()))


def version_on(session: Session, alliance: Alliance, day: date) -> CharterVersion | None:
    """The version in force on ``day``: latest effective_from on or before it, highest number among ties."""
    return session.scalar(
        select(CharterVersion)
        .where(CharterVersion.alliance_id == alliance.id, CharterVersion.effective_from <= day)
        .order_by(CharterVersion.effective_from.desc(), CharterVersion.number.desc()).limit(1)
        .options(*_loaded()))


def version_in_force(versions: list[CharterVersion], alliance: Alliance, day: date) -> CharterVersion | None:
    """:func:`version_on` over an already loaded list; before the first version, the first one."""
    found = in_force(versions, day)
    if found is None and versions:
        return min(versions, key=lambda v: v.number)
    return found


def charter_data(version: CharterVersion) -> CharterData:
    """The plain content of a version, for comparing versions (see ledger.domain.charter)."""
    return CharterData(
        cause=version.cause or "", objective=version.objective or "", term_end=version.term_end,
        commitments={c.partner_id: CommitmentData(c.partner.name, c.expects or "", c.brings or "")
                     for c in version.commitments},
        targets={t.target_id: TargetData(t.target.name, t.value, t.target.unit, t.target.period.label)
                 for t in version.targets})


def changes_by_number(versions: list[CharterVersion]) -> dict[int, list[str]]:
    """For each version number, what it changed against the version numbered one lower."""
    by_number = {v.number: v for v in versions}
    return {n: changes(charter_data(by_number[n - 1]) if n - 1 in by_number else None, charter_data(v))
            for n, v in by_number.items()}


def diff(session: Session, alliance: Alliance, number: int) -> list[str]:
    """What version ``number`` changed against version ``number - 1`` (["first version"] for 1)."""
    current = version_number(session, alliance, number)
    if current is None:
        return []
    previous = version_number(session, alliance, number - 1) if number > 1 else None
    return changes(charter_data(previous) if previous else None, charter_data(current))
