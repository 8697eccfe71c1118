"""The export page: choose a period (the whole term, a month, a quarter, any range) and a format, download.

A GET form (it changes no books, so no CSRF token; the download itself is
recorded in the activity feed, see :mod:`ledger.services.audit`): submitting
it with ``format`` set downloads the file; a bad period re-renders the form
with the message at the field (HTTP 400), never a 500.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.widgets import DateInput, MonthInput

from ledger.domain.errors import FieldErrors
from ledger.export.files import download
from ledger.export.period import parse_format, parse_period
from ledger.extensions import get_session
from ledger.services.audit import record_download
from ledger.statements import comment_reader
from ledger.web.access import membership_or_404
from ledger.web.common import Radio, me, put_errors

bp = Blueprint("exports", __name__)


class ExportForm(FlaskForm):
    class Meta:
        csrf = False

    period = Radio("Period", choices=[("term", "The whole term"), ("month", "A month"), ("quarter", "A quarter"),
                                      ("range", "A date range")], default="term")
    month = StringField("Month", widget=MonthInput(), description="YYYY-MM, e.g. 2020-05")
    quarter = StringField("Quarter", description="YYYY-Qn, e.g. 2020-Q2")
    date_from = StringField("From", name="from", widget=DateInput())
    date_to = StringField("To", name="to", widget=DateInput())
    format = Radio("Format", choices=[("xlsx", "Excel workbook (.xlsx) with live formulas"),
                                      ("csv", "CSV of the ledger")], default="xlsx")


@bp.route("/a/<id:alliance_id>/export")
def index(alliance_id: int):
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    form = ExportForm(formdata=request.args if request.args else None)
    context = {"membership": membership, "alliance": alliance, "section": "export", "form": form}
    if "format" not in request.args:
        return render_template("alliance/export.html", other_errors={}, **context)
    errors = FieldErrors()
    fmt = errors.check("format", parse_format, request.args.get("format"))
    period = errors.merge(parse_period, alliance, request.args.to_dict())
    if errors:
        rest = put_errors(form, errors.errors)
        return render_template("alliance/export.html", other_errors=rest, **context), 400
    session = get_session()
    response = download(session, alliance, period, fmt, comment_reader(membership))
    record_download(session, alliance, me(), f"the {fmt} export of {period.start} to {period.end}", "web")
    session.commit()
    return response
