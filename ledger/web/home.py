"""The home page: the user's alliances with each one's headline figures."""

from __future__ import annotations

from flask import Blueprint, render_template

from ledger.extensions import get_session
from ledger.queries import headlines
from ledger.web.common import me

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    return render_template("home/index.html", headlines=headlines(get_session(), me()))
