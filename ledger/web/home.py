"""The home page: the user's alliances with each one's headline figures."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from ledger.domain.text import whole_number
from ledger.extensions import get_session
from ledger.queries import headline_page
from ledger.web.common import me

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    page = request.args.get("page", "1")
    number = whole_number(page, 999_999) or 1  # a page past the end shows the last
    listing = headline_page(get_session(), me(), number, int(current_app.config["HOME_PAGE_SIZE"]))
    return render_template("home/index.html", listing=listing, headlines=listing.headlines)
