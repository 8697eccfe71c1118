"""The rows an export writes, read with streamed queries so 100,000 entries never sit in memory at once.

``yield_per`` makes PostgreSQL use a server-side cursor and SQLite fetch in
batches; every row is a plain tuple of columns (no ORM objects, no lazy
loads), joined with the names an accountant reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.domain.vocabulary import EntryKind, PoolSide
from ledger.models import (
    Activity,
    AgreementVersion,
    Alliance,
    Category,
    Entry,
    Partner,
    Period,
    Pool,
    PoolShare,
    SignOff,
    User,
)
from ledger.statements import CommentRule

BATCH = 2_000


@dataclass(frozen=True, slots=True)
class LedgerRow:
    id: int
    entry_date: date
    kind: EntryKind
    category: str | None
    partner_id: int
    partner: str
    counterparty_id: int | None
    counterparty: str | None
    amount: int
    version: int | None
    pool_id: int | None
    pool: str | None
    reverses_id: int | None
    description: str
    reference: str
    recorded_by: str
    recorded_at: datetime


def ledger_rows(session: Session, alliance: Alliance, start: date, end: date,
                kind: EntryKind | None = None) -> Iterator[LedgerRow]:
    """Every entry of the period, oldest first (date, then id), reversals included."""
    counterparty = aliased(Partner)
    stmt = (
        select(Entry.id, Entry.entry_date, Entry.kind, Category.name, Entry.partner_id, Partner.name,
               Entry.counterparty_id, counterparty.name, Entry.amount, AgreementVersion.number, Entry.pool_id,
               Pool.name, Entry.reverses_id, Entry.description, Entry.reference, User.name, Entry.recorded_at)
        .join(Partner, Partner.id == Entry.partner_id)
        .join(User, User.id == Entry.recorded_by_id)
        .outerjoin(counterparty, counterparty.id == Entry.counterparty_id)
        .outerjoin(Category, Category.id == Entry.category_id)
        .outerjoin(AgreementVersion, AgreementVersion.id == Entry.version_id)
        .outerjoin(Pool, Pool.id == Entry.pool_id)
        .where(Entry.alliance_id == alliance.id, Entry.entry_date >= start, Entry.entry_date <= end)
        .order_by(Entry.entry_date, Entry.id)
    )
    if kind is not None:
        stmt = stmt.where(Entry.kind == kind)
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        yield LedgerRow(*row)


@dataclass(frozen=True)
class ShareRow:
    version_id: int
    version: int
    effective_from: date
    effective_to: date | None
    note: str
    pool_id: int
    pool: str
    side: PoolSide
    partner_id: int
    partner: str
    weight: Decimal


def split_rows(session: Session, alliance: Alliance, start: date, end: date) -> list[ShareRow]:
    """Every share of every pool of the versions in force in the period, or that a period entry falls under.

    A reversal carries its original's version, which may be older than the
    period, so those versions are included too: their pools hold amounts.
    Ordered by version, pool position, then partner id: within a pool this
    is the order the largest-remainder rule breaks ties in.
    """
    versions = list(session.execute(
        select(AgreementVersion.id, AgreementVersion.number, AgreementVersion.effective_from, AgreementVersion.note)
        .where(AgreementVersion.alliance_id == alliance.id).order_by(AgreementVersion.effective_from)))
    used = set(session.scalars(
        select(Entry.version_id).distinct()
        .where(Entry.alliance_id == alliance.id, Entry.entry_date >= start, Entry.entry_date <= end,
               Entry.version_id.is_not(None))))
    spans: dict[int, tuple[int, date, date | None, str]] = {}
    for i, (vid, number, effective, note) in enumerate(versions):
        until = versions[i + 1][2] - timedelta(days=1) if i + 1 < len(versions) else None
        in_force = effective <= end and (until is None or until >= start)
        if in_force or vid in used:
            spans[vid] = (number, effective, until, note)
    if not spans:
        return []
    rows = session.execute(
        select(Pool.version_id, Pool.id, Pool.name, Pool.side, PoolShare.partner_id, Partner.name, PoolShare.weight)
        .join(PoolShare, PoolShare.pool_id == Pool.id).join(Partner, Partner.id == PoolShare.partner_id)
        .where(Pool.version_id.in_(list(spans)))
        .order_by(Pool.version_id, Pool.position, Pool.id, PoolShare.partner_id))
    result = [ShareRow(vid, *spans[vid], pool_id, pool, side, partner_id, partner, Decimal(weight))
              for vid, pool_id, pool, side, partner_id, partner, weight in rows]
    result.sort(key=lambda r: (r.effective_from, r.version_id))  # stable: keeps pool and partner order
    return result


def activity_rows(session: Session, alliance: Alliance, start: date, end: date) -> Iterator[tuple]:
    """The audit trail of the period: events on one of its days (UTC), and every event about one of its entries.

    The second half matters for back-dated and imported entries: recording an
    April entry in July is part of April's story.
    """
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    stmt = (select(Activity.seq, Activity.created_at, User.name, Activity.action, Activity.summary, Activity.entry_id)
            .outerjoin(User, User.id == Activity.actor_id)
            .outerjoin(Entry, Entry.id == Activity.entry_id)
            .where(Activity.alliance_id == alliance.id,
                   (Activity.created_at >= since) & (Activity.created_at < until)
                   | Entry.entry_date.between(start, end))
            .order_by(Activity.seq))
    yield from session.execute(stmt.execution_options(yield_per=BATCH))


@dataclass(frozen=True)
class ClosedPeriod:
    start: date
    end: date
    closed_at: datetime
    closed_by: str
    #: partner id -> (status, comment, when) of the partner's newest answer; absent: not answered yet.
    answers: dict[int, tuple[str, str, datetime]]


def closed_periods(session: Session, alliance: Alliance, start: date, end: date,
                   may_read_comments: CommentRule) -> list[ClosedPeriod]:
    """Closed periods overlapping the export range, with every partner's newest sign-off or dispute.

    A comment is read only for the partners (by id) ``may_read_comments`` allows (see
    ``ledger.statements.comment_reader``); the others' answers come with their status and date only.
    """
    periods = list(session.execute(
        select(Period.id, Period.start_date, Period.end_date, Period.closed_at, User.name)
        .join(User, User.id == Period.closed_by_id)
        .where(Period.alliance_id == alliance.id, Period.start_date <= end, Period.end_date >= start)
        .order_by(Period.start_date)))
    if not periods:
        return []
    answers: dict[int, dict[int, tuple[str, str, datetime]]] = {p[0]: {} for p in periods}
    for period_id, partner_id, status, comment, when in session.execute(
            select(SignOff.period_id, SignOff.partner_id, SignOff.status, SignOff.comment, SignOff.created_at)
            .where(SignOff.period_id.in_(list(answers)))
            .order_by(SignOff.id)):
        shown = comment if may_read_comments(partner_id) else ""
        answers[period_id][partner_id] = (str(status), shown, when)  # later rows win: the newest counts
    return [ClosedPeriod(s, e, at, by, answers[pid]) for pid, s, e, at, by in periods]


def partner_rows(session: Session, alliance: Alliance) -> list[tuple[int, str]]:
    return list(session.execute(select(Partner.id, Partner.name).where(Partner.alliance_id == alliance.id)
                                .order_by(Partner.name)))


__all__ = ["ClosedPeriod", "LedgerRow", "ShareRow", "activity_rows", "closed_periods", "ledger_rows",
           "partner_rows", "split_rows"]
