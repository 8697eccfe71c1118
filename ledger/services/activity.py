"""The activity record every write leaves behind, which is also the alliance's live event.

Each record gets the alliance's next event number. Handing it out is an
``UPDATE ... RETURNING`` on the alliance row, which locks that row until the
transaction ends: two writers of one alliance therefore commit in the order
of their numbers, and a page resuming "after event n" can never skip one
that committed late.
"""

from __future__ import annotations

from sqlalchemy import Row, Update, bindparam, insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ledger.db import utcnow
from ledger.live.publish import announce
from ledger.models import SUMMARY_MAX, Activity, Alliance, Entry, User

#: Built once: every write runs these two, and building a statement costs more than running it here.
#: NEXT_SEQ may be extended with more RETURNING columns (``ledger.services.periods.lock_alliance_for_entry``).
NEXT_SEQ = (update(Alliance.__table__).where(Alliance.__table__.c.id == bindparam("of_alliance"))
             .values(event_seq=Alliance.__table__.c.event_seq + 1).returning(Alliance.__table__.c.event_seq))
_INSERT = insert(Activity.__table__)


def next_event_seq(session: Session, alliance: Alliance) -> int:
    return hand_out_event_seq(session, alliance, NEXT_SEQ)[0]


def hand_out_event_seq(session: Session, alliance: Alliance, statement: Update, **params: object) -> Row:
    """Run ``statement``, :data:`NEXT_SEQ` or an extension of it, and return its row (the number first)."""
    row = session.connection().execute(statement, {"of_alliance": alliance.id, **params}).one()
    set_committed_value(alliance, "event_seq", row[0])
    return row


def give_back_event_seq(session: Session, alliance: Alliance, seq: int) -> None:
    """Return the number just handed out, for a write refused after taking it (under the lock, so it is
    still the last one): no gap in the numbers, and nothing of the refused write is left behind."""
    session.connection().execute(
        update(Alliance.__table__)
        .where(Alliance.__table__.c.id == alliance.id, Alliance.__table__.c.event_seq == seq)
        .values(event_seq=seq - 1))
    set_committed_value(alliance, "event_seq", seq - 1)


def log(session: Session, alliance: Alliance, actor: User | None, action: str, summary: str,
        entry: Entry | None = None, seq: int | None = None) -> int:
    """Record the event and return its number (``seq``: the number the lock was taken with, see
    ``ledger.services.periods.lock_alliance_for_event``; else the next one is handed out here).

    A plain INSERT, not an ORM object: nothing reads the row back in the writing transaction, and every
    write makes one, under the alliance lock, where the unit of work's bookkeeping is time others wait.
    """
    if seq is None:
        seq = next_event_seq(session, alliance)
    session.flush()  # the rows it names (an entry) are in the database before it
    session.connection().execute(_INSERT, {
        "alliance_id": alliance.id, "seq": seq, "actor_id": actor.id if actor else None, "action": action,
        "summary": summary[:SUMMARY_MAX], "entry_id": entry.id if entry else None, "created_at": utcnow()})
    announce(session, alliance.id, seq)
    return seq
