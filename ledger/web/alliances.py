"""Starting a new alliance (its creator becomes its first coordinator), and the alliance's settings page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.widgets import DateInput

from ledger.clock import DEFAULT_TIMEZONE
from ledger.domain.errors import InvalidInput
from ledger.domain.permissions import can_manage
from ledger.extensions import get_session
from ledger.models import Membership
from ledger.services.alliances import create_alliance, update_alliance
from ledger.web.access import membership_or_404
from ledger.web.common import me, put_errors, today, unprocessable

bp = Blueprint("alliances", __name__)


TIMEZONE_HINT = ("Where the alliance keeps its books: an IANA name such as Europe/Rome. Its calendar day there "
                 "is the alliance's \u201ctoday\u201d (inside the term, due, read-only). Empty: UTC.")


class AllianceForm(FlaskForm):
    name = StringField("Name")
    cause = TextAreaField("Cause", description="What the alliance is for, in a sentence or two.")
    currency = StringField("Currency", default="EUR", description="ISO 4217 code, e.g. EUR or USD.")
    start_date = StringField("Start date", widget=DateInput())
    term_end = StringField("Term end", widget=DateInput())
    timezone = StringField("Time zone", default=DEFAULT_TIMEZONE, description=TIMEZONE_HINT)


@bp.route("/alliances/new", methods=["GET", "POST"])
def new():
    form = AllianceForm()
    if form.validate_on_submit():
        raw = {name: form[name].data for name in ("name", "cause", "currency", "start_date", "term_end", "timezone")}
        try:
            alliance = create_alliance(get_session(), me(), raw)
        except InvalidInput as exc:
            return unprocessable("alliance/new.html", form, exc)
        get_session().commit()
        flash(f"{alliance.name} is set up. Next: add its partners, then the split agreement.", "success")
        return redirect(url_for("partners.index", alliance_id=alliance.id))
    return render_template("alliance/new.html", form=form, other_errors={})


class SettingsForm(FlaskForm):
    timezone = StringField("Time zone", description=TIMEZONE_HINT)


def _render_settings(membership: Membership, form: SettingsForm | None = None, status: int = 200):
    alliance = membership.alliance
    return render_template("alliance/settings.html", membership=membership, alliance=alliance, section="settings",
                           form=form or SettingsForm(formdata=None, timezone=alliance.timezone),
                           today=today(alliance), can_manage=can_manage(membership.role)), status


@bp.route("/a/<id:alliance_id>/settings", methods=["GET", "POST"])
def settings(alliance_id: int):
    """Every member sees the alliance's settings; the coordinator changes them."""
    membership = membership_or_404(alliance_id)
    if request.method == "GET":
        return _render_settings(membership)
    form = SettingsForm()
    form.validate_on_submit()
    session = get_session()
    try:
        update_alliance(session, me(), membership, {"timezone": form.timezone.data})
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        return _render_settings(membership, form, 422)
    session.commit()
    flash(f"The time zone is now {membership.alliance.timezone}.", "success")
    return redirect(url_for("alliances.settings", alliance_id=alliance_id))
