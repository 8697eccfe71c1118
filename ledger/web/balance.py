"""The balance page: the dashboard's balance table and settle-up on a page of their own, live like it."""

from __future__ import annotations

from flask import Blueprint, render_template

from ledger.web.access import membership_or_404
from ledger.web.dashboard import balance_context

bp = Blueprint("balance", __name__)


@bp.route("/a/<id:alliance_id>/balance")
def index(alliance_id: int):
    context, status = balance_context(membership_or_404(alliance_id))
    return render_template("alliance/balance.html", section="balance", **context), status
