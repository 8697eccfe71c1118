"""Announcing committed events: in this process at once, in other processes through PostgreSQL.

On PostgreSQL the announcement is a ``NOTIFY`` that a trigger on ``activity``
sends inside the writing transaction (migration 0008): PostgreSQL delivers it
only when that transaction commits and drops it when it rolls back, so nothing
is ever announced that did not happen. In this process, an ``after_commit``
hook wakes the local streams straight away (on SQLite, the only engine with
one process, that is all).
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from ledger.live.broker import Broker

#: The PostgreSQL channel every process listens on; the payload is "alliance_id:seq" (see migration 0008).
CHANNEL = "ledger_events"
_PENDING = "ledger.pending_events"


def announce(session: Session, alliance_id: int, seq: int) -> None:
    """Wake this process's streams when (and only if) the session's transaction commits.

    Other processes hear of it from the database: the activity row's trigger sends the NOTIFY.
    """
    session.info.setdefault(_PENDING, []).append((alliance_id, seq))


def install(factory: sessionmaker[Session], broker: Broker) -> None:
    """Wake this process's streams after every commit that recorded events; forget them on rollback."""

    @event.listens_for(factory, "after_commit")
    def _published(session: Session) -> None:
        for alliance_id, seq in session.info.pop(_PENDING, ()):
            broker.publish(alliance_id, seq)

    @event.listens_for(factory, "after_rollback")
    def _discarded(session: Session) -> None:
        session.info.pop(_PENDING, None)
