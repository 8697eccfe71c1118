"""The charter (value definition), targets against actuals and measurements through /api/v1.

Same services and read side as the pages: a charter save or a measurement
posted here is checked by exactly the rules the forms use, and the progress
is the very list a checkpoint freezes into its snapshot.
"""

from __future__ import annotations

from datetime import date

from flask import jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ledger.api.alliances import created
from ledger.api.auth import current_user, membership_or_404
from ledger.api.blueprint import bp
from ledger.api.bodies import json_body
from ledger.api.entries import today
from ledger.api.errors import BadRequest
from ledger.charters import changes_by_number, charter_data, version_in_force, version_number, versions_of
from ledger.domain.charter import changes
from ledger.domain.errors import InvalidInput, NotFound
from ledger.domain.targets import period_label, plain
from ledger.domain.text import parse_date
from ledger.extensions import get_session
from ledger.models import Alliance, CharterVersion, Measurement, Target
from ledger.progress import clamp_into_term, targets_progress
from ledger.queries import row_in
from ledger.services.charter import save_charter
from ledger.services.lookups import default_day
from ledger.services.measurements import record_measurement


def _moment(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _summary(version: CharterVersion, what: list[str]) -> dict:
    return {"number": version.number, "effective_from": version.effective_from.isoformat(),
            "term_end": version.term_end.isoformat(), "change_note": version.change_note or "",
            "created_by": version.created_by.name if version.created_by else None,
            "created_at": _moment(version.created_at), "changes": what}


def _version(alliance: Alliance, version: CharterVersion, what: list[str]) -> dict:
    return {
        **_summary(version, what), "cause": version.cause or "", "objective": version.objective or "",
        "term_start": alliance.start_date.isoformat(),
        "commitments": [{"partner_id": c.partner_id, "partner": c.partner.name, "expects": c.expects or "",
                         "brings": c.brings or ""} for c in sorted(version.commitments, key=lambda c: c.partner.name)],
        "targets": [_target(ct.target) | {"value": plain(ct.value)} for ct in version.targets],
    }


def _target(target: Target) -> dict:
    return {"target_id": target.id, "name": target.name, "unit": target.unit, "period": target.period.value,
            "direction": target.direction.value, "combine": target.combine.value}


def _measurement(row: Measurement, counts: bool = True) -> dict:
    return {"id": row.id, "target_id": row.target_id, "target": row.target.name, "partner_id": row.partner_id,
            "partner": row.partner.name, "period_start": row.period_start.isoformat(),
            "period_label": period_label(row.period_start, row.target.period), "value": plain(row.value),
            "note": row.note or "", "recorded_by": row.recorded_by.name, "recorded_at": _moment(row.recorded_at),
            "counts": counts}


def _version_body(alliance: Alliance, number: int) -> dict:
    session = get_session()
    version = version_number(session, alliance, number)
    if version is None:
        raise NotFound("There is no charter version with that number in this alliance.")
    previous = version_number(session, alliance, number - 1) if number > 1 else None
    return _version(alliance, version, changes(charter_data(previous) if previous else None, charter_data(version)))


@bp.get("/alliances/<id:alliance_id>/charter")
def get_charter(alliance_id: int):
    alliance = membership_or_404(alliance_id).alliance
    versions = versions_of(get_session(), alliance)
    what = changes_by_number(versions)
    current = version_in_force(versions, alliance, default_day(alliance, today(alliance)))
    return jsonify({"in_force": _version(alliance, current, what[current.number]),
                    "versions": [_summary(v, what[v.number]) for v in versions]})


@bp.get("/alliances/<id:alliance_id>/charter/versions/<id:number>")
def get_charter_version(alliance_id: int, number: int):
    alliance = membership_or_404(alliance_id).alliance
    return jsonify(_version_body(alliance, number))


@bp.post("/alliances/<id:alliance_id>/charter")
def save_charter_version(alliance_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    version = save_charter(session, current_user(), membership, json_body(), today(membership.alliance))
    number = version.number
    session.commit()
    return created(_version_body(membership.alliance, number), "api.get_charter_version", alliance_id=alliance_id,
                   number=number)


def _as_of(alliance: Alliance) -> date:
    value = request.args.get("as_of")
    if value is None or value == "":  # empty is left out; blank is a 400 at as_of, as every query parameter
        return default_day(alliance, today(alliance))
    try:
        return clamp_into_term(alliance, parse_date(value, "as_of"))
    except InvalidInput as exc:
        raise BadRequest("Some query parameters are not valid.", exc.errors) from None


@bp.get("/alliances/<id:alliance_id>/targets")
def get_targets(alliance_id: int):
    alliance = membership_or_404(alliance_id).alliance
    as_of = _as_of(alliance)
    return jsonify({"as_of": as_of.isoformat(), "targets": targets_progress(get_session(), alliance, as_of)})


@bp.get("/alliances/<id:alliance_id>/targets/<id:target_id>")
def get_target(alliance_id: int, target_id: int):
    session = get_session()
    alliance = membership_or_404(alliance_id).alliance
    target = row_in(session, Target, alliance, target_id)
    if target is None:
        raise NotFound("There is no target with that id in this alliance.")
    as_of = default_day(alliance, today(alliance))
    history = list(session.scalars(
        select(Measurement).where(Measurement.target_id == target.id).order_by(Measurement.id.desc())
        .options(selectinload(Measurement.partner), selectinload(Measurement.recorded_by))))
    seen: set = set()
    rows = []
    for m in history:
        key = (m.period_start, m.partner_id)
        rows.append(_measurement(m, key not in seen))
        seen.add(key)
    progress = next((p for p in targets_progress(session, alliance, as_of) if p["target_id"] == target.id), None)
    return jsonify({**_target(target), "progress": progress, "measurements": rows})


@bp.post("/alliances/<id:alliance_id>/targets/<id:target_id>/measurements")
def create_measurement(alliance_id: int, target_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    if row_in(session, Target, membership.alliance, target_id) is None:
        raise NotFound("There is no target with that id in this alliance.")
    row = record_measurement(session, current_user(), membership, {**json_body(), "target_id": target_id},
                             today(membership.alliance))
    body = _measurement(row)
    session.commit()
    return created(body, "api.get_target", alliance_id=alliance_id, target_id=target_id)
