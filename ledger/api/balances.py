"""The balance of every partner, and the settle-up suggestion and its recording."""

from __future__ import annotations

from flask import jsonify, url_for

from ledger.api import serializers
from ledger.api.auth import current_user, membership_or_404
from ledger.api.blueprint import bp
from ledger.api.bodies import json_body
from ledger.api.entries import entry_context, today
from ledger.api.errors import error_response
from ledger.api.inputs import date_range
from ledger.domain.errors import InvalidInput
from ledger.extensions import get_session
from ledger.queries import balance_sheet
from ledger.services import entries


@bp.get("/alliances/<id:alliance_id>/balance")
def get_balance(alliance_id: int):
    alliance = membership_or_404(alliance_id).alliance
    start, end = date_range()
    return jsonify(serializers.balance(balance_sheet(get_session(), alliance, start, end)))


@bp.get("/alliances/<id:alliance_id>/settle-up")
def get_settle_up(alliance_id: int):
    """Over the whole ledger: a settle-up squares the partners for good, not for a period."""
    alliance = membership_or_404(alliance_id).alliance
    sheet = balance_sheet(get_session(), alliance)
    return jsonify(serializers.settle_up(sheet, entries.transfers_fingerprint(sheet.transfers)))


@bp.post("/alliances/<id:alliance_id>/settle-up")
def record_settle_up(alliance_id: int):
    """Record the settle-up the caller saw; a 409 carries the current suggestion to review instead."""
    session = get_session()
    membership = membership_or_404(alliance_id)
    raw = json_body(optional=True)
    if raw.get("expected") is not None and not isinstance(raw["expected"], str):
        raise InvalidInput.at("expected", "Send the fingerprint exactly as GET settle-up returned it.")
    try:
        rows = entries.record_settle_up(session, current_user(), membership, raw, today(membership.alliance))
    except entries.SettleUpConflict as exc:
        session.rollback()
        return error_response(409, str(exc), beside={"settle_up": serializers.settle_up(exc.sheet, exc.fingerprint)})
    session.commit()
    ctx = entry_context(membership.alliance)
    response = jsonify({"entries": [serializers.entry(e, ctx) for e in rows]})
    response.status_code = 201
    response.headers["Location"] = url_for("api.list_entries", alliance_id=alliance_id, kind="settlement")
    return response
