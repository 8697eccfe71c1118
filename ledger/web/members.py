"""Who belongs to an alliance and in which role; the coordinator adds, changes and removes members."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.widgets import EmailInput

from ledger.domain.errors import Conflict, InvalidInput, NotAllowed
from ledger.domain.permissions import can_manage
from ledger.domain.vocabulary import MemberRole
from ledger.extensions import get_session
from ledger.models import Membership
from ledger.queries import members_of, partners_of, row_in
from ledger.services.alliances import add_member, change_member, remove_member, role_text
from ledger.services.lookups import parse_id
from ledger.web.access import membership_or_404
from ledger.web.common import Choice, me, put_errors

bp = Blueprint("members", __name__)


class MemberForm(FlaskForm):
    action = HiddenField(default="add")
    email = StringField("Email", widget=EmailInput())
    role = Choice("Role")
    partner_id = Choice("Partner", description="Required for a partner member (the partner they act for); optional "
                        "for a steering member (the partner they sit for, whose vote they cast at checkpoints). "
                        "Leave it empty for an accountant or a coordinator.")
    name = StringField("Name", description="Only for someone without an account yet.")
    password = PasswordField("First password", description="Only for a new account; at least 10 characters, "
                             "not a common password, not their email address.")


class ChangeForm(FlaskForm):
    action = HiddenField(default="change")
    member_id = HiddenField()
    role = Choice("Role")
    partner_id = Choice("Partner")


def _choices(form, partners) -> None:
    form.role.choices = [(r.value, r.label) for r in MemberRole]
    form.partner_id.choices = [("", "(none)")] + [(str(p.id), p.name) for p in partners]


def _render(membership: Membership, add_form: MemberForm | None = None, failed: ChangeForm | None = None,
            status: int = 200, refusal: str | None = None):
    session = get_session()
    alliance = membership.alliance
    partners = partners_of(session, alliance)
    members = members_of(session, alliance)
    add_form = add_form or MemberForm(formdata=None)
    _choices(add_form, partners)
    change_forms = {}
    for m in members:
        if failed is not None and failed.member_id.data == str(m.id):
            change_forms[m.id] = failed
        else:
            change_forms[m.id] = ChangeForm(formdata=None, member_id=str(m.id), role=m.role.value,
                                            partner_id=str(m.partner_id or ""))
        _choices(change_forms[m.id], partners)
    return render_template("alliance/members.html", membership=membership, alliance=alliance, section="members",
                           members=members, add_form=add_form, change_forms=change_forms, refusal=refusal,
                           can_manage=can_manage(membership.role)), status


def _member_or_404(membership: Membership, member_id: str | None) -> Membership:
    try:
        member = row_in(get_session(), Membership, membership.alliance, parse_id(member_id, "member_id", "member"))
    except InvalidInput:
        member = None
    if member is None:
        abort(404)
    return member


def _refused(membership: Membership, exc: Conflict):
    """The members page again with why (e.g. the last coordinator cannot leave), not a page with no way on."""
    get_session().rollback()
    return _render(membership, status=409, refusal=str(exc))


@bp.route("/a/<id:alliance_id>/members", methods=["GET", "POST"])
def index(alliance_id: int):
    membership = membership_or_404(alliance_id)
    if request.method == "GET":
        return _render(membership)
    if not can_manage(membership.role):
        raise NotAllowed("Only the alliance's coordinator can manage members.")
    session = get_session()
    action = request.form.get("action")
    if action == "add":
        form = MemberForm()
        form.validate_on_submit()
        raw = {f: form[f].data for f in ("email", "role", "partner_id", "name", "password")}
        try:
            added = add_member(session, me(), membership, raw)
        except InvalidInput as exc:
            session.rollback()
            put_errors(form, exc.errors)
            return _render(membership, add_form=form, status=422)
        message = f"Added {added.user.name} as {role_text(added.role, added.partner)}."
    elif action == "change":
        form = ChangeForm()
        form.validate_on_submit()
        member = _member_or_404(membership, form.member_id.data)
        try:
            change_member(session, me(), membership, member,
                          {"role": form.role.data, "partner_id": form.partner_id.data})
        except InvalidInput as exc:
            session.rollback()
            put_errors(form, exc.errors)
            return _render(membership, failed=form, status=422)
        except Conflict as exc:
            return _refused(membership, exc)
        message = f"{member.user.name} is now {role_text(member.role, member.partner)}."
    elif action == "remove":
        member = _member_or_404(membership, request.form.get("member_id"))
        name = member.user.name
        leaving_self = member.id == membership.id
        try:
            remove_member(session, me(), membership, member)
        except Conflict as exc:
            return _refused(membership, exc)
        session.commit()
        flash(f"Removed {name} from the alliance.", "success")
        return redirect(url_for("home.index") if leaving_self else url_for("members.index", alliance_id=alliance_id))
    else:
        abort(400)
    session.commit()
    flash(message, "success")
    return redirect(url_for("members.index", alliance_id=alliance_id))
