"""The charter (value definition): the version in force, its history, one earlier version, and the edit form.

The edit form is one page prefilled with the newest version: the cause,
objective and term, each partner's expectations and commitments, the
existing targets (value editable, or removed) and a few empty rows for new
targets. The service numbers targets by their position in what it
receives, so its ``targets-N-...`` errors are mapped back to the form row
the person typed in.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, Form, HiddenField, StringField, TextAreaField
from wtforms.fields import FormField
from wtforms.widgets import DateInput

from ledger.charters import (
    changes_by_number,
    charter_data,
    newest_version,
    version_in_force,
    version_number,
    versions_of,
)
from ledger.domain.charter import changes
from ledger.domain.errors import InvalidInput, NotAllowed
from ledger.domain.permissions import can_manage
from ledger.domain.targets import plain
from ledger.domain.text import whole_number
from ledger.domain.vocabulary import TargetCombine, TargetDirection, TargetPeriod
from ledger.extensions import get_session
from ledger.models import Checkpoint, Membership, Partner
from ledger.queries import partners_of
from ledger.services.charter import save_charter
from ledger.services.lookups import default_day
from ledger.web.access import membership_or_404
from ledger.web.common import Choice, me, put_errors, today

bp = Blueprint("charter", __name__)

#: How an existing target's period and direction read on the form.
LABELS = {m.value: m.label for m in (*TargetPeriod, *TargetDirection)}
#: Empty rows offered for new targets under the existing ones.
NEW_TARGET_ROWS = 3


class TargetRow(Form):
    target_id = HiddenField()
    name = StringField("Name")
    unit = StringField("Unit", description="masks, EUR, EUR per mask ...")
    period = Choice("Period", choices=[(p.value, p.label) for p in TargetPeriod], default=TargetPeriod.MONTH.value)
    direction = Choice("Reached when the actual is", choices=[(d.value, d.label) for d in TargetDirection],
                       default=TargetDirection.AT_LEAST.value)
    combine = Choice("Partners' figures", choices=[(c.value, c.label) for c in TargetCombine],
                     default=TargetCombine.SUM.value)
    value = StringField("Target value", render_kw={"inputmode": "decimal"})
    remove = BooleanField("Remove this target")


class CommitmentRow(Form):
    expects = TextAreaField("Expects to get")
    brings = TextAreaField("Commits to bring", description="Resources, skills, capacity.")


class CharterFormBase(FlaskForm):
    effective_from = StringField("Effective from", widget=DateInput(),
                                 description="From this day on, the new version is the charter in force.")
    cause = TextAreaField("Cause")
    objective = TextAreaField("Shared objective")
    term_end = StringField("Term ends", widget=DateInput())
    change_note = TextAreaField("What changed and why", description="Optional: shown in the version history.")

    target_rows: int = 0
    partner_list: list[Partner] = []

    @property
    def targets(self) -> list[Form]:
        return [self[f"targets_{i}"].form for i in range(self.target_rows)]

    @property
    def commitments(self) -> list[tuple[Partner, Form]]:
        return [(p, self[f"commitments_{i}"].form) for i, p in enumerate(self.partner_list)]


def charter_form_class(partners: list[Partner], rows: int) -> type[CharterFormBase]:
    fields: dict = {f"targets_{i}": FormField(TargetRow, name=f"targets-{i}") for i in range(rows)}
    fields.update({f"commitments_{i}": FormField(CommitmentRow, name=f"commitments-{i}")
                   for i in range(len(partners))})
    fields.update(target_rows=rows, partner_list=partners)
    return type("CharterForm", (CharterFormBase,), fields)


def checkpoints_of(membership: Membership) -> list[Checkpoint]:
    return list(get_session().scalars(select(Checkpoint).where(Checkpoint.alliance_id == membership.alliance_id)
                                      .order_by(Checkpoint.due_date)))


@bp.route("/a/<id:alliance_id>/charter")
def index(alliance_id: int):
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    versions = versions_of(get_session(), alliance)
    day = default_day(alliance, today(alliance))
    current = version_in_force(versions, alliance, day)
    upcoming = [v for v in versions if v.effective_from > day and (current is None or v.number > current.number)]
    return render_template("alliance/charter.html", membership=membership, alliance=alliance, section="charter",
                           version=current, versions=versions, upcoming=upcoming, changes=changes_by_number(versions),
                           checkpoints=checkpoints_of(membership), can_manage=can_manage(membership.role),
                           today=today(alliance))


@bp.route("/a/<id:alliance_id>/charter/versions/<id:number>")
def version(alliance_id: int, number: int):
    membership = membership_or_404(alliance_id)
    session = get_session()
    alliance = membership.alliance
    shown = version_number(session, alliance, number)
    if shown is None:
        abort(404)
    previous = version_number(session, alliance, number - 1) if number > 1 else None
    what = changes(charter_data(previous) if previous else None, charter_data(shown))
    newest = newest_version(session, alliance)
    return render_template("alliance/charter_version.html", membership=membership, alliance=alliance,
                           section="charter", version=shown, previous=previous, what=what, newest=newest)


def _row_data(version) -> list[dict]:
    return [{"target_id": str(ct.target_id), "name": ct.target.name, "unit": ct.target.unit,
             "period": ct.target.period.value, "direction": ct.target.direction.value,
             "combine": ct.target.combine.value, "value": plain(ct.value)} for ct in version.targets]


def charter_payload(form: CharterFormBase) -> tuple[dict, list[int]]:
    """The raw dict the service expects, and for each target it receives the form row it came from."""
    targets, rows = [], []
    for index, row in enumerate(form.targets):
        target_id = (row["target_id"].data or "").strip()
        value = (row["value"].data or "").strip()
        if target_id:
            if row["remove"].data:
                continue
            targets.append({"target_id": target_id, "value": value})
        else:
            name = (row["name"].data or "").strip()
            if not name and not value and not (row["unit"].data or "").strip():
                continue
            targets.append({"name": name, "unit": row["unit"].data, "period": row["period"].data,
                            "direction": row["direction"].data, "combine": row["combine"].data, "value": value})
        rows.append(index)
    commitments = [{"partner_id": p.id, "expects": sub["expects"].data, "brings": sub["brings"].data}
                   for p, sub in form.commitments]
    raw = {"effective_from": form.effective_from.data, "cause": form.cause.data, "objective": form.objective.data,
           "term_end": form.term_end.data, "change_note": form.change_note.data,
           "commitments": commitments, "targets": targets}
    return raw, rows


def _row_key(key: str, rows: list[int]) -> str:
    """``targets-1-value`` from the service is the second *sent* target; name the form row it came from."""
    parts = key.split("-", 2)
    index = whole_number(parts[1], len(rows) - 1, smallest=0) if len(parts) >= 2 and parts[0] == "targets" else None
    if index is not None:
        return "-".join(["targets", str(rows[index]), *parts[2:]])
    return key


def _render_edit(membership: Membership, form: CharterFormBase, other_errors: dict, status: int = 200):
    return render_template("alliance/charter_edit.html", membership=membership, alliance=membership.alliance,
                           section="charter", form=form, other_errors=other_errors, labels=LABELS), status


@bp.route("/a/<id:alliance_id>/charter/edit", methods=["GET", "POST"])
def edit(alliance_id: int):
    membership = membership_or_404(alliance_id)
    if not can_manage(membership.role):
        raise NotAllowed("Only the alliance's coordinator can change the charter.")
    session = get_session()
    alliance = membership.alliance
    newest = newest_version(session, alliance)
    partners = partners_of(session, alliance)
    existing = _row_data(newest) if newest else []
    form_class = charter_form_class(partners, len(existing) + NEW_TARGET_ROWS)
    if request.method == "GET":
        by_partner = {c.partner_id: c for c in newest.commitments} if newest else {}
        data = {
            "effective_from": max(default_day(alliance, today(alliance)), newest.effective_from if newest else
                                  alliance.start_date).isoformat(),
            "cause": newest.cause if newest else alliance.cause, "objective": newest.objective if newest else "",
            "term_end": (newest.term_end if newest else alliance.term_end).isoformat(),
            **{f"targets_{i}": row for i, row in enumerate(existing)},
            **{f"commitments_{i}": {"expects": by_partner[p.id].expects, "brings": by_partner[p.id].brings}
               for i, p in enumerate(partners) if p.id in by_partner},
        }
        return _render_edit(membership, form_class(formdata=None, data=data), {})

    form = form_class()
    form.validate_on_submit()
    raw, rows = charter_payload(form)
    try:
        saved = save_charter(session, me(), membership, raw, today(alliance))
    except InvalidInput as exc:
        session.rollback()
        rest = put_errors(form, exc.errors, rename=lambda key: _row_key(key, rows))
        return _render_edit(membership, form, rest, 422)
    number, effective = saved.number, saved.effective_from
    session.commit()
    flash(f"Charter version {number} saved; it takes effect on {effective.isoformat()}.", "success")
    return redirect(url_for("charter.index", alliance_id=alliance_id))
