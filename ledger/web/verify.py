"""The Verify page: any member checks the alliance's hash chain, and an earlier export's chain head against it.

Read-only and open to every member (accountants and partners are exactly who needs to check the books they
did not write). The whole chain is recomputed on each check: a verdict cached anywhere would be one more
thing that could be tampered with. The running totals that balances are read from are compared with the
entries too (``ledger.totals.mismatches``): an entry deleted behind the app's back leaves them behind. The
verdict is the one ``flask ledger verify`` and the API give (``ledger.chain.report_of``), never "intact"
while any check fails.

A chain of up to :data:`CHECKED_WITH_THE_PAGE` links is checked while the page is built. A longer one
would keep a request busy for about 40 s at a million records, so the page comes back at once and
``static/verify.js`` walks the chain a segment (``VERIFY_SEGMENT`` links, default ``ledger.chain.SEGMENT``)
a request (``/verify/segment``), then looks for records with no link, checks the totals and gets the
verdict (``/verify/rest``), showing how far it has got. The segments find exactly what one walk finds
(``ledger.chain.verify_segment``). Without JavaScript, a link asks for the whole check in one request.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from ledger.api.errors import error_response
from ledger.chain import SEGMENT, check_head, head_of, report_after_walk, report_of, verify_segment
from ledger.db import MAX_ID
from ledger.domain.chain import PROBLEMS_SHOWN, Problem, fingerprint
from ledger.domain.errors import FieldErrors, InvalidInput
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
    head_text = (request.args.get("head") or "").strip()
    errors: dict[str, str] = {}
    head_check = None
    if head_text:
        try:
            head_check = check_head(session, alliance.id, head_text, count)
        except InvalidInput as exc:
            errors.update(exc.errors)
    checked_head = head_text if head_check is not None else None
    report = report_of(session, alliance.id, checked_head) if at_once else None
    return render_template("alliance/verify.html", section="verify", membership=membership, alliance=alliance,
                           report=report, count=count, head=head, fingerprint=fingerprint(head),
                           head_text=head_text[:200], head_check=head_check, checked_head=checked_head,
                           filter_errors=errors, shown=PROBLEMS_SHOWN), 400 if errors else 200


def _problems(found: list[Problem], count: int | None = None) -> dict:
    return {"problems": [{**p.as_dict(), "record": p.record} for p in found[:PROBLEMS_SHOWN]],
            "problem_count": len(found) if count is None else count}


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


def _count(name: str, errors: FieldErrors) -> int:
    raw = (request.args.get(name) or "").strip()
    if raw in ("", "0"):
        return 0
    return errors.check(name, parse_whole_number, raw, name, MAX_ID, "A whole number from 0.") or 0


@bp.route("/a/<id:alliance_id>/verify/rest")
def rest(alliance_id: int):
    """The last step after the segments: records no link vouches for, then the verdict of the whole walk.

    The script passes what the segments found (``found`` problems, the first at position ``first``) and the
    earlier export's ``head`` if one was checked; the verdict is put together here, by the function that
    gives every other channel's (``ledger.chain.report_after_walk``), so the page says what they say.
    """
    alliance = membership_or_404(alliance_id).alliance
    errors = FieldErrors()
    found, first = _count("found", errors), _count("first", errors)
    if errors:
        return error_response(400, "Some query parameters are not valid.", errors.errors)
    session = get_session()
    try:
        report = report_after_walk(session, alliance.id, found, first or None,
                                   (request.args.get("head") or "").strip() or None)
    except InvalidInput as exc:
        return error_response(400, "Some query parameters are not valid.", exc.errors)
    unlinked = [p for p in report.problems if p.kind == "unlinked"]
    return jsonify({**_problems(unlinked, report.problem_count - found), "verdict": report.as_dict(),
                    "totals_off": [gap.message for gap in report.totals]})
