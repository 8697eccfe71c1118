"""Saving a new version of the alliance's charter (the value definition), and the term-end rules.

A charter is never edited in place: every save is a new numbered version
with who, when and what changed, and earlier versions stay readable. The
alliance row mirrors the newest version's cause and term end, because every
dated write (entries, imports, closes, measurements) checks the term there.

Targets keep their identity (name, unit, period, direction, how partners'
figures combine) across versions; a version only sets or drops their values,
so measurements recorded against a target stay attached to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.charters import charter_data, newest_version
from ledger.domain.charter import CharterData, CommitmentData, TargetData, changes
from ledger.domain.errors import FieldErrors, InvalidInput, NotAllowed
from ledger.domain.permissions import can_manage
from ledger.domain.targets import parse_quantity
from ledger.domain.text import clean_text, parse_date
from ledger.domain.vocabulary import TargetCombine, TargetDirection, TargetPeriod
from ledger.models import (
    CAUSE_MAX,
    NAME_MAX,
    TEXT_MAX,
    UNIT_MAX,
    Alliance,
    CharterCommitment,
    CharterTarget,
    CharterVersion,
    Checkpoint,
    Entry,
    Measurement,
    Membership,
    Target,
    User,
)
from ledger.services.activity import log
from ledger.services.alliances import parse_choice
from ledger.services.chain import append_link
from ledger.services.lookups import default_day, parse_id, partner_of
from ledger.services.periods import ensure_not_ended, locked_closed_through

MAX_TARGETS = 30
NOTE_MAX = 1000
MAX_TERM_DAYS = 366 * 50


def check_term_end(session: Session, alliance: Alliance, new_end: date, field: str = "term_end") -> date:
    """``new_end`` if the term may end then; else a field error saying what stands in the way.

    The term cannot end before it starts, before the last entry or measured period, before the books'
    closed-through date, nor before a checkpoint that is still to be held (move or remove that first).
    Takes the alliance lock, so an entry racing the change is either seen here or refused by the term.
    """
    if new_end < alliance.start_date:
        raise InvalidInput.at(field, f"The term cannot end before it starts ({alliance.start_date.isoformat()}).")
    if (new_end - alliance.start_date).days > MAX_TERM_DAYS:
        raise InvalidInput.at(field, "A term can be at most 50 years.")
    closed = locked_closed_through(session, alliance)
    if closed is not None and new_end < closed:
        raise InvalidInput.at(field, f"The books are closed through {closed.isoformat()}: the term cannot end "
                                     "before that.")
    last_entry = session.scalar(select(func.max(Entry.entry_date)).where(Entry.alliance_id == alliance.id))
    if last_entry is not None and new_end < last_entry:
        raise InvalidInput.at(field, f"Entries are recorded up to {last_entry.isoformat()}: the term cannot end "
                                     "before that (reverse them first if they are wrong).")
    last_measured = session.scalar(select(func.max(Measurement.period_start))
                                   .where(Measurement.alliance_id == alliance.id))
    if last_measured is not None and new_end < last_measured:
        raise InvalidInput.at(field, f"Measurements are recorded for a period starting {last_measured.isoformat()}: "
                                     "the term cannot end before that.")
    blocking = session.scalar(
        select(Checkpoint).where(Checkpoint.alliance_id == alliance.id, Checkpoint.opened_at.is_(None),
                                 Checkpoint.due_date > new_end)
        .order_by(Checkpoint.due_date.desc()).limit(1))
    if blocking is not None:
        raise InvalidInput.at(field, f"The checkpoint \u201c{blocking.label}\u201d is due on "
                                     f"{blocking.due_date.isoformat()}, after this end: move or remove it on the "
                                     "checkpoints page first.")
    return new_end


def _parse_commitments(session: Session, alliance: Alliance, value: object,
                       errors: FieldErrors) -> dict[int, CommitmentData]:
    if value is None:
        return {}
    if not isinstance(value, list):
        errors.add("commitments", "Commitments are a list of {partner_id, expects, brings}.")
        return {}
    found: dict[int, CommitmentData] = {}
    for i, item in enumerate(value):
        prefix = f"commitments-{i}-"
        if not isinstance(item, dict):
            errors.add(f"commitments-{i}", "Each commitment is an object with partner_id, expects and brings.")
            continue
        partner = errors.check(prefix + "partner_id", partner_of, session, alliance, item.get("partner_id"),
                               prefix + "partner_id")
        expects = errors.check(prefix + "expects", clean_text, item.get("expects"), prefix + "expects",
                               max_len=TEXT_MAX, required=False, label="expectations")
        brings = errors.check(prefix + "brings", clean_text, item.get("brings"), prefix + "brings",
                              max_len=TEXT_MAX, required=False, label="commitment")
        if partner is None:
            continue
        if partner.id in found:
            errors.add(prefix + "partner_id", f"{partner.name} is listed twice.")
            continue
        found[partner.id] = CommitmentData(partner.name, expects or "", brings or "")
    return found


def _existing_target(session: Session, alliance: Alliance, value: object, field: str) -> Target:
    target_id = parse_id(value, field, "target")
    target = session.get(Target, target_id)
    if target is None or target.alliance_id != alliance.id:
        raise InvalidInput.at(field, f"Unknown target: no target #{target_id} in {alliance.name}.")
    return target


def _new_target(session: Session, alliance: Alliance, item: Mapping, prefix: str,
                errors: FieldErrors) -> Target | None:
    """A target defined in the request; a name already used by an earlier target re-adds that target."""
    name = errors.check(prefix + "name", clean_text, item.get("name"), prefix + "name", max_len=NAME_MAX,
                        label="target's name")
    unit = errors.check(prefix + "unit", clean_text, item.get("unit"), prefix + "unit", max_len=UNIT_MAX,
                        label="unit (masks, EUR, EUR per mask ...)")
    period = errors.check(prefix + "period", parse_choice, TargetPeriod, item.get("period"), prefix + "period",
                          "period")
    direction = errors.check(prefix + "direction", parse_choice, TargetDirection,
                             item.get("direction") or TargetDirection.AT_LEAST.value, prefix + "direction",
                             "direction")
    combine = errors.check(prefix + "combine", parse_choice, TargetCombine,
                           item.get("combine") or TargetCombine.SUM.value, prefix + "combine",
                           "way to combine partners' figures")
    if None in (name, unit, period, direction, combine):
        return None
    earlier = session.scalar(select(Target).where(Target.alliance_id == alliance.id,
                                                  func.lower(Target.name) == name.lower()))
    if earlier is None:
        return Target(alliance_id=alliance.id, name=name, unit=unit, period=period, direction=direction,
                      combine=combine)
    if (earlier.unit, earlier.period, earlier.direction, earlier.combine) != (unit, period, direction, combine):
        errors.add(prefix + "name", f"A target called \u201c{earlier.name}\u201d already exists ({earlier.unit}, "
                                    f"{earlier.period.label}, {earlier.direction.label}, {earlier.combine.label}); "
                                    "choose another name, or keep its definition to bring it back.")
        return None
    return earlier


def _parse_targets(session: Session, alliance: Alliance, value: object,
                   errors: FieldErrors) -> list[tuple[Target, Decimal]]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add("targets", "Targets are a list of {target_id, value} or {name, unit, period, ..., value}.")
        return []
    if len(value) > MAX_TARGETS:
        errors.add("targets", f"A charter can have at most {MAX_TARGETS} targets.")
        return []
    chosen: list[tuple[Target, Decimal]] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        prefix = f"targets-{i}-"
        if not isinstance(item, dict):
            errors.add(f"targets-{i}", "Each target is an object with target_id (or name, unit, period) and value.")
            continue
        if item.get("target_id") not in (None, ""):
            target = errors.check(prefix + "target_id", _existing_target, session, alliance, item.get("target_id"),
                                  prefix + "target_id")
        else:
            target = _new_target(session, alliance, item, prefix, errors)
        amount = errors.check(prefix + "value", parse_quantity, item.get("value"), prefix + "value",
                              label="target value")
        if target is None or amount is None:
            continue
        key = target.name.lower()
        if key in seen:
            errors.add(prefix + ("target_id" if target.id and item.get("target_id") not in (None, "") else "name"),
                       f"The target \u201c{target.name}\u201d is listed twice.")
            continue
        seen.add(key)
        chosen.append((target, amount))
    return chosen


def save_charter(session: Session, actor: User, membership: Membership, raw: Mapping,
                 today: date) -> CharterVersion:
    """A new charter version from the coordinator's form or API body; refuses a save that changes nothing."""
    if not can_manage(membership.role):
        raise NotAllowed("Only the alliance's coordinator can change the charter.")
    alliance = membership.alliance
    ensure_not_ended(alliance, today, "effective_from")
    newest = newest_version(session, alliance)
    errors = FieldErrors()
    term_end = errors.check("term_end", parse_date, raw.get("term_end"), "term_end")
    if term_end is not None:
        term_end = errors.check("term_end", check_term_end, session, alliance, term_end, "term_end")
    effective_raw = raw.get("effective_from")
    if effective_raw in (None, ""):
        effective: date | None = default_day(alliance, today)
    else:
        effective = errors.check("effective_from", parse_date, effective_raw, "effective_from")
    end_for_check = term_end or alliance.term_end
    if effective is not None:
        if not alliance.start_date <= effective <= end_for_check:
            errors.add("effective_from", f"The version must take effect within the term, "
                                         f"{alliance.start_date.isoformat()} to {end_for_check.isoformat()}.")
        elif newest is not None and effective < newest.effective_from:
            errors.add("effective_from", f"Version {newest.number} takes effect on "
                                         f"{newest.effective_from.isoformat()}: a new version takes effect on "
                                         "or after that day.")
    cause = errors.check("cause", clean_text, raw.get("cause"), "cause", max_len=CAUSE_MAX, required=False)
    objective = errors.check("objective", clean_text, raw.get("objective"), "objective", max_len=TEXT_MAX,
                             required=False, label="shared objective")
    note = errors.check("change_note", clean_text, raw.get("change_note"), "change_note", max_len=NOTE_MAX,
                        required=False, label="note")
    commitments = _parse_commitments(session, alliance, raw.get("commitments"), errors)
    targets = _parse_targets(session, alliance, raw.get("targets"), errors)
    errors.raise_if_any()

    proposed = CharterData(
        cause=cause or "", objective=objective or "", term_end=term_end,
        commitments=commitments,
        targets={t.id if t.id else f"new:{t.name}": TargetData(t.name, value, t.unit, t.period.label)
                 for t, value in targets})
    changed = changes(charter_data(newest) if newest else None, proposed)
    if not changed:
        raise InvalidInput.at("charter", "Nothing changed: this is the charter as it stands. Change a field to "
                                         "save a new version.")
    version = _add_version(session, alliance, actor, effective, cause or "", objective or "", term_end,
                           note or "", {p: (c.expects, c.brings) for p, c in commitments.items() if not c.empty},
                           targets)
    log(session, alliance, actor, "charter.version",
        f"{actor.name} saved charter version {version.number}, effective from {effective.isoformat()}: "
        + "; ".join(changed))
    return version


def _add_version(session: Session, alliance: Alliance, actor: User | None, effective: date, cause: str,
                 objective: str, term_end: date, note: str, commitments: Mapping[int, tuple[str, str]],
                 targets: list[tuple[Target, Decimal]]) -> CharterVersion:
    number = (session.scalar(select(func.max(CharterVersion.number))
                             .where(CharterVersion.alliance_id == alliance.id)) or 0) + 1
    version = CharterVersion(alliance_id=alliance.id, number=number, effective_from=effective, cause=cause,
                             objective=objective, term_end=term_end, change_note=note,
                             created_by_id=actor.id if actor else None)
    session.add(version)
    for target, _ in targets:
        if target.id is None:
            session.add(target)
    session.flush()
    session.add_all(CharterCommitment(version_id=version.id, partner_id=p, expects=e, brings=b)
                    for p, (e, b) in commitments.items())
    session.add_all(CharterTarget(version_id=version.id, target_id=t.id, value=v) for t, v in targets)
    # Mirror: every dated write checks the term on the alliance row.
    alliance.cause = cause
    alliance.term_end = term_end
    session.flush()
    append_link(session, alliance, "charter_version", version.id)
    session.expire(version)
    return version


def derive_version(session: Session, actor: User | None, alliance: Alliance, *, note: str, effective_from: date,
                   term_end: date | None = None) -> CharterVersion:
    """A new version copying the newest one (commitments, targets), with a new term end and note.

    For checkpoint decisions (renew, renegotiate, terminate): the caller has checked ``term_end`` with
    :func:`check_term_end`. The version takes effect on ``effective_from``, or on the newest version's
    date if that is later (so the newest version stays the one in force).
    """
    newest = newest_version(session, alliance)
    if newest is None:  # pragma: no cover - every alliance has version 1 from its creation or the migration
        raise InvalidInput.at("charter", "The alliance has no charter yet.")
    effective = max(effective_from, newest.effective_from)
    end = term_end or newest.term_end
    targets = [(ct.target, ct.value) for ct in newest.targets]
    commitments = {c.partner_id: (c.expects, c.brings) for c in newest.commitments}
    version = _add_version(session, alliance, actor, effective, newest.cause, newest.objective, end, note,
                           commitments, targets)
    before = charter_data(newest)
    what = changes(before, replace(before, term_end=end))
    who = actor.name if actor else "A checkpoint decision"
    log(session, alliance, actor, "charter.version",
        f"{who} made charter version {version.number}, effective from {effective.isoformat()}: "
        + "; ".join(what or ["copied unchanged"]) + (f" ({note})" if note else ""))
    return version
