"""Closed periods: the rule that nothing is recorded, reversed or imported with a date inside one.

Every write path that takes a date (entries, reversals, settle-ups, imports,
agreement versions) asks :func:`check_open`, so the rule lives in one place.
Corrections to a closed period go into an open one, as reversals.

Closing races with posting. A writer that read "closed through D" before a
close committed could otherwise insert an entry inside the period just
closed. So :func:`check_open` and :func:`close_period` both take the
alliance row lock (:func:`lock_alliance`) *before* reading the last close:
whichever comes second waits for the first to commit and then reads its
result (PostgreSQL's READ COMMITTED gives each statement a fresh snapshot;
on SQLite the lock is the database's single writer lock). Recording an
entry, the hottest write, takes the lock with :func:`lock_alliance_for_event`
(on PostgreSQL :func:`lock_alliance_for_entry`) and inserts only if the date
is still open, in the statement that inserts (:func:`open_on`).

A period may end no later than yesterday: closing a day that is still
running would refuse entries for things that have not finished happening.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta

from sqlalchemy import BindParameter, ColumnElement, Date, Update, bindparam, case, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger import clock
from ledger.domain.errors import Conflict, FieldErrors, InvalidInput, NotAllowed
from ledger.domain.renewal import is_read_only
from ledger.domain.text import clean_text, parse_date
from ledger.domain.vocabulary import MemberRole, SignOffStatus
from ledger.models import Alliance, Membership, Partner, Period, SignOff, User
from ledger.services.activity import NEXT_SEQ, hand_out_event_seq, log, next_event_seq
from ledger.services.alliances import parse_choice
from ledger.services.lookups import default_day, partner_of

COMMENT_MAX = 2000
CLOSERS = (MemberRole.COORDINATOR, MemberRole.ACCOUNTANT)


#: ``session.info`` key: (the transaction, the ids of the alliances it holds locked).
_LOCKS = "ledger.alliance_locks"


def lock_alliance(session: Session, alliance: Alliance) -> None:
    """Hold the alliance row until the transaction ends, so closes and dated writes take turns.

    PostgreSQL: ``SELECT ... FOR UPDATE``. SQLite has no row locks and ignores
    ``FOR UPDATE``; a no-op ``UPDATE`` takes its writer lock instead (and starts
    the transaction, so nothing read after it can be stale).
    """
    if _holds_lock(session, alliance):
        return  # already held by this transaction: asking again would be one more round trip under the lock
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Alliance.id).where(Alliance.id == alliance.id).with_for_update())
    else:
        session.execute(update(Alliance).where(Alliance.id == alliance.id)
                        .values(event_seq=Alliance.event_seq).execution_options(synchronize_session=False))
    _mark_locked(session, alliance)


def lock_alliance_for_event(session: Session, alliance: Alliance) -> int:
    """Take the alliance lock by handing out the next event number now; return that number.

    The hottest write (recording an entry) would otherwise spend two statements under the lock: one to
    lock, one to number its activity record. Handing the number out is an ``UPDATE`` of the alliance row,
    which locks it on both engines, so it is the lock. The caller must log exactly one event with this
    number (``log(..., seq=...)``) or fail: a committed number without its record would be a gap.
    """
    seq = next_event_seq(session, alliance)
    _mark_locked(session, alliance)
    return seq


def lock_alliance_for_entry(session: Session, alliance: Alliance, day: date) -> tuple[int, int | None]:
    """PostgreSQL: :func:`lock_alliance_for_event`, and the id of the entry being recorded if ``day`` is open.

    With the id known once the lock is granted, the entry, its activity record and its link are written by
    one statement (``ledger.services.entry_writes``); the duty to log the event number is the same. No id
    (None) for a day already closed: a refused entry uses no id up, so entry numbers stay gapless. (This
    statement's snapshot predates the wait for the lock, so a close committed during that wait is seen
    only by the INSERT that follows, which refuses the entry; that id is then lost, as with any rollback.)
    """
    seq, entry_id = hand_out_event_seq(session, alliance, _LOCK_FOR_ENTRY, on_day=day)
    _mark_locked(session, alliance)
    return seq, entry_id


def _lock_for_entry() -> Update:
    entry_id = func.nextval(func.pg_get_serial_sequence("entries", "id"))
    return NEXT_SEQ.returning(case((open_on(bindparam("of_alliance"), bindparam("on_day", type_=Date)), entry_id)))


def _holds_lock(session: Session, alliance: Alliance) -> bool:
    transaction = session.get_transaction()
    held = session.info.get(_LOCKS)
    return transaction is not None and held is not None and held[0] is transaction and alliance.id in held[1]


def _mark_locked(session: Session, alliance: Alliance) -> None:
    transaction = session.get_transaction()
    held = session.info.get(_LOCKS)
    if held is None or held[0] is not transaction:
        held = session.info[_LOCKS] = (transaction, set())
    held[1].add(alliance.id)


def closed_through(session: Session, alliance: Alliance) -> date | None:
    """The last day of the latest closed period, or None while nothing is closed (for display; see locked_...)."""
    return session.scalar(select(func.max(Period.end_date)).where(Period.alliance_id == alliance.id))


def open_on(alliance_id: int | BindParameter[int], day: date | BindParameter[date]) -> ColumnElement[bool]:
    """:func:`after_close` as SQL: true if ``day`` lies after every closed period of the alliance.

    For a write that checks it in the statement that writes: recording an entry inserts only if it holds,
    in an INSERT that runs after the lock was taken and so (READ COMMITTED: a snapshot per statement)
    sees every close committed before the lock was granted.
    """
    return ~exists().where(Period.alliance_id == alliance_id, Period.end_date >= day)


#: Built once (every entry recorded on PostgreSQL runs it).
_LOCK_FOR_ENTRY = _lock_for_entry()


def locked_closed_through(session: Session, alliance: Alliance) -> date | None:
    """:func:`closed_through` read under the alliance lock: what a write may rely on until it commits.

    Two statements, not one: under READ COMMITTED a ``SELECT ... FOR UPDATE`` that waited for a close
    would still read the periods as of its own start, before that close; the read after it sees it.
    """
    lock_alliance(session, alliance)
    return closed_through(session, alliance)


def check_open(session: Session, alliance: Alliance, day: date, field: str = "date",
               closed: date | None = None) -> date:
    """``day`` if it lies after every closed period; else a field error saying where to put it.

    Pass ``closed`` only if it came from :func:`locked_closed_through` in this transaction (e.g. an
    import checking many rows), or for an early check that is repeated under the lock before writing
    (as ``record_entry`` does); otherwise the lock is taken here.
    """
    ensure_not_ended(alliance, clock.today(alliance), field)
    return after_close(day, closed if closed is not None else locked_closed_through(session, alliance), field)


def after_close(day: date, closed: date | None, field: str = "date") -> date:
    """``day`` if it lies after ``closed`` (the last closed day, None: nothing closed); else the field error."""
    if closed is not None and day <= closed:
        raise InvalidInput.at(
            field, f"The books are closed through {closed.isoformat()}: {day.isoformat()} is in a closed "
                   f"period. Date it after {closed.isoformat()}; a correction goes into an open period "
                   f"as a reversal.")
    return day


def ensure_not_ended(alliance: Alliance, today: date, field: str = "date") -> None:
    """A terminated alliance is read-only after its last day: no entries, imports, versions or measurements."""
    if is_read_only(today, alliance.ended_on):
        raise InvalidInput.at(field, f"{alliance.name} ended on {alliance.ended_on.isoformat()}: its books are "
                                     f"read-only. Export, checkpoints and history stay available.")


def open_day(session: Session, alliance: Alliance, today: date) -> date:
    """The natural date of a correction or settle-up: today in the term, moved past the last close if it can be."""
    day = default_day(alliance, today)
    closed = closed_through(session, alliance)
    if closed is not None and day <= closed < alliance.term_end:
        return closed + timedelta(days=1)
    return day


def next_start(session: Session, alliance: Alliance) -> date:
    closed = closed_through(session, alliance)
    return closed + timedelta(days=1) if closed else alliance.start_date


def suggested_end(session: Session, alliance: Alliance) -> date:
    """The end of the month the first open day falls in (within the term): the usual monthly close."""
    start = next_start(session, alliance)
    month_end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    return min(month_end, alliance.term_end)


def can_close(membership: Membership) -> bool:
    return membership.role in CLOSERS


def close_period(session: Session, actor: User, membership: Membership, raw: Mapping[str, object],
                 today: date) -> Period:
    """Close the books from the day after the last close (or the term's start) through ``raw['end_date']``."""
    if not can_close(membership):
        raise NotAllowed("Only the coordinator or an accountant closes a period.")
    alliance = membership.alliance
    end = parse_date(raw.get("end_date"), "end_date")
    closed = locked_closed_through(session, alliance)  # re-read under the lock: a close may just have landed
    start = closed + timedelta(days=1) if closed else alliance.start_date
    if closed is not None and closed >= alliance.term_end:
        raise InvalidInput.at("end_date", f"Every day of the term is closed (through {closed.isoformat()}).")
    if end < alliance.start_date or end > alliance.term_end:
        raise InvalidInput.at("end_date", f"Choose a date within the alliance's term "
                                          f"({alliance.start_date.isoformat()} to {alliance.term_end.isoformat()}).")
    if closed is not None and end <= closed:
        raise InvalidInput.at("end_date", f"The books are already closed through {closed.isoformat()}; "
                                          f"choose an end date after it.")
    if end >= today:
        raise InvalidInput.at("end_date", f"A period can be closed only once it is over: choose a date before "
                                          f"today ({today.isoformat()}).")
    period = Period(alliance_id=alliance.id, start_date=start, end_date=end, closed_by_id=actor.id)
    session.add(period)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("Someone closed this period a moment ago; reload and look again.") from None
    log(session, alliance, actor, "period.closed",
        f"{actor.name} closed the books for {start.isoformat()} to {end.isoformat()}")
    return period


def _may_sign(membership: Membership, partner: Partner) -> bool:
    return membership.role is MemberRole.PARTNER_MEMBER and membership.partner_id == partner.id


def sign_off(session: Session, actor: User, membership: Membership, period: Period,
             raw: Mapping[str, object]) -> SignOff:
    """Record a partner's sign-off or dispute of its statement; it supersedes the partner's previous answer."""
    alliance = membership.alliance
    if period.alliance_id != alliance.id:
        raise NotAllowed("That period belongs to another alliance.")
    raw_partner = raw.get("partner_id")
    if raw_partner in (None, "") and membership.partner_id is not None:
        raw_partner = membership.partner_id
    partner = partner_of(session, alliance, raw_partner)
    if not _may_sign(membership, partner):
        raise NotAllowed(f"Only {partner.name}'s members sign off or dispute {partner.name}'s statement.")
    errors = FieldErrors()
    status = errors.check("status", parse_choice, SignOffStatus, raw.get("status"), "status", "sign-off status")
    comment = errors.check("comment", clean_text, raw.get("comment"), "comment", max_len=COMMENT_MAX,
                           required=False)
    if status is SignOffStatus.DISPUTED and comment == "":
        errors.add("comment", "Say what is wrong: a dispute needs a comment.")
    errors.raise_if_any()
    row = SignOff(period_id=period.id, partner_id=partner.id, status=status, comment=comment or "",
                  user_id=actor.id)
    session.add(row)
    session.flush()
    verb = "signed off" if status is SignOffStatus.SIGNED else "disputed"
    # Every member reads the activity feed; the comment is not for all of them
    # (ledger.domain.permissions.can_read_signoff_comments), so the record only says there is one.
    log(session, alliance, actor, f"period.{status.value}",
        f"{partner.name} ({actor.name}) {verb} its statement for {period.start_date.isoformat()} to "
        f"{period.end_date.isoformat()}" + (" with a comment on the statement" if comment else ""))
    return row


def dispute(session: Session, actor: User, membership: Membership, period: Period,
            raw: Mapping[str, object]) -> SignOff:
    return sign_off(session, actor, membership, period, {**raw, "status": SignOffStatus.DISPUTED.value})
