"""Writing a validated entry with its activity record and its chain link, under the alliance lock.

This is the hottest write, and everything between taking the alliance lock and the commit is time that
the alliance's other writers wait (and, in a threaded server, time the lock holder may spend waiting for
the interpreter between round trips). So the write takes as few round trips as each engine allows:

- **PostgreSQL: one statement after the lock.** The lock ``UPDATE`` hands out the event number and, if the
  date is open, the entry's id too (``lock_alliance_for_entry``). Everything else is then known but the
  link's position and previous hash, so one ``INSERT`` with two data-modifying CTEs writes the entry (only
  if its date is still open), its activity record and its link, hashed in SQL from the chain's head as it
  is under the lock
  (:func:`ledger.chain.link_hash_sql` over the halves of
  :func:`ledger.domain.chain.canonical_around_position`). The next statement is the commit.
- **SQLite: three.** It has no data-modifying CTEs (and only one writer at a time anyway): the entry,
  ``INSERT ... SELECT ... WHERE`` its date is open, returning the chain's head; the activity record; the
  link, hashed in Python.

Both write the same rows and the same hashes, which the verifier recomputes in Python. A date closed
between the validation and the lock inserts nothing: the event number is given back and the refusal names
the date, so a caller that goes on (an import's reference check, say) finds nothing of it written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from sqlalchemy import Insert, LargeBinary, Select, String, bindparam, func, insert, literal, select, true
from sqlalchemy.orm import Session

from ledger.chain import entry_fields, head_columns, link_hash_sql, newest_link
from ledger.domain.chain import Head, canonical_around_position, genesis
from ledger.live.publish import announce
from ledger.models import SUMMARY_MAX, Activity, Alliance, ChainLink, Entry, User
from ledger.services.activity import give_back_event_seq, log
from ledger.services.chain import append_link
from ledger.services.periods import (
    after_close,
    closed_through,
    lock_alliance_for_entry,
    lock_alliance_for_event,
    open_on,
)

#: The activity action of a recorded entry.
RECORDED = "entry.recorded"
#: The columns of ``entries`` written from the ``Entry``: all of them but the id, which SQLite assigns.
_COLUMNS = tuple(c.key for c in Entry.__table__.columns if c.key != "id")


def write_entry(session: Session, alliance: Alliance, actor: User, entry: Entry,
                summary_of: Callable[[Entry], str]) -> None:
    """Take the alliance lock, then write ``entry``, its activity record and its link; give ``entry`` its id.

    ``entry`` is validated, has every column but its id set, and is never added to the session: no unit
    of work runs for it, and it serves the answer as it is. ``summary_of`` words the activity line once
    the id is known.
    """
    if session.get_bind().dialect.name == "postgresql":
        _write_in_one_statement(session, alliance, actor, entry, summary_of)
    else:
        _write_step_by_step(session, alliance, actor, entry, summary_of)


def _entry_values(columns: tuple[str, ...]) -> Select:
    """``SELECT <the entry's values> WHERE <its date is open>``: run after the lock was granted, the
    statement sees every close committed before (READ COMMITTED: a snapshot per statement)."""
    table = Entry.__table__
    return select(*(bindparam(key, type_=table.c[key].type) for key in columns)).where(
        open_on(bindparam("of_alliance"), bindparam("entry_date", type_=table.c.entry_date.type)))


def _step_statement() -> Insert:
    """SQLite's entry INSERT, returning the new id and the chain's head (both NULL while it is empty)."""
    head_position, head_hash = head_columns(bindparam("of_alliance"))
    return (insert(Entry.__table__).from_select(_COLUMNS, _entry_values(_COLUMNS))
            .returning(Entry.__table__.c.id, head_position, head_hash))


def _one_statement() -> Insert:
    """PostgreSQL's entry, activity record and link in one INSERT, returning nothing if the date is closed.

    Built once, with bind parameters: with its subqueries, building it costs more than running it.
    """
    entries, activity, links = Entry.__table__, Activity.__table__, ChainLink.__table__
    alliance_id = bindparam("of_alliance", type_=entries.c.alliance_id.type)
    recorded_at = bindparam("recorded_at", type_=entries.c.recorded_at.type)
    new_entry = (insert(entries).from_select(("id", *_COLUMNS), _entry_values(("id", *_COLUMNS)))
                 .returning(entries.c.id).cte("new_entry"))
    new_activity = insert(activity).from_select(
        ("alliance_id", "seq", "actor_id", "action", "summary", "entry_id", "created_at"),
        select(alliance_id, bindparam("seq", type_=activity.c.seq.type),
               bindparam("actor_id", type_=activity.c.actor_id.type), literal(RECORDED, String),
               bindparam("summary", type_=activity.c.summary.type), new_entry.c.id, recorded_at)
        .select_from(new_entry),
    ).cte("new_activity")
    head = newest_link(alliance_id).subquery("head")
    position = func.coalesce(head.c.position, 0) + 1
    previous = func.coalesce(head.c.hash, bindparam("genesis", type_=links.c.previous_hash.type))
    link_hash = link_hash_sql(previous, position, bindparam("before", type_=LargeBinary),
                              bindparam("after", type_=LargeBinary))
    link = select(alliance_id, position, literal("entry", String), new_entry.c.id, link_hash, previous,
                  recorded_at).select_from(new_entry.outerjoin(head, true()))
    return (insert(links)
            .from_select(("alliance_id", "position", "record_type", "record_id", "hash", "previous_hash",
                          "created_at"), link)
            .returning(links.c.position).add_cte(new_activity))


_STEP_INSERT = _step_statement()
_ONE_STATEMENT = _one_statement()


def _write_in_one_statement(session: Session, alliance: Alliance, actor: User, entry: Entry,
                            summary_of: Callable[[Entry], str]) -> None:
    seq, entry.id = lock_alliance_for_entry(session, alliance, entry.entry_date)
    if entry.id is None:  # the date is closed: nothing written, no id used up
        _refuse(session, alliance, entry, seq)
    before, after = canonical_around_position("entry", entry.id, alliance.id, entry_fields(entry, alliance.currency))
    row = session.connection().execute(_ONE_STATEMENT, {
        "of_alliance": alliance.id, "id": entry.id, **{key: getattr(entry, key) for key in _COLUMNS},
        "seq": seq, "actor_id": actor.id, "summary": summary_of(entry)[:SUMMARY_MAX],
        "genesis": genesis(alliance.id), "before": before, "after": after}).first()
    if row is None:  # closed while this waited for the lock
        entry.id = None
        _refuse(session, alliance, entry, seq)
    announce(session, alliance.id, seq)


def _write_step_by_step(session: Session, alliance: Alliance, actor: User, entry: Entry,
                        summary_of: Callable[[Entry], str]) -> None:
    seq = lock_alliance_for_event(session, alliance)
    row = session.connection().execute(
        _STEP_INSERT, {"of_alliance": alliance.id, **{key: getattr(entry, key) for key in _COLUMNS}}).first()
    if row is None:
        _refuse(session, alliance, entry, seq)
    entry.id, position, last_hash = row
    log(session, alliance, actor, RECORDED, summary_of(entry), entry, seq=seq)
    append_link(session, alliance, "entry", entry.id, entry_fields(entry, alliance.currency),
                head=Head(position, last_hash) if position is not None else None)


def _refuse(session: Session, alliance: Alliance, entry: Entry, seq: int) -> NoReturn:
    """The date was closed while the entry waited for the lock: nothing was written, give the number back."""
    give_back_event_seq(session, alliance, seq)
    after_close(entry.entry_date, closed_through(session, alliance))  # raises: the date is closed now
    raise RuntimeError("an entry was not inserted, yet its date is open")  # pragma: no cover
