"""The ledger: every entry, newest first, filtered and paged by a keyset cursor."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.widgets import DateInput

from ledger.domain.vocabulary import EntryKind
from ledger.extensions import get_session
from ledger.queries import LedgerFilter, ledger_page, partners_of
from ledger.web.access import membership_or_404
from ledger.web.common import Choice
from ledger.web.filters import format_cursor, optional_date, optional_id, optional_kind, parse_cursor, period

bp = Blueprint("ledger", __name__)

FILTER_KEYS = ("partner", "kind", "category", "from", "to")


class LedgerFilterForm(FlaskForm):
    """A GET form: no CSRF (it changes nothing), values checked in :func:`index`."""

    class Meta:
        csrf = False

    partner = Choice("Partner")
    kind = Choice("Kind")
    category = Choice("Category")
    date_from = StringField("From", name="from", widget=DateInput())
    date_to = StringField("To", name="to", widget=DateInput())


@bp.route("/a/<id:alliance_id>/ledger")
def index(alliance_id: int):
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    session = get_session()
    partners = partners_of(session, alliance)
    categories = alliance.categories
    form = LedgerFilterForm(formdata=request.args)
    form.partner.choices = [("", "All partners")] + [(str(p.id), p.name) for p in partners]
    form.kind.choices = [("", "All kinds")] + [(k.value, k.label) for k in EntryKind]
    form.category.choices = [("", "All categories")] + [(str(c.id), c.name) for c in categories]

    args = request.args
    errors: dict[str, str] = {}
    filters = LedgerFilter(
        partner_id=optional_id(args.get("partner"), {p.id for p in partners}, "partner", "partner", errors),
        kind=optional_kind(args.get("kind"), errors),
        category_id=optional_id(args.get("category"), {c.id for c in categories}, "category", "category",
                                errors),
        date_from=optional_date(args.get("from"), "from", errors),
        date_to=optional_date(args.get("to"), "to", errors),
    )
    period(filters.date_from, filters.date_to, errors)
    before = parse_cursor(args.get("before"), errors)
    for key, message in errors.items():
        field = {"from": form.date_from, "to": form.date_to}.get(key) or getattr(form, key, None)
        if field is not None:
            field.errors = [*field.errors, message]
    if errors:
        # Show nothing rather than a silently wider list than the person asked for.
        return render_template("alliance/ledger.html", membership=membership, alliance=alliance,
                               section="ledger", form=form, page=None, errors=errors,
                               newest_url=None, older_url=None), 400

    page = ledger_page(session, alliance, filters, before=before,
                       limit=int(current_app.config.get("PAGE_SIZE", 50)))
    kept = {k: args[k] for k in FILTER_KEYS if args.get(k)}
    older_url = (url_for("ledger.index", alliance_id=alliance_id, **kept, before=format_cursor(page.next_cursor))
                 if page.next_cursor else None)
    newest_url = url_for("ledger.index", alliance_id=alliance_id, **kept) if before else None
    return render_template("alliance/ledger.html", membership=membership, alliance=alliance, section="ledger",
                           form=form, page=page, errors={}, older_url=older_url, newest_url=newest_url,
                           filtered=bool(kept))
