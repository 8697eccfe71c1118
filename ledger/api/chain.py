"""The hash chain through /api/v1: the verdict and head the Verify page shows, for scripts that keep exports."""

from __future__ import annotations

from flask import jsonify, request

from ledger.api.auth import membership_or_404
from ledger.api.blueprint import bp
from ledger.api.errors import BadRequest
from ledger.chain import check_head, verify_alliance
from ledger.domain.errors import InvalidInput
from ledger.extensions import get_session


@bp.get("/alliances/<id:alliance_id>/chain")
def get_chain(alliance_id: int):
    alliance = membership_or_404(alliance_id).alliance
    session = get_session()
    verdict = verify_alliance(session, alliance.id)
    head_check = None
    raw = (request.args.get("head") or "").strip()
    if raw:
        try:
            found = check_head(session, alliance.id, raw, verdict)
        except InvalidInput as exc:
            raise BadRequest("Some query parameters are not valid.", exc.errors) from None
        head_check = {"fingerprint": found.fingerprint, "found": found.found, "position": found.position,
                      "added_since": found.added_since}
    head = verdict.head
    return jsonify({
        "intact": verdict.intact,
        "count": verdict.count,
        "fingerprint": verdict.fingerprint,
        "head": None if head is None else {"position": head.position, "record_type": head.record_type,
                                           "record_id": head.record_id, "hash": head.hash},
        "problems": [{"kind": p.kind, "record_type": p.record_type, "record_id": p.record_id,
                      "position": p.position, "message": p.message} for p in verdict.shown_problems()],
        "problem_count": len(verdict.problems),
        "head_check": head_check,
    })
