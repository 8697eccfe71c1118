"""Partners and categories of an alliance: everyone sees them, the coordinator adds to them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from ledger.domain.errors import InvalidInput, NotAllowed
from ledger.domain.permissions import can_manage
from ledger.domain.vocabulary import PartnerRole, PartnerType
from ledger.extensions import get_session
from ledger.models import Membership
from ledger.queries import partners_of
from ledger.services.alliances import add_category, add_partner
from ledger.web.access import membership_or_404
from ledger.web.common import Choice, me, put_errors

bp = Blueprint("partners", __name__)


class PartnerForm(FlaskForm):
    action = HiddenField(default="partner")
    name = StringField("Name")
    role = Choice("Role in the alliance", choices=[(r.value, r.value) for r in PartnerRole])
    type = Choice("Type", choices=[(t.value, t.label) for t in PartnerType])


class CategoryForm(FlaskForm):
    action = HiddenField(default="category")
    name = StringField("Category name")


def _render(membership: Membership, partner_form: PartnerForm, category_form: CategoryForm, status: int = 200):
    alliance = membership.alliance
    return render_template("alliance/partners.html", membership=membership, alliance=alliance, section="partners",
                           partners=partners_of(get_session(), alliance), categories=alliance.categories,
                           partner_form=partner_form, category_form=category_form,
                           can_manage=can_manage(membership.role)), status


@bp.route("/a/<id:alliance_id>/partners", methods=["GET", "POST"])
def index(alliance_id: int):
    membership = membership_or_404(alliance_id)
    if request.method == "GET":
        return _render(membership, PartnerForm(formdata=None), CategoryForm(formdata=None))
    if not can_manage(membership.role):
        raise NotAllowed("Only the alliance's coordinator can add partners and categories.")
    action = request.form.get("action")
    session = get_session()
    if action == "partner":
        form, other = PartnerForm(), CategoryForm(formdata=None)
        use_case, fields = add_partner, ("name", "role", "type")
    elif action == "category":
        form, other = CategoryForm(), PartnerForm(formdata=None)
        use_case, fields = add_category, ("name",)
    else:
        abort(400)
    form.validate_on_submit()
    try:
        added = use_case(session, me(), membership, {f: form[f].data for f in fields})
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        forms = (form, other) if action == "partner" else (other, form)
        return _render(membership, *forms, status=422)
    session.commit()
    flash(f"Added the {action} {added.name}.", "success")
    return redirect(url_for("partners.index", alliance_id=alliance_id))
