"""The Verify page: any member checks the alliance's hash chain, and an earlier export's chain head against it.

Read-only and open to every member (accountants and partners are exactly who needs to check the books they
did not write). The whole chain is recomputed on each view: a verdict cached anywhere would be one more
thing that could be tampered with. The running totals that balances are read from are compared with the
entries too (``ledger.totals.mismatches``): an entry deleted behind the app's back leaves them behind.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ledger import totals
from ledger.chain import check_head, verify_alliance
from ledger.domain.errors import InvalidInput
from ledger.extensions import get_session
from ledger.web.access import membership_or_404

bp = Blueprint("verify", __name__)


@bp.route("/a/<id:alliance_id>/verify")
def index(alliance_id: int):
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    session = get_session()
    verdict = verify_alliance(session, alliance.id)
    totals_off = totals.mismatches(session, alliance.id)
    head_text = (request.args.get("head") or "").strip()
    errors: dict[str, str] = {}
    head_check = None
    if head_text:
        try:
            head_check = check_head(session, alliance.id, head_text, verdict)
        except InvalidInput as exc:
            errors.update(exc.errors)
    return render_template("alliance/verify.html", section="verify", membership=membership, alliance=alliance,
                           verdict=verdict, totals_off=totals_off, head_text=head_text[:200], head_check=head_check,
                           filter_errors=errors), 400 if errors else 200
