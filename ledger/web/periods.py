"""Closing periods, each partner's statement for a closed one, and its sign-off or dispute."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.widgets import DateInput

from ledger.domain.errors import InvalidInput
from ledger.domain.vocabulary import MemberRole
from ledger.extensions import get_session
from ledger.models import Alliance, Membership, Partner
from ledger.queries import row_in
from ledger.services.periods import can_close, close_period, closed_through, sign_off, suggested_end
from ledger.statements import (
    comment_reader,
    may_view_statement,
    period_in,
    signoff_grid,
    statement,
    statement_filter,
)
from ledger.web.access import membership_or_404
from ledger.web.common import me, put_errors, today
from ledger.web.filters import format_cursor, parse_cursor

bp = Blueprint("periods", __name__)


class CloseForm(FlaskForm):
    end_date = StringField("Close the books through", widget=DateInput(),
                           description="The last day of the period: a month's end or any day before today.")


class SignOffForm(FlaskForm):
    status = HiddenField()
    comment = TextAreaField("Comment", description="Required when you dispute the statement.")


@bp.app_template_global()
def signoff_panel(alliance: Alliance):
    """The dashboard's periods x partners table; a template global so the dashboard view needs no change."""
    return signoff_grid(get_session(), alliance)


@bp.app_template_global()
def may_open_statement(membership: Membership, partner: Partner) -> bool:
    """Whether to link a partner's statement: the rule the statement page itself applies, so no link leads
    to a "Forbidden" page."""
    return may_view_statement(membership, partner)


def _render_index(membership: Membership, form: CloseForm | None = None, status: int = 200):
    session = get_session()
    alliance = membership.alliance
    if form is None:
        form = CloseForm(formdata=None, end_date=min(suggested_end(session, alliance), alliance.term_end).isoformat())
    return render_template(
        "alliance/periods.html", membership=membership, alliance=alliance, section="periods",
        grid=signoff_grid(session, alliance), closed=closed_through(session, alliance), form=form,
        suggested=suggested_end(session, alliance), can_close=can_close(membership), today=today(alliance)), status


@bp.route("/a/<id:alliance_id>/periods")
def index(alliance_id: int):
    return _render_index(membership_or_404(alliance_id))


@bp.route("/a/<id:alliance_id>/periods", methods=["POST"])
def close(alliance_id: int):
    membership = membership_or_404(alliance_id)
    form = CloseForm()
    session = get_session()
    try:
        period = close_period(session, me(), membership, {"end_date": form.end_date.data},
                              today=today(membership.alliance))
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        return _render_index(membership, form, 422)
    session.commit()
    flash(f"The books are closed through {period.end_date.isoformat()}. Each partner can now sign off "
          "its statement.", "success")
    return redirect(url_for("periods.index", alliance_id=alliance_id))


def _statement_or_404(membership: Membership, period_id: int, partner_id: int):
    session = get_session()
    period = period_in(session, membership.alliance, period_id)
    partner = row_in(session, Partner, membership.alliance, partner_id)
    if period is None or partner is None:
        abort(404)
    if not may_view_statement(membership, partner):
        abort(403)
    return period, partner


def _render_statement(membership: Membership, period_id: int, partner_id: int, form: SignOffForm | None = None,
                      status: int = 200):
    """The statement with the page of entries the ``before`` cursor asks for (a broken cursor: a 400 saying so)."""
    period, partner = _statement_or_404(membership, period_id, partner_id)
    may_sign = membership.role is MemberRole.PARTNER_MEMBER and membership.partner_id == partner.id
    errors: dict[str, str] = {}
    before = parse_cursor(request.args.get("before"), errors)
    st = statement(get_session(), membership.alliance, period, partner, before=before,
                   limit=int(current_app.config.get("PAGE_SIZE", 50)))
    here = {"alliance_id": membership.alliance_id, "period_id": period.id, "partner_id": partner.id}
    filtered = statement_filter(period, partner)
    return render_template(
        "alliance/statement.html", membership=membership, alliance=membership.alliance, section="periods",
        st=st, form=form or SignOffForm(formdata=None), may_sign=may_sign, cursor_error=errors.get("before"),
        show_comments=comment_reader(membership)(partner.id),
        newest_url=url_for("periods.show_statement", **here) if before or errors else None,
        older_url=(url_for("periods.show_statement", **here, before=format_cursor(st.entries.next_cursor))
                   if st.entries.next_cursor and not errors else None),
        ledger_url=url_for("ledger.index", alliance_id=membership.alliance_id, partner=partner.id,
                           **{"from": filtered.date_from.isoformat(), "to": filtered.date_to.isoformat()}),
    ), 400 if errors and status == 200 else status


@bp.route("/a/<id:alliance_id>/periods/<id:period_id>/statements/<id:partner_id>")
def show_statement(alliance_id: int, period_id: int, partner_id: int):
    return _render_statement(membership_or_404(alliance_id), period_id, partner_id)


@bp.route("/a/<id:alliance_id>/periods/<id:period_id>/statements/<id:partner_id>", methods=["POST"])
def answer(alliance_id: int, period_id: int, partner_id: int):
    membership = membership_or_404(alliance_id)
    period, partner = _statement_or_404(membership, period_id, partner_id)
    form = SignOffForm()
    session = get_session()
    try:
        row = sign_off(session, me(), membership, period,
                       {"partner_id": partner.id, "status": form.status.data, "comment": form.comment.data})
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        return _render_statement(membership, period_id, partner_id, form, 422)
    session.commit()
    flash(f"{partner.name}'s statement is {row.status.value}.", "success")
    return redirect(url_for("periods.show_statement", alliance_id=alliance_id, period_id=period_id,
                            partner_id=partner_id))
