"""The ledger: listing entries with filters and a cursor, recording one, and reversing one."""

from __future__ import annotations

from collections.abc import Mapping

from flask import jsonify
from sqlalchemy import select

from ledger.api import idempotency, serializers
from ledger.api.alliances import created
from ledger.api.auth import current_user, membership_or_404
from ledger.api.blueprint import bp
from ledger.api.bodies import json_body
from ledger.api.inputs import encode_cursor, ledger_query
from ledger.clock import today
from ledger.domain.errors import NotFound
from ledger.extensions import get_session
from ledger.models import AgreementVersion, Alliance, Entry
from ledger.queries import entry_in, ledger_page, reversals_of
from ledger.services import entries


def entry_context(alliance: Alliance, reversed_by: Mapping[int, int] | None = None) -> serializers.EntryContext:
    numbers = dict(get_session().execute(select(AgreementVersion.id, AgreementVersion.number)
                                         .where(AgreementVersion.alliance_id == alliance.id)).all())
    return serializers.EntryContext(alliance.currency, numbers, reversed_by or {})


def one_entry(alliance: Alliance, row: Entry) -> dict:
    return serializers.entry(row, entry_context(alliance, reversals_of(get_session(), [row.id])))


def new_entry(alliance: Alliance, row: Entry) -> dict:
    """A just recorded entry's JSON from what recording it loaded: not reversed yet, its version at hand."""
    numbers = {row.version_id: row.version.number} if row.version is not None else {}
    return serializers.entry(row, serializers.EntryContext(alliance.currency, numbers, {}))


@bp.get("/alliances/<id:alliance_id>/entries")
def list_entries(alliance_id: int):
    session = get_session()
    alliance = membership_or_404(alliance_id).alliance
    query = ledger_query(session, alliance)
    page = ledger_page(session, alliance, query.filters, before=query.before, limit=query.limit)
    ctx = entry_context(alliance, page.reversed_by)
    return jsonify(serializers.entry_page(page, ctx, encode_cursor(page.next_cursor)))


@bp.post("/alliances/<id:alliance_id>/entries")
def create_entry(alliance_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)

    def record():
        row = entries.record_entry(session, current_user(), membership, json_body())
        return created(new_entry(membership.alliance, row), "api.get_entry", alliance_id=alliance_id,
                       entry_id=row.id)

    response = idempotency.once(session, current_user(), membership.alliance, record)
    session.commit()
    return response


def entry_or_404(alliance: Alliance, entry_id: int) -> Entry:
    row = entry_in(get_session(), alliance, entry_id)
    if row is None:
        raise NotFound("There is no entry with that id in this alliance.")
    return row


@bp.get("/alliances/<id:alliance_id>/entries/<id:entry_id>")
def get_entry(alliance_id: int, entry_id: int):
    alliance = membership_or_404(alliance_id).alliance
    row = entry_or_404(alliance, entry_id)
    return jsonify(one_entry(alliance, row))


@bp.post("/alliances/<id:alliance_id>/entries/<id:entry_id>/reversal")
def reverse_entry(alliance_id: int, entry_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    original = entry_or_404(membership.alliance, entry_id)

    def reverse():
        row = entries.reverse_entry(session, current_user(), membership, original, json_body(optional=True),
                                    today(membership.alliance))
        return created(new_entry(membership.alliance, row), "api.get_entry", alliance_id=alliance_id,
                       entry_id=row.id)

    response = idempotency.once(session, current_user(), membership.alliance, reverse)
    session.commit()
    return response
