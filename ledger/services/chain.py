"""Appending a record's link to its alliance's hash chain, in the transaction that writes the record.

Every service that writes a chained record (entries, reversals, settle-ups, agreement and charter
versions, a checkpoint's schedule, opening, assessments, votes, decision and removal) calls
:func:`append_link` after flushing it; a spreadsheet import chains its entries with one
:func:`append_links`. The link's position and previous hash are read
under the alliance row lock (:func:`ledger.services.periods.lock_alliance`, which those writes already
hold), so concurrent writers of one alliance take turns and the chain never forks; the unique
``(alliance_id, position)`` would refuse a fork anyway. A rolled-back write leaves no link.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ledger.chain import content_of, contents_of, head_of
from ledger.db import utcnow
from ledger.domain.chain import Head, Link, make_link
from ledger.models import Alliance, ChainLink
from ledger.services.periods import lock_alliance

#: Links per INSERT call of :func:`append_links`.
LINKS_CHUNK = 10_000


_INSERT = insert(ChainLink.__table__)
#: ``append_link``'s ``head`` when the caller has not read the end of the chain: it is read there.
UNREAD = object()


def append_link(session: Session, alliance: Alliance, record_type: str, record_id: int,
                content: Mapping[str, object] | None = None, head: Head | object | None = UNREAD) -> Link:
    """Chain the record as it is stored now (read back after a flush, exactly as the verifier will).

    The hottest write, an entry, passes both ``content`` (what it inserted is exactly what the verifier
    will read, ``ledger.chain.entry_fields``) and ``head`` (read under the lock by its own INSERT; None:
    the chain is empty): two queries fewer under the lock.
    """
    session.flush()
    lock_alliance(session, alliance)
    if content is None:
        content = content_of(session, alliance.id, record_type, record_id)
    previous = head_of(session, alliance.id) if head is UNREAD else head
    link = make_link(alliance.id, previous, record_type, record_id, content)
    # A plain INSERT (no unit-of-work bookkeeping for a row nothing reads back in this transaction).
    session.connection().execute(_INSERT, {
        "alliance_id": alliance.id, "position": link.position, "record_type": record_type, "record_id": record_id,
        "hash": link.hash, "previous_hash": link.previous_hash, "created_at": utcnow()})
    return link


def append_links(session: Session, alliance: Alliance, record_type: str, record_ids: list[int]) -> list[Link]:
    """Chain many records of one type, in the order given: what :func:`append_link` per record would append.

    For bulk writes (a spreadsheet import of 100,000 entries): the contents are read back in a few queries
    (``ledger.chain.contents_of``, byte-identical to ``content_of``), the links computed in Python one after
    the other, and inserted with executemany, all under the alliance row lock.
    """
    if not record_ids:
        return []
    session.flush()
    lock_alliance(session, alliance)
    contents = contents_of(session, alliance.id, record_type, record_ids)
    previous = head_of(session, alliance.id)
    links: list[Link] = []
    for record_id in record_ids:
        previous = make_link(alliance.id, previous, record_type, record_id, contents[record_id])
        links.append(previous)
    now = utcnow()
    rows = [{"alliance_id": alliance.id, "position": link.position, "record_type": record_type,
             "record_id": link.record_id, "hash": link.hash, "previous_hash": link.previous_hash, "created_at": now}
            for link in links]
    connection = session.connection()
    for start in range(0, len(rows), LINKS_CHUNK):
        connection.execute(_INSERT, rows[start:start + LINKS_CHUNK])
    return links
