"""Starting a new alliance; its creator becomes its first coordinator."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.widgets import DateInput

from ledger.domain.errors import InvalidInput
from ledger.extensions import get_session
from ledger.services.alliances import create_alliance
from ledger.web.common import me, unprocessable

bp = Blueprint("alliances", __name__)


class AllianceForm(FlaskForm):
    name = StringField("Name")
    cause = TextAreaField("Cause", description="What the alliance is for, in a sentence or two.")
    currency = StringField("Currency", default="EUR", description="ISO 4217 code, e.g. EUR or USD.")
    start_date = StringField("Start date", widget=DateInput())
    term_end = StringField("Term end", widget=DateInput())


@bp.route("/alliances/new", methods=["GET", "POST"])
def new():
    form = AllianceForm()
    if form.validate_on_submit():
        raw = {name: form[name].data for name in ("name", "cause", "currency", "start_date", "term_end")}
        try:
            alliance = create_alliance(get_session(), me(), raw)
        except InvalidInput as exc:
            return unprocessable("alliance/new.html", form, exc)
        get_session().commit()
        flash(f"{alliance.name} is set up. Next: add its partners, then the split agreement.", "success")
        return redirect(url_for("partners.index", alliance_id=alliance.id))
    return render_template("alliance/new.html", form=form, other_errors={})
