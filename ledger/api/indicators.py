"""The value balance indicators through /api/v1: the same dict the indicators page and checkpoints render."""

from __future__ import annotations

from flask import jsonify, request

from ledger.api.auth import membership_or_404
from ledger.api.blueprint import bp
from ledger.api.errors import BadRequest
from ledger.domain.errors import InvalidInput
from ledger.domain.text import parse_date
from ledger.extensions import get_session
from ledger.indicators import balance_indicators


@bp.get("/alliances/<id:alliance_id>/indicators")
def get_indicators(alliance_id: int):
    alliance = membership_or_404(alliance_id).alliance
    raw = request.args.get("as_of") or ""  # empty is left out; blank is a 400 at as_of, as every query parameter
    try:
        as_of = parse_date(raw, "as_of") if raw else None
    except InvalidInput as exc:
        raise BadRequest("Some query parameters are not valid.", exc.errors) from None
    return jsonify(balance_indicators(get_session(), alliance, as_of))
