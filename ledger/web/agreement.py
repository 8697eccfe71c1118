"""The split agreement: every version with its pools, and a form for the coordinator to add a version.

The form has a fixed number of pool slots, prefilled from the version in
force; empty slots are skipped. The service numbers pools by their position
in what it receives, so its ``pools-N-...`` errors are mapped back to the
slot the person typed them in.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import Form, StringField, TextAreaField
from wtforms.fields import FormField
from wtforms.widgets import DateInput

from ledger.domain.agreements import share_percent, weight_text
from ledger.domain.errors import InvalidInput, NotAllowed
from ledger.domain.permissions import can_manage
from ledger.domain.text import whole_number
from ledger.domain.vocabulary import EntryKind, PoolSide
from ledger.extensions import get_session
from ledger.models import AgreementVersion, Category, Membership, Partner, Pool
from ledger.queries import partners_of
from ledger.services.agreements import create_version, current_version, versions_of
from ledger.services.lookups import default_day
from ledger.web.access import membership_or_404
from ledger.web.common import Choice, MultiCheckbox, Radio, me, put_errors, today

bp = Blueprint("agreement", __name__)

SLOTS = 4
POOL_KINDS = [k for k in EntryKind if k is not EntryKind.SETTLEMENT]


class AgreementFormBase(FlaskForm):
    effective_from = StringField("Effective from", widget=DateInput(),
                                 description="Entries from this date on are split under the new version.")
    note = TextAreaField("Note", description="Why the agreement changes, e.g. the review that decided it.")

    @property
    def pools(self) -> list[Form]:
        """The pool slots in order (fixed fields, not a FieldList, so a slot's number never shifts)."""
        return [self[f"pools_{i}"].form for i in range(SLOTS)]


def agreement_form_class(partners: list[Partner], categories: list[Category]) -> type[AgreementFormBase]:
    """The form for this alliance: one weight input per partner, named by the partner's id."""
    slot_fields = {
        "name": StringField("Pool name"),
        "side": Choice("Side", choices=[(s.value, s.value) for s in PoolSide]),
        "kinds": MultiCheckbox("Kinds", choices=[(k.value, k.label) for k in POOL_KINDS]),
        "scope": Radio("Categories", choices=[("all", "All categories"), ("some", "Only these:")],
                       default="all"),
        "categories": MultiCheckbox("Chosen categories", choices=[(str(c.id), c.name) for c in categories]),
    }
    for partner in partners:
        slot_fields[f"weight_{partner.id}"] = StringField(partner.name, render_kw={"inputmode": "decimal"})
    slot_form = type("PoolSlotForm", (Form,), slot_fields)
    return type("AgreementForm", (AgreementFormBase,), {
        f"pools_{i}": FormField(slot_form, name=f"pools-{i}") for i in range(SLOTS)})


def _slot_data(pool: Pool) -> dict:
    data = {"name": pool.name, "side": pool.side.value, "kinds": [k.kind.value for k in pool.kinds],
            "scope": "all" if pool.all_categories else "some",
            "categories": [str(c.category_id) for c in pool.categories]}
    data.update({f"weight_{s.partner_id}": weight_text(s.weight) for s in pool.shares})
    return data


def pools_payload(form: AgreementFormBase, partners: list[Partner]) -> tuple[list[dict], list[int]]:
    """The raw pools the service expects, and for each the form slot it came from (empty slots skipped)."""
    pools, slots = [], []
    for index, slot in enumerate(form.pools):
        shares = [{"partner_id": p.id, "weight": (slot[f"weight_{p.id}"].data or "").strip()}
                  for p in partners if (slot[f"weight_{p.id}"].data or "").strip()]
        name = (slot["name"].data or "").strip()
        if not name and not shares:
            continue
        pools.append({
            "name": name, "side": slot["side"].data, "kinds": list(slot["kinds"].data or []),
            "categories": "all" if slot["scope"].data != "some" else list(slot["categories"].data or []),
            "shares": shares,
        })
        slots.append(index)
    return pools, slots


def _weights_percent(pool: Pool) -> list[tuple[str, str, str]]:
    """Each partner's name, weight and share of the pool in percent, as the page shows them."""
    weights = [s.weight for s in pool.shares]
    return [(s.partner.name, weight_text(s.weight), share_percent(s.weight, weights)) for s in pool.shares]


@bp.route("/a/<id:alliance_id>/agreement")
def index(alliance_id: int):
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    versions = versions_of(get_session(), alliance)
    current = current_version(versions, today(alliance))
    return render_template("alliance/agreement.html", membership=membership, alliance=alliance,
                           section="agreement", versions=versions, current=current,
                           shares=_weights_percent, can_manage=can_manage(membership.role))


def _render_new(membership: Membership, form, partners, other_errors: dict, status: int = 200):
    return render_template("alliance/agreement_new.html", membership=membership, alliance=membership.alliance,
                           section="agreement", form=form, partners=partners, other_errors=other_errors,
                           kinds=POOL_KINDS), status


@bp.route("/a/<id:alliance_id>/agreement/new", methods=["GET", "POST"])
def new(alliance_id: int):
    membership = membership_or_404(alliance_id)
    if not can_manage(membership.role):
        raise NotAllowed("Only the alliance's coordinator can change the split agreement.")
    session = get_session()
    alliance = membership.alliance
    partners = partners_of(session, alliance)
    form_class = agreement_form_class(partners, alliance.categories)
    if request.method == "GET":
        current: AgreementVersion | None = current_version(versions_of(session, alliance), today(alliance))
        slots = [_slot_data(p) for p in current.pools] if current else []
        slots += [{"side": PoolSide.COSTS.value, "scope": "all"}] * (SLOTS - len(slots))
        form = form_class(formdata=None, data={
            # After a "renegotiate" decision the new version starts on the day the steering group chose.
            "effective_from": (alliance.renegotiate_from or default_day(alliance, today(alliance))).isoformat(),
            **{f"pools_{i}": slot for i, slot in enumerate(slots[:SLOTS])}})
        return _render_new(membership, form, partners, {})

    form = form_class()
    form.validate_on_submit()
    pools, slots = pools_payload(form, partners)
    raw = {"effective_from": form.effective_from.data, "note": form.note.data, "pools": pools}
    try:
        version = create_version(session, me(), membership, raw)
    except InvalidInput as exc:
        session.rollback()
        rest = put_errors(form, exc.errors, rename=lambda key: _slot_key(key, slots))
        return _render_new(membership, form, partners, rest, 422)
    session.commit()
    flash(f"Agreement version {version.number} takes effect on {version.effective_from.isoformat()}.", "success")
    return redirect(url_for("agreement.index", alliance_id=alliance_id))


def _slot_key(key: str, slots: list[int]) -> str:
    """``pools-1-kinds`` from the service is the second *filled* slot; name the form slot it came from."""
    parts = key.split("-", 2)
    index = whole_number(parts[1], len(slots) - 1, smallest=0) if len(parts) == 3 and parts[0] == "pools" else None
    if index is not None:
        rest = "weights" if parts[2] == "shares" else parts[2]
        return f"pools-{slots[index]}-{rest}"
    return key
