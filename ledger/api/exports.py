"""``GET /alliances/{id}/export``: the period's workbook or CSV, as a file download."""

from __future__ import annotations

from flask import request

from ledger.api.auth import current_user, membership_or_404
from ledger.api.blueprint import bp
from ledger.api.errors import BadRequest
from ledger.api.inputs import date_range
from ledger.domain.errors import FieldErrors
from ledger.export.files import download
from ledger.export.period import ExportPeriod, parse_format
from ledger.extensions import get_session
from ledger.services.audit import record_download
from ledger.statements import comment_reader


@bp.get("/alliances/<id:alliance_id>/export")
def export(alliance_id: int):
    """Any member may export: the books are open to every partner, as the shared sheet was."""
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    errors = FieldErrors()
    fmt = errors.check("format", parse_format, request.args.get("format"))
    start, end = date_range(errors)
    if errors:
        raise BadRequest("Some query parameters are not valid.", errors.errors)
    period = ExportPeriod(start or alliance.start_date, end or alliance.term_end)
    if period.end < period.start:
        raise BadRequest("Some query parameters are not valid.",
                         {"to" if end else "from": "The period would end before it starts; give both from and to."})
    session = get_session()
    response = download(session, alliance, period, fmt, comment_reader(membership))
    record_download(session, alliance, current_user(), f"the {fmt} export of {period.start} to {period.end}",
                    "API")
    session.commit()
    return response
