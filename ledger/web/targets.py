"""Value creation: every target's actual against its target over time, and recording measurements.

The progress section renders :func:`ledger.progress.targets_progress` through
``alliance/_targets_progress.html``, the same partial a checkpoint's frozen
snapshot renders, so the live page and the snapshot never disagree on how a
figure is shown.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import StringField, TextAreaField

from ledger.charters import version_on
from ledger.domain.errors import InvalidInput
from ledger.domain.permissions import can_record
from ledger.domain.targets import grouped, period_label
from ledger.domain.vocabulary import MemberRole
from ledger.extensions import get_session
from ledger.models import Measurement, Membership, Target
from ledger.progress import targets_progress
from ledger.queries import partners_of, row_in
from ledger.services.lookups import default_day
from ledger.services.measurements import record_measurement
from ledger.web.access import membership_or_404
from ledger.web.common import Choice, me, put_errors, today

bp = Blueprint("targets", __name__)

RECENT = 20


@bp.app_template_filter("quantity")
def quantity(value: Decimal | str | None) -> str:
    """2000000 -> "2,000,000" for tables; empty for no figure."""
    return grouped(value)


@bp.app_template_filter("period_of")
def period_of(measurement: Measurement) -> str:
    return period_label(measurement.period_start, measurement.target.period)


class MeasurementForm(FlaskForm):
    target_id = Choice("Target")
    partner_id = Choice("For partner")
    period = StringField("Period", description="A month as YYYY-MM, or any day of the period as YYYY-MM-DD.")
    value = StringField("Figure", render_kw={"inputmode": "decimal"}, description="e.g. 1,200,000")
    note = TextAreaField("Note", description="Optional: where the figure comes from.")


def _form(membership: Membership, data: dict | None = None) -> MeasurementForm:
    session = get_session()
    alliance = membership.alliance
    version = version_on(session, alliance, default_day(alliance, today(alliance)))
    targets = [ct.target for ct in version.targets] if version else []
    form = MeasurementForm(formdata=None, data=data) if data is not None else MeasurementForm()
    form.target_id.choices = [(str(t.id), f"{t.name} ({t.unit}, {t.period.label})") for t in targets]
    if membership.role is MemberRole.COORDINATOR:
        form.partner_id.choices = [(str(p.id), p.name) for p in partners_of(session, alliance)]
    else:
        form.partner_id.choices = [(str(membership.partner_id), membership.partner.name)] if membership.partner else []
    return form


def _recent(membership: Membership, target: Target | None = None, limit: int | None = RECENT) -> list[Measurement]:
    stmt = (select(Measurement).where(Measurement.alliance_id == membership.alliance_id)
            .options(selectinload(Measurement.target), selectinload(Measurement.partner),
                     selectinload(Measurement.recorded_by))
            .order_by(Measurement.id.desc()))
    if target is not None:
        stmt = stmt.where(Measurement.target_id == target.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(get_session().scalars(stmt))


def _render_index(membership: Membership, form: MeasurementForm | None = None, status: int = 200):
    alliance = membership.alliance
    may_record = can_record(membership.role) and not _read_only(membership)
    if form is None and may_record:
        day = default_day(alliance, today(alliance))
        form = _form(membership, {"period": f"{day.year:04d}-{day.month:02d}",
                                  "partner_id": str(membership.partner_id or "")})
    return render_template("alliance/targets.html", membership=membership, alliance=alliance, section="targets",
                           progress=targets_progress(get_session(), alliance, today(alliance)), form=form,
                           may_record=may_record, recent=_recent(membership)), status


def _read_only(membership: Membership) -> bool:
    ended = membership.alliance.ended_on
    return ended is not None and today(membership.alliance) > ended


@bp.route("/a/<id:alliance_id>/targets")
def index(alliance_id: int):
    return _render_index(membership_or_404(alliance_id))


@bp.route("/a/<id:alliance_id>/targets/measurements", methods=["POST"])
def record(alliance_id: int):
    membership = membership_or_404(alliance_id)
    form = _form(membership)
    form.validate_on_submit()
    session = get_session()
    raw = {"target_id": form.target_id.data, "partner_id": form.partner_id.data, "period": form.period.data,
           "value": form.value.data, "note": form.note.data}
    try:
        row = record_measurement(session, me(), membership, raw, today(membership.alliance))
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        return _render_index(membership, form, 422)
    text = (f"Recorded {grouped(row.value)} {row.target.unit} for {row.target.name}, "
            f"{period_label(row.period_start, row.target.period)} ({row.partner.name}).")
    session.commit()
    flash(text, "success")
    return redirect(url_for("targets.index", alliance_id=alliance_id))


@bp.route("/a/<id:alliance_id>/targets/<id:target_id>")
def show(alliance_id: int, target_id: int):
    membership = membership_or_404(alliance_id)
    session = get_session()
    target = row_in(session, Target, membership.alliance, target_id)
    if target is None:
        abort(404)
    history = _recent(membership, target, limit=None)
    newest: set[int] = set()
    seen: set[tuple[date, int]] = set()
    for m in history:  # newest first: the first of each (period, partner) counts, the rest are superseded
        if (m.period_start, m.partner_id) not in seen:
            seen.add((m.period_start, m.partner_id))
            newest.add(m.id)
    progress = [p for p in targets_progress(session, membership.alliance, today(membership.alliance))
                if p["target_id"] == target.id]
    return render_template("alliance/target.html", membership=membership, alliance=membership.alliance,
                           section="targets", target=target, history=history, counting=newest, progress=progress)
