"""Recording an entry, looking at one, and reversing it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.widgets import DateInput

from ledger.domain.errors import InvalidInput, NotAllowed
from ledger.domain.permissions import can_record, can_record_for
from ledger.domain.vocabulary import EntryKind, MemberRole
from ledger.extensions import get_session
from ledger.models import Entry, Membership
from ledger.queries import partners_of, reversals_of
from ledger.services.entries import record_entry, reversal_day, reverse_entry
from ledger.services.lookups import default_day
from ledger.services.periods import ensure_not_ended
from ledger.web.access import entry_or_404, membership_or_404
from ledger.web.common import Choice, me, put_errors, today, unprocessable

bp = Blueprint("entries", __name__)

ENTRY_FIELDS = ("date", "partner_id", "kind", "category_id", "amount", "description", "reference",
                "counterparty_id")
#: What "Save and add another" carries over to the fresh form.
KEPT = ("date", "partner_id", "kind")


class EntryForm(FlaskForm):
    date = StringField("Date", widget=DateInput())
    partner_id = Choice("Partner")
    kind = Choice("Kind")
    category_id = Choice("Category", description="Every kind but a settlement has one.")
    amount = StringField("Amount", description="For example 1234.56 or 1.234,56.")
    description = StringField("Description")
    reference = StringField("Reference", description="Optional: invoice number or link.")
    counterparty_id = Choice("Paid to (settlements only)",
                             description="Only for a settlement: the partner who received the payment.")
    save = SubmitField("Save")
    save_another = SubmitField("Save and add another")


class ReverseForm(FlaskForm):
    date = StringField("Date of the reversal", widget=DateInput(),
                       description="Leave empty for today (or the first open day, or the entry's own date if later).")
    reason = StringField("Reason", description="Optional; shown in the reversal's description.")


def _entry_form(membership: Membership, formdata=None, **defaults) -> EntryForm:
    """The form with choices from this alliance; a partner member only sees their own partner."""
    alliance = membership.alliance
    form = EntryForm(formdata=formdata, **defaults) if formdata is not None else EntryForm(**defaults)
    partners = partners_of(get_session(), alliance)
    if membership.role is MemberRole.PARTNER_MEMBER:
        own = [p for p in partners if p.id == membership.partner_id]
    else:
        own = partners
    form.partner_id.choices = ([] if len(own) == 1 else [("", "Choose a partner")]) + [
        (str(p.id), p.name) for p in own]
    form.kind.choices = [(k.value, k.label) for k in EntryKind]
    form.category_id.choices = [("", "(none)")] + [(str(c.id), c.name) for c in alliance.categories]
    form.counterparty_id.choices = [("", "(none)")] + [(str(p.id), p.name) for p in partners]
    return form


def _require_recorder(membership: Membership) -> None:
    if not can_record(membership.role):
        raise NotAllowed(f"As {membership.role.label} you can read the books but not record entries.")


def _closed_reason(membership: Membership) -> str | None:
    """Why no entry can be recorded at all (the alliance ended), in the words the service refuses with."""
    try:
        ensure_not_ended(membership.alliance, today(membership.alliance))
    except InvalidInput as exc:
        return next(iter(exc.errors.values()))
    return None


@bp.route("/a/<id:alliance_id>/entries/new", methods=["GET", "POST"])
def new(alliance_id: int):
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    context = {"membership": membership, "alliance": alliance, "section": "new_entry"}
    _require_recorder(membership)
    closed = _closed_reason(membership)
    if closed is not None:  # say so instead of a form that could only be refused
        return render_template("entries/new.html", form=None, closed=closed, **context), (
            200 if request.method == "GET" else 422)
    if request.method == "GET":
        defaults = {"date": default_day(alliance, today(alliance)).isoformat(), "kind": EntryKind.COST.value}
        if membership.partner_id:
            defaults["partner_id"] = str(membership.partner_id)
        defaults.update({k: request.args[k] for k in KEPT if request.args.get(k)})
        form = _entry_form(membership, **defaults)
        focus = "amount" if request.args.get("another") else "date"
        return render_template("entries/new.html", form=form, other_errors={}, focus=focus, **context)

    form = _entry_form(membership, request.form)
    form.validate_on_submit()
    raw = {name: form[name].data for name in ENTRY_FIELDS}
    try:
        entry = record_entry(get_session(), me(), membership, raw)
    except InvalidInput as exc:
        return unprocessable("entries/new.html", form, exc, focus=next(iter(exc.errors)), **context)
    get_session().commit()
    flash(f"Recorded entry #{entry.id}: {entry.kind.label}, {entry.description}.", "success")
    if form.save_another.data:
        kept = {k: raw[k] for k in KEPT if raw.get(k)}
        return redirect(url_for("entries.new", alliance_id=alliance_id, another=1, **kept))
    return redirect(url_for("ledger.index", alliance_id=alliance_id))


def _may_reverse(membership: Membership, entry: Entry, reversed_by: int | None) -> bool:
    return (can_record_for(membership.role, membership.partner_id, entry.partner_id)
            and entry.reverses_id is None and reversed_by is None)


def _render_detail(membership: Membership, entry: Entry, form: ReverseForm | None = None,
                   status: int = 200):
    reversed_by = reversals_of(get_session(), [entry.id]).get(entry.id)
    return render_template(
        "entries/detail.html", membership=membership, alliance=membership.alliance, section="ledger",
        entry=entry, reversed_by=reversed_by,
        form=form or ReverseForm(formdata=None, date=reversal_day(get_session(), membership.alliance, entry,
                                                                  today(membership.alliance)).isoformat()),
        may_reverse=_may_reverse(membership, entry, reversed_by)), status


@bp.route("/a/<id:alliance_id>/entries/<id:entry_id>")
def detail(alliance_id: int, entry_id: int):
    membership = membership_or_404(alliance_id)
    return _render_detail(membership, entry_or_404(membership, entry_id))


@bp.route("/a/<id:alliance_id>/entries/<id:entry_id>/reverse", methods=["POST"])
def reverse(alliance_id: int, entry_id: int):
    membership = membership_or_404(alliance_id)
    entry = entry_or_404(membership, entry_id)
    form = ReverseForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        reversal = reverse_entry(get_session(), me(), membership, entry,
                                 {"date": form.date.data, "reason": form.reason.data}, today=today(membership.alliance))
    except InvalidInput as exc:
        get_session().rollback()
        put_errors(form, exc.errors)
        return _render_detail(membership, entry, form, 422)
    get_session().commit()
    flash(f"Entry #{entry_id} is reversed by entry #{reversal.id}; both stay in the ledger.", "success")
    return redirect(url_for("entries.detail", alliance_id=alliance_id, entry_id=entry_id))
