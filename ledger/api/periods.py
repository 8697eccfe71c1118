"""Closed periods, partners' statements and their sign-offs through /api/v1 (same services as the pages)."""

from __future__ import annotations

from flask import jsonify

from ledger.api import serializers
from ledger.api.alliances import created
from ledger.api.auth import current_user, membership_or_404
from ledger.api.blueprint import bp
from ledger.api.bodies import json_body
from ledger.api.entries import entry_context, today
from ledger.api.inputs import encode_cursor, page_position
from ledger.domain.errors import NotAllowed, NotFound
from ledger.domain.money import to_decimal_string
from ledger.extensions import get_session
from ledger.models import Alliance, Partner, Period, SignOff
from ledger.queries import row_in
from ledger.services.periods import close_period, closed_through, sign_off
from ledger.statements import (
    CommentRule,
    SignOffGrid,
    comment_reader,
    may_view_statement,
    period_in,
    signoff_grid,
    statement,
)


def _moment(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _signoff(row: SignOff, may_read_comments: CommentRule) -> dict:
    """A sign-off; its comment only for a reader the one rule allows (else null: there may be one, not shown)."""
    comment = row.comment if may_read_comments(row.partner_id) else None
    return {"id": row.id, "partner_id": row.partner_id, "status": row.status.value, "comment": comment,
            "signed_by": row.user.name, "created_at": _moment(row.created_at)}


def _period(row: Period, grid: SignOffGrid, may_read_comments: CommentRule) -> dict:
    partners = []
    for p in grid.partners:
        answer = grid.answer(row, p)
        partners.append({"partner_id": p.id, "partner": p.name, "status": grid.status(row, p),
                         "signoff": _signoff(answer, may_read_comments) if answer else None})
    return {"id": row.id, "start_date": row.start_date.isoformat(), "end_date": row.end_date.isoformat(),
            "closed_by": row.closed_by.name, "closed_at": _moment(row.closed_at), "partners": partners}


def _period_or_404(alliance: Alliance, period_id: int) -> Period:
    row = period_in(get_session(), alliance, period_id)
    if row is None:
        raise NotFound("There is no closed period with that id in this alliance.")
    return row


@bp.get("/alliances/<id:alliance_id>/periods")
def list_periods(alliance_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    grid = signoff_grid(session, alliance)
    closed = closed_through(session, alliance)
    readable = comment_reader(membership)
    return jsonify({"closed_through": closed.isoformat() if closed else None,
                    "periods": [_period(p, grid, readable) for p in grid.periods]})


@bp.get("/alliances/<id:alliance_id>/periods/<id:period_id>")
def get_period(alliance_id: int, period_id: int):
    membership = membership_or_404(alliance_id)
    row = _period_or_404(membership.alliance, period_id)
    return jsonify(_period(row, signoff_grid(get_session(), membership.alliance), comment_reader(membership)))


@bp.post("/alliances/<id:alliance_id>/periods")
def create_period(alliance_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    row = close_period(session, current_user(), membership, json_body(), today(membership.alliance))
    session.commit()
    body = _period(row, signoff_grid(session, membership.alliance), comment_reader(membership))
    return created(body, "api.get_period", alliance_id=alliance_id, period_id=row.id)


@bp.get("/alliances/<id:alliance_id>/periods/<id:period_id>/statements/<id:partner_id>")
def get_statement(alliance_id: int, period_id: int, partner_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    alliance = membership.alliance
    period = _period_or_404(alliance, period_id)
    partner = row_in(session, Partner, alliance, partner_id)
    if partner is None:
        raise NotFound("There is no partner with that id in this alliance.")
    if not may_view_statement(membership, partner):
        raise NotAllowed(f"Only {partner.name}'s members and the alliance's officers see its statement.")
    before, limit = page_position()
    st = statement(session, alliance, period, partner, before=before, limit=limit)
    ctx = entry_context(alliance, st.entries.reversed_by)
    figures = st.figures
    return jsonify({
        "period_id": period.id, "start_date": period.start_date.isoformat(), "end_date": period.end_date.isoformat(),
        "partner_id": partner.id, "partner": partner.name, "currency": alliance.currency,
        **{name: to_decimal_string(getattr(figures, name), alliance.currency) for name in serializers.FIGURES},
        "status": st.status,
        "entries": [serializers.entry(e, ctx) for e in st.entries.entries],
        "entry_count": st.entries.count,
        "next_cursor": encode_cursor(st.entries.next_cursor),
        "signoffs": [_signoff(s, comment_reader(membership)) for s in st.history],
    })


@bp.post("/alliances/<id:alliance_id>/periods/<id:period_id>/signoffs")
def create_signoff(alliance_id: int, period_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    period = _period_or_404(membership.alliance, period_id)
    row = sign_off(session, current_user(), membership, period, json_body())
    session.commit()
    return created(_signoff(row, comment_reader(membership)), "api.get_statement", alliance_id=alliance_id,
                   period_id=period_id, partner_id=row.partner_id)
