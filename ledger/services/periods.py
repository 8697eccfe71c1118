"""Closed periods: the rule that nothing is recorded, reversed or imported with a date inside one.

Every write path that takes a date (entries, reversals, settle-ups, imports,
agreement versions) asks :func:`check_open`, so the rule lives in one place.
Corrections to a closed period go into an open one, as reversals.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.domain.errors import InvalidInput
from ledger.models import Alliance, Period


def closed_through(session: Session, alliance: Alliance) -> date | None:
    """The last day of the latest closed period, or None while nothing is closed."""
    return session.scalar(select(func.max(Period.end_date)).where(Period.alliance_id == alliance.id))


def check_open(session: Session, alliance: Alliance, day: date, field: str = "date",
               closed: date | None = None) -> date:
    """``day`` if it lies after every closed period; else a field error saying where to put it."""
    closed = closed if closed is not None else closed_through(session, alliance)
    if closed is not None and day <= closed:
        raise InvalidInput.at(
            field, f"The books are closed through {closed.isoformat()}: {day.isoformat()} is in a closed "
                   f"period. Date it after {closed.isoformat()}; a correction goes into an open period "
                   f"as a reversal.")
    return day
