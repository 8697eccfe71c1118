"""Appending a record's link to its alliance's hash chain, in the transaction that writes the record.

Every service that writes a chained record (entries, reversals, settle-ups and imports through them,
agreement and charter versions, a checkpoint's schedule, opening, assessments, votes, decision and
removal) calls :func:`append_link` after flushing it. The link's position and previous hash are read
under the alliance row lock (:func:`ledger.services.periods.lock_alliance`, which those writes already
hold), so concurrent writers of one alliance take turns and the chain never forks; the unique
``(alliance_id, position)`` would refuse a fork anyway. A rolled-back write leaves no link.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ledger.chain import content_of, head_of
from ledger.domain.chain import make_link
from ledger.models import Alliance, ChainLink
from ledger.services.periods import lock_alliance


def append_link(session: Session, alliance: Alliance, record_type: str, record_id: int) -> ChainLink:
    """Chain the record as it is stored now (read back after a flush, exactly as the verifier will)."""
    session.flush()
    lock_alliance(session, alliance)
    link = make_link(alliance.id, head_of(session, alliance.id), record_type, record_id,
                     content_of(session, alliance.id, record_type, record_id))
    row = ChainLink(alliance_id=alliance.id, position=link.position, record_type=record_type, record_id=record_id,
                    hash=link.hash, previous_hash=link.previous_hash)
    session.add(row)
    session.flush()
    return row
