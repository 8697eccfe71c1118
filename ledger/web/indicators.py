"""The indicators page (issue 5): value balance indicators; also registers the SVG chart helpers for templates.

The page renders only :func:`ledger.indicators.balance_indicators`'s dict
through ``alliance/_indicators.html``, the same partial a checkpoint shows
with its frozen copy, so live and frozen figures look alike.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from flask import Blueprint, render_template, request

from ledger import charts
from ledger.extensions import get_session
from ledger.indicators import balance_indicators
from ledger.web.access import membership_or_404
from ledger.web.filters import optional_date

bp = Blueprint("indicators", __name__)

# Any template may draw a chart: {{ line_chart("Title", labels, [("Alpha", values)], money_currency="EUR") }}.
for _chart in (charts.line_chart, charts.bar_chart, charts.meter):
    bp.app_template_global(_chart.__name__)(_chart)


@bp.app_template_filter("as_decimal")
def as_decimal(text: object) -> Decimal:
    """A ratio of the indicators dict ("0.5234") as a Decimal, to compare or take abs() of in a template."""
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return Decimal(0)


@bp.app_template_filter("as_percent")
def as_percent(text: object, places: int = 1) -> str:
    """"0.5234" -> "52.3%"; "-0.3" -> "-30.0%" (signed=True style is left to the template)."""
    value = (as_decimal(text) * 100).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)
    return f"{value:f}%" if value != 0 else f"{Decimal(0).quantize(Decimal(1).scaleb(-places)):f}%"


@bp.app_template_filter("as_places")
def as_places(text: object, places: int = 2) -> str:
    """"0.5" -> "0.50": the index as people compare it with a threshold."""
    return f"{as_decimal(text).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN):f}"


@bp.route("/a/<id:alliance_id>/indicators")
def index(alliance_id: int):
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    errors: dict[str, str] = {}
    as_of = optional_date(request.args.get("as_of"), "as_of", errors)
    ind = balance_indicators(get_session(), alliance, as_of)
    return render_template("alliance/indicators.html", section="indicators", membership=membership,
                           alliance=alliance, ind=ind, filter_errors=errors,
                           as_of_text=request.args.get("as_of", "")), 400 if errors else 200
