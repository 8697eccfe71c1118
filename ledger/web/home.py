"""The home page: the user's alliances with each one's headline figures."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ledger.extensions import get_session
from ledger.queries import headlines

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    return render_template("home/index.html", headlines=headlines(get_session(), current_user))
