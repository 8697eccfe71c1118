"""Recording a partner's figure for a target over one period (value creation).

Partner members record for their own partner, the coordinator for any. A
figure is filed under the first day of its period; a newer figure of the
same partner for the same target and period supersedes the older one, which
stays in the target's history (nothing is overwritten).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.charters import version_on
from ledger.domain.errors import FieldErrors, InvalidInput, NotAllowed
from ledger.domain.permissions import can_record, can_record_for
from ledger.domain.targets import grouped, parse_period_day, parse_quantity, period_end, period_label, period_start
from ledger.domain.text import clean_text
from ledger.models import DESCRIPTION_MAX, Alliance, Measurement, Membership, Partner, Target, User
from ledger.services.activity import log
from ledger.services.lookups import parse_id, partner_of
from ledger.services.periods import ensure_not_ended


def target_of(session: Session, alliance: Alliance, value: object, field: str = "target_id") -> Target:
    target_id = parse_id(value, field, "target")
    target = session.get(Target, target_id)
    if target is None or target.alliance_id != alliance.id:
        raise InvalidInput.at(field, f"Unknown target: no target #{target_id} in {alliance.name}.")
    return target


def measured_period(alliance: Alliance, target: Target, value: object, today: date, field: str = "period") -> date:
    """The first day of the period ``value`` names, if that period lies in the term and has begun."""
    day = parse_period_day(value, field)
    start = period_start(day, target.period, alliance.start_date)
    label = period_label(start, target.period)
    if period_end(start, target.period, alliance.term_end) < alliance.start_date or start > alliance.term_end:
        raise InvalidInput.at(field, f"{label} is outside the alliance's term, {alliance.start_date.isoformat()} "
                                     f"to {alliance.term_end.isoformat()}.")
    if start > today:
        raise InvalidInput.at(field, f"{label} has not started yet: record figures for periods up to today.")
    return start


def _partner(session: Session, membership: Membership, value: object, errors: FieldErrors) -> Partner | None:
    if value in (None, ""):
        if membership.partner_id is None:
            errors.add("partner_id", "Choose the partner the figure is for.")
            return None
        return membership.partner
    return errors.check("partner_id", partner_of, session, membership.alliance, value)


def record_measurement(session: Session, actor: User, membership: Membership, raw: Mapping,
                       today: date) -> Measurement:
    """A partner's figure for a target and period; supersedes its earlier figure for the same period."""
    if not can_record(membership.role):
        raise NotAllowed("Only partner members and the coordinator record measurements.")
    alliance = membership.alliance
    ensure_not_ended(alliance, today, "period")
    errors = FieldErrors()
    target = errors.check("target_id", target_of, session, alliance, raw.get("target_id"))
    partner = _partner(session, membership, raw.get("partner_id"), errors)
    if partner is not None and not can_record_for(membership.role, membership.partner_id, partner.id):
        raise NotAllowed(f"You record for {membership.partner.name if membership.partner else 'nobody'}, "
                         f"not for {partner.name}.")
    start = None
    if target is not None:
        start = errors.check("period", measured_period, alliance, target, raw.get("period"), today)
    value = errors.check("value", parse_quantity, raw.get("value"), "value", label="figure")
    note = errors.check("note", clean_text, raw.get("note"), "note", max_len=DESCRIPTION_MAX, required=False)
    if target is not None and start is not None:
        version = version_on(session, alliance, max(start, alliance.start_date))
        if version is None or all(ct.target_id != target.id for ct in version.targets):
            errors.add("target_id", f"\u201c{target.name}\u201d is not a target of the charter in force for "
                                    f"{period_label(start, target.period)}.")
    errors.raise_if_any()
    previous = session.scalar(
        select(Measurement).where(Measurement.target_id == target.id, Measurement.period_start == start,
                                  Measurement.partner_id == partner.id)
        .order_by(Measurement.id.desc()).limit(1))
    row = Measurement(alliance_id=alliance.id, target_id=target.id, partner_id=partner.id, period_start=start,
                      value=value, note=note or "", recorded_by_id=actor.id)
    session.add(row)
    session.flush()
    who = (f"{partner.name} ({actor.name})" if membership.partner_id == partner.id
           else f"{actor.name}, for {partner.name},")
    summary = (f"{who} recorded {grouped(value)} {target.unit} for {target.name}, "
               f"{period_label(start, target.period)}")
    if previous is not None:
        summary += f" (replacing {grouped(previous.value)})"
    log(session, alliance, actor, "measurement.recorded", summary)
    return row
