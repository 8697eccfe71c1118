"""Renewal checkpoints through /api/v1: the schedule, a checkpoint's review, assessments, votes, the decision.

Same services and read side as the pages (:mod:`ledger.services.checkpoints`,
:func:`ledger.reviews.review_of`). The frozen snapshot is sent as stored,
except that its money (integer cents in storage) leaves as decimal strings,
like every amount of the API.
"""

from __future__ import annotations

from flask import jsonify, send_file

from ledger.api.alliances import created
from ledger.api.auth import current_user, membership_or_404
from ledger.api.blueprint import bp
from ledger.api.bodies import json_body
from ledger.api.entries import today
from ledger.domain.errors import NotFound
from ledger.domain.money import to_decimal_string
from ledger.export.review_pack import review_pack_file
from ledger.extensions import get_session
from ledger.models import Alliance, Assessment, Checkpoint, Membership, Vote
from ledger.reviews import Review, challenges_of, checkpoint_in, checkpoint_state, review_of, schedule
from ledger.services import checkpoints as service
from ledger.services.audit import record_download
from ledger.snapshots import FIGURES


def _day(value) -> str | None:
    return value.isoformat() if value else None


def _moment(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def checkpoint_json(row: Checkpoint, today_: object) -> dict:
    state = checkpoint_state(row)
    return {
        "id": row.id, "label": row.label, "due_date": row.due_date.isoformat(), "state": state,
        "overdue": row.decision is None and row.due_date < today_,
        "opened_at": _moment(row.opened_at), "opened_by": row.opened_by.name if row.opened_by else None,
        "as_of": _day(row.as_of), "snapshot_sha256": row.snapshot_sha256,
        "decision": row.decision.value if row.decision else None, "decision_date": _day(row.decision_date),
        "rationale": row.rationale or "", "decided_by": row.decided_by.name if row.decided_by else None,
        "decided_at": _moment(row.decided_at),
    }


def snapshot_json(snapshot: dict) -> dict:
    """The stored snapshot with its cents as decimal strings (the API's money); everything else as stored."""
    currency = snapshot["alliance"]["currency"]
    balance = snapshot["balance"]

    def money(cents: int) -> str:
        return to_decimal_string(cents, currency)

    return {
        **snapshot,
        "balance": {
            "rows": [{**row, **{f: money(row[f]) for f in FIGURES}} for row in balance["rows"]],
            "totals": {f: money(balance["totals"][f]) for f in FIGURES},
            "entry_count": balance["entry_count"],
        },
        "settle_up": [{**t, "amount": money(t["amount"])} for t in snapshot["settle_up"]],
    }


def assessment_json(row: Assessment) -> dict:
    return {
        "id": row.id, "partner_id": row.partner_id, "partner": row.partner.name,
        "satisfaction": row.satisfaction, "fairness": row.fairness, "commitment": row.commitment,
        "trust": row.trust, "challenges": [c.value for c in challenges_of(row)], "comments": row.comments or "",
        "assessed_by": row.user.name, "created_at": _moment(row.created_at),
    }


def vote_json(row: Vote) -> dict:
    return {
        "id": row.id, "user_id": row.user_id, "voter": row.user.name, "partner_id": row.partner_id,
        "partner": row.partner.name if row.partner else None, "choice": row.choice.value, "reason": row.reason or "",
        "created_at": _moment(row.created_at),
    }


def review_json(alliance: Alliance, review: Review) -> dict:
    voted = {v.user_id for v in review.votes}
    return {
        "checkpoint": checkpoint_json(review.checkpoint, today(alliance)),
        "snapshot": snapshot_json(review.snapshot) if review.snapshot is not None else None,
        "snapshot_intact": review.snapshot_intact,
        "assessments": [assessment_json(a) for a in sorted(review.assessments.values(), key=lambda a: a.partner_id)],
        "assessment_history": [assessment_json(a) for a in review.assessment_history],
        "steering": [{"user_id": m.user_id, "name": m.user.name, "partner_id": m.partner_id,
                      "partner": m.partner.name if m.partner else None, "voted": m.user_id in voted}
                     for m in review.steering],
        "votes": [vote_json(v) for v in review.votes],
        "vote_history": [vote_json(v) for v in review.vote_history],
        "tally": {d.value: n for d, n in review.tally.items()},
        "leading": review.leading.value if review.leading else None,
        "quorum": {"rule": alliance.quorum.value, "met": review.quorum.met, "missing": list(review.quorum.missing),
                   "unrepresented": list(review.quorum.unrepresented)},
        "averages": dict(review.averages),
        "challenge_counts": {c.value: n for c, n in review.challenge_counts.items()},
    }


def settings_json(alliance: Alliance) -> dict:
    return {"quorum": alliance.quorum.value, "hhi_threshold": format(alliance.hhi_threshold, "f")}


def _open_due(membership: Membership) -> None:
    session = get_session()
    if service.open_due(session, membership.alliance, today(membership.alliance)):
        session.commit()


def _checkpoint_or_404(alliance: Alliance, checkpoint_id: int) -> Checkpoint:
    row = checkpoint_in(get_session(), alliance, checkpoint_id)
    if row is None:
        raise NotFound("There is no checkpoint with that id in this alliance.")
    return row


def _review(membership: Membership, checkpoint: Checkpoint) -> dict:
    return review_json(membership.alliance, review_of(get_session(), membership.alliance, checkpoint))


@bp.get("/alliances/<id:alliance_id>/checkpoints")
def list_checkpoints(alliance_id: int):
    membership = membership_or_404(alliance_id)
    _open_due(membership)
    alliance = membership.alliance
    day = today(alliance)
    return jsonify({**settings_json(alliance),
                    "checkpoints": [checkpoint_json(r.checkpoint, day) for r in schedule(get_session(), alliance,
                                                                                         day)]})


@bp.post("/alliances/<id:alliance_id>/checkpoints")
def create_checkpoint(alliance_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    row = service.schedule_checkpoint(session, current_user(), membership, json_body(), today(membership.alliance))
    session.commit()
    return created(checkpoint_json(row, today(membership.alliance)), "api.get_checkpoint", alliance_id=alliance_id,
                   checkpoint_id=row.id)


@bp.get("/alliances/<id:alliance_id>/checkpoints/<id:checkpoint_id>")
def get_checkpoint(alliance_id: int, checkpoint_id: int):
    membership = membership_or_404(alliance_id)
    _open_due(membership)
    return jsonify(_review(membership, _checkpoint_or_404(membership.alliance, checkpoint_id)))


@bp.post("/alliances/<id:alliance_id>/checkpoints/<id:checkpoint_id>/open")
def open_checkpoint(alliance_id: int, checkpoint_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    checkpoint = _checkpoint_or_404(membership.alliance, checkpoint_id)
    json_body(optional=True)
    service.open_checkpoint(session, current_user(), membership, checkpoint, today(membership.alliance))
    session.commit()
    return jsonify(_review(membership, checkpoint))


@bp.post("/alliances/<id:alliance_id>/checkpoints/<id:checkpoint_id>/assessments")
def create_assessment(alliance_id: int, checkpoint_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    checkpoint = _checkpoint_or_404(membership.alliance, checkpoint_id)
    row = service.assess(session, current_user(), membership, checkpoint, json_body())
    session.commit()
    return created(assessment_json(row), "api.get_checkpoint", alliance_id=alliance_id, checkpoint_id=checkpoint_id)


@bp.post("/alliances/<id:alliance_id>/checkpoints/<id:checkpoint_id>/votes")
def create_vote(alliance_id: int, checkpoint_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    checkpoint = _checkpoint_or_404(membership.alliance, checkpoint_id)
    row = service.vote(session, current_user(), membership, checkpoint, json_body())
    session.commit()
    return created(vote_json(row), "api.get_checkpoint", alliance_id=alliance_id, checkpoint_id=checkpoint_id)


@bp.post("/alliances/<id:alliance_id>/checkpoints/<id:checkpoint_id>/decision")
def decide_checkpoint(alliance_id: int, checkpoint_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    checkpoint = _checkpoint_or_404(membership.alliance, checkpoint_id)
    service.decide(session, current_user(), membership, checkpoint, json_body(), today(membership.alliance))
    session.commit()
    return jsonify(_review(membership, checkpoint))


@bp.get("/alliances/<id:alliance_id>/checkpoints/<id:checkpoint_id>/review-pack")
def get_review_pack(alliance_id: int, checkpoint_id: int):
    membership = membership_or_404(alliance_id)
    _open_due(membership)
    checkpoint = _checkpoint_or_404(membership.alliance, checkpoint_id)
    session = get_session()
    export = review_pack_file(session, membership.alliance, checkpoint)
    response = send_file(export.content, mimetype=export.mimetype, as_attachment=True, download_name=export.name,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    record_download(session, membership.alliance, current_user(),
                    f"the review pack of \u201c{checkpoint.label}\u201d", "API")
    session.commit()
    return response


@bp.get("/alliances/<id:alliance_id>/review-settings")
def get_review_settings(alliance_id: int):
    return jsonify(settings_json(membership_or_404(alliance_id).alliance))


@bp.post("/alliances/<id:alliance_id>/review-settings")
def update_review_settings(alliance_id: int):
    """Change the quorum and/or the dependency threshold; a field left out keeps its value."""
    session = get_session()
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    body = json_body()
    raw = {"quorum": body.get("quorum", alliance.quorum.value),
           "hhi_threshold": body.get("hhi_threshold", format(alliance.hhi_threshold, "f"))}
    service.update_settings(session, current_user(), membership, raw)
    session.commit()
    return jsonify(settings_json(alliance))
