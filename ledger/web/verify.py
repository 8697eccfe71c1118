"""The Verify page: any member checks the alliance's hash chain, and an earlier export's chain head against it.

Read-only and open to every member (accountants and partners are exactly who needs to check the books they
did not write). The whole chain is recomputed on each check: a verdict cached anywhere would be one more
thing that could be tampered with. The running totals that balances are read from are compared with the
entries too (``ledger.totals.mismatches``): an entry deleted behind the app's back leaves them behind.

A chain of up to :data:`CHECKED_WITH_THE_PAGE` links is checked while the page is built. A longer one
would keep a request busy for about 40 s at a million records, so the page comes back at once and
``static/verify.js`` walks the chain a segment (``VERIFY_SEGMENT`` links, default ``ledger.chain.SEGMENT``)
a request (``/verify/segment``), then looks for records with no link and checks the totals
(``/verify/rest``), showing how far it has got. The segments find exactly what one walk finds
(``ledger.chain.verify_segment``). Without JavaScript, a link asks for the whole check in one request.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from ledger import totals
from ledger.api.errors import error_response
from ledger.chain import SEGMENT, check_head, head_of, unlinked_problems, verify_alliance, verify_segment
from ledger.db import MAX_ID
from ledger.domain.chain import PROBLEMS_SHOWN, Problem, fingerprint
from ledger.domain.errors import InvalidInput
from ledger.domain.text import parse_whole_number
from ledger.extensions import get_session
from ledger.web.access import membership_or_404

bp = Blueprint("verify", __name__)

#: Links checked in the request that builds the page (about 0.1 s); a longer chain is walked by the page.
CHECKED_WITH_THE_PAGE = 2_000


def segment_size() -> int:
    return int(current_app.config.get("VERIFY_SEGMENT", SEGMENT))


@bp.route("/a/<id:alliance_id>/verify")
def index(alliance_id: int):
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    session = get_session()
    head = head_of(session, alliance.id)
    count = head.position if head else 0  # the chain's length, if it is intact
    at_once = count <= min(CHECKED_WITH_THE_PAGE, segment_size()) or request.args.get("all") == "1"
    verdict = verify_alliance(session, alliance.id) if at_once else None
    totals_off = totals.mismatches(session, alliance.id) if at_once else None
    head_text = (request.args.get("head") or "").strip()
    errors: dict[str, str] = {}
    head_check = None
    if head_text:
        try:
            head_check = check_head(session, alliance.id, head_text, count)
        except InvalidInput as exc:
            errors.update(exc.errors)
    return render_template("alliance/verify.html", section="verify", membership=membership, alliance=alliance,
                           verdict=verdict, count=count, head=head, fingerprint=fingerprint(head),
                           totals_off=totals_off, head_text=head_text[:200], head_check=head_check,
                           filter_errors=errors, shown=PROBLEMS_SHOWN), 400 if errors else 200


def _problems(found: list[Problem]) -> dict:
    return {"problems": [{**p.as_dict(), "record": p.record} for p in found[:PROBLEMS_SHOWN]],
            "problem_count": len(found)}


@bp.route("/a/<id:alliance_id>/verify/segment")
def segment(alliance_id: int):
    """One segment of the chain, from the ``from`` position: what it found, and where the next one starts."""
    alliance = membership_or_404(alliance_id).alliance
    try:
        start = parse_whole_number(request.args.get("from") or "1", "from", MAX_ID,
                                   "A chain position: a whole number from 1.")
    except InvalidInput as exc:
        return error_response(400, "Some query parameters are not valid.", exc.errors)
    found = verify_segment(get_session(), alliance.id, start, segment_size())
    return jsonify({"start": found.start, "end": found.end, "last": found.last, "next": found.next_start,
                    **_problems(found.problems)})


@bp.route("/a/<id:alliance_id>/verify/rest")
def rest(alliance_id: int):
    """The last step after the segments: records no link vouches for, and the running totals."""
    alliance = membership_or_404(alliance_id).alliance
    session = get_session()
    return jsonify({**_problems(unlinked_problems(session, alliance.id)),
                    "totals_off": totals.mismatches(session, alliance.id)})
