"""Announcing committed events: in this process at once, in other processes through PostgreSQL.

On PostgreSQL the announcement is a ``NOTIFY`` that a trigger on ``activity``
sends inside the writing transaction (migration 0008): PostgreSQL delivers it
only when that transaction commits and drops it when it rolls back, so nothing
is ever announced that did not happen. In this process, an ``after_commit``
hook wakes the local streams straight away (on SQLite, the only engine with
one process, that is all).
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

from ledger.live.broker import Broker

#: The PostgreSQL channel every process listens on; the payload is "alliance_id:seq" (see migration 0008).
CHANNEL = "ledger_events"
_PENDING = "ledger.pending_events"
_ENDED = "ledger.ended_sessions"
#: The payload "session:<id>" on the same channel: that log-in session has ended (log-out, new password).
SESSION_PREFIX = "session:"


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
        ended = session.info.pop(_ENDED, None)
        if ended:
            broker.end_sessions(ended)

    @event.listens_for(factory, "after_rollback")
    def _discarded(session: Session) -> None:
        session.info.pop(_PENDING, None)
        session.info.pop(_ENDED, None)


def announce_session_end(session: Session, login_session_ids: list[int]) -> None:
    """Stop the live streams of ended log-in sessions once (and only if) the transaction commits.

    This process's streams are woken by the after-commit hook; on PostgreSQL a ``NOTIFY`` sent in the same
    transaction (delivered on commit, dropped on rollback) tells the other processes' listeners.
    """
    if not login_session_ids:
        return
    session.info.setdefault(_ENDED, []).extend(login_session_ids)
    if session.get_bind().dialect.name == "postgresql":
        for login_session_id in login_session_ids:
            session.execute(text("SELECT pg_notify(:channel, :payload)"),
                            {"channel": CHANNEL, "payload": f"{SESSION_PREFIX}{login_session_id}"})
