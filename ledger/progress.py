"""Targets against actuals, period by period: the contract the targets page, the API and checkpoints share.

:func:`targets_progress` returns plain JSON-able dicts (decimals as plain
strings) because a checkpoint freezes exactly this output into its snapshot:
the snapshot page renders these dicts and nothing else, years later.

Cost: four queries however many periods and partners (the charter versions,
their target values, the targets, and every counted measurement in one go);
the per-period arithmetic is done in :mod:`ledger.domain.targets`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ledger import clock
from ledger.charters import version_in_force
from ledger.domain.targets import Figure, combine, met, period_end, period_label, period_starts, plain
from ledger.models import Alliance, CharterTarget, CharterVersion, Measurement
from ledger.services.lookups import default_day


def clamp_into_term(alliance: Alliance, day: date) -> date:
    return min(max(day, alliance.start_date), alliance.term_end)


def targets_progress(session: Session, alliance: Alliance, as_of: date | None = None, *,
                     ended_only: bool = False) -> list[dict]:
    """One dict per target of the charter in force on ``as_of`` (default today, pulled into the term).

    Each has the target's description and its periods from the term's start up to the period holding
    ``as_of``: the target in force on the period's first day, the actual (partners' figures combined)
    and whether it was met. Only measurements of periods starting on or before ``as_of`` count: the live
    pages show the running period's figure so far. With ``ended_only`` (a checkpoint's snapshot) a
    measurement counts only once its period has ended by ``as_of``, so a review a day into July does not
    judge July's target by one day's production.
    """
    day = clamp_into_term(alliance, as_of) if as_of is not None else default_day(alliance, clock.today(alliance))
    versions = list(session.scalars(
        select(CharterVersion).where(CharterVersion.alliance_id == alliance.id)
        .options(selectinload(CharterVersion.targets).selectinload(CharterTarget.target))))
    current = version_in_force(versions, alliance, day)
    if current is None:
        return []
    targets = [ct.target for ct in current.targets]
    if not targets:
        return []
    figures = _figures(session, alliance, [t.id for t in targets], day)
    if ended_only:
        figures = _ended_by(alliance, targets, figures, day)
    return [_progress(alliance, versions, target, current, figures.get(target.id, {}), day) for target in targets]


def _figures(session: Session, alliance: Alliance, target_ids: list[int],
             day: date) -> dict[int, dict[date, list[Figure]]]:
    rows = session.execute(
        select(Measurement.target_id, Measurement.period_start, Measurement.partner_id, Measurement.value,
               Measurement.id)
        .where(Measurement.alliance_id == alliance.id, Measurement.target_id.in_(target_ids),
               Measurement.period_start <= day))
    found: dict[int, dict[date, list[Figure]]] = defaultdict(lambda: defaultdict(list))
    for target_id, start, partner_id, value, measurement_id in rows:
        found[target_id][start].append(Figure(partner_id, value, measurement_id))
    return found


def _ended_by(alliance: Alliance, targets: list, figures: dict[int, dict[date, list[Figure]]],
              day: date) -> dict[int, dict[date, list[Figure]]]:
    """Only the figures of periods that ended on or before ``day`` (a period's figure is final only then)."""
    period_of = {t.id: t.period for t in targets}
    return {target_id: {start: found for start, found in by_start.items()
                        if period_end(start, period_of[target_id], alliance.term_end) <= day}
            for target_id, by_start in figures.items()}


def _target_on(versions: list[CharterVersion], alliance: Alliance, target_id: int, day: date):
    version = version_in_force(versions, alliance, max(day, alliance.start_date))
    if version is None:
        return None
    return next((ct.value for ct in version.targets if ct.target_id == target_id), None)


def _progress(alliance: Alliance, versions: list[CharterVersion], target, current: CharterVersion,
              figures: dict[date, list[Figure]], day: date) -> dict:
    periods = []
    for start in period_starts(target.period, alliance.start_date, day):
        goal = _target_on(versions, alliance, target.id, start)
        actual = combine(figures.get(start, ()), target.combine)
        periods.append({"start": start.isoformat(), "label": period_label(start, target.period),
                        "target": plain(goal), "actual": plain(actual), "met": met(actual, goal, target.direction)})
    value = next(ct.value for ct in current.targets if ct.target_id == target.id)
    return {
        "target_id": target.id, "name": target.name, "unit": target.unit, "period": target.period.value,
        "period_label": target.period.label, "direction": target.direction.value, "combine": target.combine.value,
        "target": plain(value), "periods": periods,
        "periods_measured": sum(1 for p in periods if p["actual"] is not None),
        "periods_met": sum(1 for p in periods if p["met"] is True),
    }
