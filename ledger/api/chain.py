"""The hash chain through /api/v1: the verdict and head the Verify page shows, for scripts that keep exports.

``GET .../chain`` answers with the one verdict every channel gives (``ledger.chain.report_of``): ``state``
("intact" only when the chain, the running totals and a ``head`` given all check out), the words
(``headline``, ``message``) and the findings with their codes and ids (``problems``, ``totals``, ``head_check``).

``GET .../chain`` checks the whole chain in one request: about 40 s at a million records. A script that
checks a long chain walks it as the Verify page does: ``GET .../chain/segment?from=1`` and on, following
``next_start``, then ``GET .../chain/unlinked``; together they find exactly what the whole check finds.
"""

from __future__ import annotations

from flask import jsonify, request

from ledger.api.auth import membership_or_404
from ledger.api.blueprint import bp
from ledger.api.errors import BadRequest
from ledger.chain import SEGMENT, head_of, report_of, unlinked_problems, verify_segment
from ledger.db import MAX_ID
from ledger.domain.chain import PROBLEMS_SHOWN, Problem, fingerprint
from ledger.domain.errors import FieldErrors, InvalidInput
from ledger.domain.text import parse_whole_number
from ledger.extensions import get_session


@bp.get("/alliances/<id:alliance_id>/chain")
def get_chain(alliance_id: int):
    """The verdict the Verify page and ``flask ledger verify`` give (``ledger.chain.report_of``), with its head."""
    alliance = membership_or_404(alliance_id).alliance
    session = get_session()
    try:
        found = report_of(session, alliance.id, (request.args.get("head") or "").strip() or None)
    except InvalidInput as exc:
        raise BadRequest("Some query parameters are not valid.", exc.errors) from None
    head = head_of(session, alliance.id)
    return jsonify({
        **found.as_dict(),
        "fingerprint": fingerprint(head),
        "head": None if head is None else {"position": head.position, "record_type": head.record_type,
                                           "record_id": head.record_id, "hash": head.hash},
    })


def _position(name: str, default: int, largest: int, errors: FieldErrors) -> int:
    raw = request.args.get(name) or ""
    if not raw.strip():
        return default
    return errors.check(name, parse_whole_number, raw, name, largest, f"A whole number from 1 to {largest}.") or default


def _problems(found: list[Problem]) -> dict:
    return {"problems": [p.as_dict() for p in found[:PROBLEMS_SHOWN]], "problem_count": len(found)}


@bp.get("/alliances/<id:alliance_id>/chain/segment")
def get_chain_segment(alliance_id: int):
    alliance = membership_or_404(alliance_id).alliance
    errors = FieldErrors()
    start = _position("from", 1, MAX_ID, errors)
    limit = _position("limit", SEGMENT, SEGMENT, errors)
    if errors:
        raise BadRequest("Some query parameters are not valid.", errors.errors)
    found = verify_segment(get_session(), alliance.id, start, limit)
    return jsonify({"start": found.start, "end": found.end, "last_position": found.last,
                    "next_start": found.next_start,
                    **_problems(found.problems)})


@bp.get("/alliances/<id:alliance_id>/chain/unlinked")
def get_chain_unlinked(alliance_id: int):
    alliance = membership_or_404(alliance_id).alliance
    return jsonify(_problems(unlinked_problems(get_session(), alliance.id)))
