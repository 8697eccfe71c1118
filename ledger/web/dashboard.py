"""The alliance dashboard: every partner's balance, the settle-up suggestion, latest entries and activity."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.widgets import DateInput

from ledger.domain.errors import InvalidInput
from ledger.domain.permissions import can_manage, can_record
from ledger.domain.renewal import is_read_only
from ledger.extensions import get_session
from ledger.models import Membership
from ledger.queries import activity_of, balance_sheet, latest_entries
from ledger.reviews import schedule_summary
from ledger.services.checkpoints import open_due
from ledger.services.entries import SettleUpConflict, record_settle_up, transfers_fingerprint
from ledger.web.access import membership_or_404
from ledger.web.activity import NotifyForm
from ledger.web.common import me, put_errors, today
from ledger.web.filters import optional_date, period

bp = Blueprint("dashboard", __name__)


class SettleUpForm(FlaskForm):
    expected = HiddenField()
    date = StringField("Date of the transfers", widget=DateInput(),
                       description="Leave empty for today.")


def balance_context(membership: Membership, settle_form: SettleUpForm | None = None) -> tuple[dict, int]:
    """The balance table for the requested period and the whole-term settle-up (dashboard and balance page)."""
    session = get_session()
    alliance = membership.alliance
    errors: dict[str, str] = {}
    date_from = optional_date(request.args.get("from"), "from", errors)
    date_to = optional_date(request.args.get("to"), "to", errors)
    period(date_from, date_to, errors)
    if errors:
        date_from = date_to = None
    whole = balance_sheet(session, alliance)
    sheet = balance_sheet(session, alliance, date_from, date_to) if (date_from or date_to) else whole
    if settle_form is None:
        settle_form = SettleUpForm(formdata=None, expected=transfers_fingerprint(whole.transfers))
    context = {
        "membership": membership, "alliance": alliance, "sheet": sheet, "whole": whole, "settle_form": settle_form,
        "filter_errors": errors, "period": {"from": request.args.get("from", ""), "to": request.args.get("to", "")},
        "can_settle": can_manage(membership.role) and not is_read_only(today(alliance), alliance.ended_on)}
    return context, 400 if errors else 200


def _render(membership: Membership, settle_form: SettleUpForm | None = None, status: int = 200,
            notify_form: NotifyForm | None = None):
    session = get_session()
    alliance = membership.alliance
    if open_due(session, alliance, today(alliance)):  # a checkpoint whose date has come opens on the first look
        session.commit()
    context, filter_status = balance_context(membership, settle_form)
    if status == 200:
        status = filter_status
    return render_template(
        "alliance/dashboard.html", section="dashboard", **context,
        notify_form=notify_form or NotifyForm.of(membership),
        latest=latest_entries(session, alliance, limit=10), activity=activity_of(session, alliance, limit=10),
        reviews=schedule_summary(session, alliance, today(alliance)), today=today(alliance),
        can_record=can_record(membership.role) and not is_read_only(today(alliance), alliance.ended_on)), status


@bp.route("/a/<id:alliance_id>/")
def index(alliance_id: int):
    return _render(membership_or_404(alliance_id))


@bp.route("/a/<id:alliance_id>/settle-up", methods=["POST"])
def settle_up(alliance_id: int):
    """Record the settle-up the page showed; if it is not the suggestion any more, show the current one."""
    membership = membership_or_404(alliance_id)
    form = SettleUpForm()
    session = get_session()
    try:
        entries = record_settle_up(session, me(), membership,
                                   {"expected": form.expected.data, "date": form.date.data},
                                   today=today(membership.alliance))
    except SettleUpConflict as exc:
        session.rollback()
        flash(str(exc), "error")
        return _render(membership, status=409)  # a fresh form: the suggestion and fingerprint as they are now
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        return _render(membership, form, 422)
    session.commit()
    flash(f"Recorded {len(entries)} settle-up transfer{'s' if len(entries) != 1 else ''}: "
          "every balance is now zero.", "success")
    return redirect(url_for("dashboard.index", alliance_id=alliance_id))
