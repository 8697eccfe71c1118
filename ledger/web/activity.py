"""The activity feed page and the member's own alert threshold.

The feed pages by ``seq`` (``?before=``) rather than by offset so that new
events arriving while someone reads older pages never shift what they see.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField

from ledger.db import MAX_SEQ
from ledger.domain.errors import InvalidInput
from ledger.domain.money import to_decimal_string, to_display_string
from ledger.domain.text import whole_number
from ledger.extensions import get_session
from ledger.models import Membership
from ledger.queries import activity_page
from ledger.services.notifications import set_threshold
from ledger.web.access import membership_or_404
from ledger.web.common import me, put_errors

bp = Blueprint("activity", __name__)


class NotifyForm(FlaskForm):
    notify_above = StringField("Alert me of entries by other partners of at least",
                               description="An amount, e.g. 1000 or 1.000,00. Leave empty for no alerts.")

    @classmethod
    def of(cls, membership: Membership) -> NotifyForm:
        cents = membership.notify_above
        shown = "" if cents is None else to_decimal_string(cents, membership.alliance.currency)
        return cls(formdata=None, notify_above=shown)


def _before(raw: str | None) -> tuple[int | None, str | None]:
    if raw is None or raw == "":
        return None, None
    number = whole_number(raw, MAX_SEQ, smallest=0)
    if number is not None:
        return number, None
    return None, "That page does not exist: start again from the newest events."


@bp.route("/a/<id:alliance_id>/activity")
def index(alliance_id: int):
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    before, error = _before(request.args.get("before"))
    if error:
        return render_template("alliance/activity.html", membership=membership, alliance=alliance,
                               section="activity", page=None, error=error, older_url=None, newest_url=None), 400
    page = activity_page(get_session(), alliance, before, limit=int(current_app.config.get("PAGE_SIZE", 50)))
    older_url = (url_for("activity.index", alliance_id=alliance_id, before=page.next_before)
                 if page.next_before else None)
    newest_url = url_for("activity.index", alliance_id=alliance_id) if before is not None else None
    return render_template("alliance/activity.html", membership=membership, alliance=alliance, section="activity",
                           page=page, error=None, older_url=older_url, newest_url=newest_url)


@bp.route("/a/<id:alliance_id>/notify", methods=["POST"])
def notify(alliance_id: int):
    membership = membership_or_404(alliance_id)
    form = NotifyForm()
    session = get_session()
    try:
        cents = set_threshold(session, me(), membership, {"notify_above": form.notify_above.data})
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        from ledger.web.dashboard import _render  # the dashboard is where the form lives

        return _render(membership, status=422, notify_form=form)
    session.commit()
    if cents is None:
        flash("Alerts are off: you will not be alerted of other partners' entries.", "success")
    else:
        flash(f"You will be alerted in the page of entries by other partners of at least "
              f"{to_display_string(cents, membership.alliance.currency)}.", "success")
    return redirect(url_for("dashboard.index", alliance_id=alliance_id))
