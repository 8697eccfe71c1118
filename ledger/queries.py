"""The read side: balances by SQL aggregate, ledger pages, and what each page lists.

The balance never loads entries into Python: one ``GROUP BY`` over the
entries of the alliance (served by ``ix_entries_balance``) yields the sums per
kind, partner, counterparty and pool, and :mod:`ledger.domain.balances` turns
those few dozen rows into exact balances.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, joinedload

from ledger.db import MAX_ID
from ledger.domain.balances import PartnerBalance, PoolTotal, compute_balances
from ledger.domain.settle_up import Transfer, settle_up
from ledger.domain.vocabulary import BORNE_KINDS, RECEIVED_KINDS, EntryKind, MemberRole, PoolSide
from ledger.models import (
    Activity,
    AgreementVersion,
    Alliance,
    Entry,
    Membership,
    Partner,
    Pool,
    PoolShare,
    User,
)

T = TypeVar("T")


@dataclass
class BalanceSheet:
    """Every partner's balance over a period, and the transfers that would settle it."""

    alliance: Alliance
    partners: list[Partner]
    rows: list[PartnerBalance]
    date_from: date | None = None
    date_to: date | None = None
    transfers: list[Transfer] = field(default_factory=list)
    #: How many entries the period holds (counted by the same GROUP BY, at no extra cost).
    entry_count: int = 0

    def partner(self, partner_id: int) -> Partner:
        return next(p for p in self.partners if p.id == partner_id)

    def row(self, partner_id: int) -> PartnerBalance:
        return next(r for r in self.rows if r.partner_id == partner_id)

    def total(self, figure: str) -> int:
        return sum(getattr(r, figure) for r in self.rows)


def partners_of(session: Session, alliance: Alliance) -> list[Partner]:
    return list(session.scalars(select(Partner).where(Partner.alliance_id == alliance.id)
                                .order_by(Partner.name)))


def _period(stmt_filters: list, date_from: date | None, date_to: date | None) -> list:
    if date_from is not None:
        stmt_filters.append(Entry.entry_date >= date_from)
    if date_to is not None:
        stmt_filters.append(Entry.entry_date <= date_to)
    return stmt_filters


def pool_weights(session: Session, alliance: Alliance) -> dict[int, tuple[PoolSide, dict[int, Decimal]]]:
    """Side and weights of every pool of every agreement version of the alliance."""
    rows = session.execute(
        select(Pool.id, Pool.side, PoolShare.partner_id, PoolShare.weight)
        .join(AgreementVersion, AgreementVersion.id == Pool.version_id)
        .join(PoolShare, PoolShare.pool_id == Pool.id)
        .where(AgreementVersion.alliance_id == alliance.id)
        .order_by(Pool.id, PoolShare.partner_id))
    pools: dict[int, tuple[PoolSide, dict[int, Decimal]]] = {}
    for pool_id, side, partner_id, weight in rows:
        pools.setdefault(pool_id, (side, {}))[1][partner_id] = weight
    return pools


def balance_sheet(session: Session, alliance: Alliance, date_from: date | None = None,
                  date_to: date | None = None) -> BalanceSheet:
    partners = partners_of(session, alliance)
    sums = session.execute(
        select(Entry.kind, Entry.partner_id, Entry.counterparty_id, Entry.pool_id, func.sum(Entry.amount),
               func.count())
        .where(*_period([Entry.alliance_id == alliance.id], date_from, date_to))
        .group_by(Entry.kind, Entry.partner_id, Entry.counterparty_id, Entry.pool_id))
    borne: dict[int, int] = defaultdict(int)
    received: dict[int, int] = defaultdict(int)
    pool_totals: dict[int, int] = defaultdict(int)
    entry_count = 0
    for kind, partner_id, counterparty_id, pool_id, total, count in sums:
        total = int(total)
        entry_count += count
        if kind is EntryKind.SETTLEMENT:
            borne[partner_id] += total
            received[counterparty_id] += total
            continue
        if kind in BORNE_KINDS:
            borne[partner_id] += total
        elif kind in RECEIVED_KINDS:
            received[partner_id] += total
        pool_totals[pool_id] += total
    weights = pool_weights(session, alliance) if pool_totals else {}
    pools = [PoolTotal(pid, weights[pid][0], total, weights[pid][1]) for pid, total in pool_totals.items()]
    rows = compute_balances([p.id for p in partners], borne, received, pools)
    transfers = settle_up({r.partner_id: r.net for r in rows})
    return BalanceSheet(alliance, partners, rows, date_from, date_to, transfers, entry_count)


@dataclass(frozen=True)
class LedgerFilter:
    partner_id: int | None = None
    kind: EntryKind | None = None
    category_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def conditions(self, alliance: Alliance) -> list:
        where = [Entry.alliance_id == alliance.id]
        if self.partner_id is not None:
            where.append((Entry.partner_id == self.partner_id) | (Entry.counterparty_id == self.partner_id))
        if self.kind is not None:
            where.append(Entry.kind == self.kind)
        if self.category_id is not None:
            where.append(Entry.category_id == self.category_id)
        return _period(where, self.date_from, self.date_to)


@dataclass
class LedgerPage:
    entries: list[Entry]
    reversed_by: dict[int, int]
    next_cursor: tuple[date, int] | None
    count: int
    totals: dict[EntryKind, int]


def ledger_page(session: Session, alliance: Alliance, filters: LedgerFilter,
                before: tuple[date, int] | None = None, limit: int = 50, with_totals: bool = True) -> LedgerPage:
    """Newest first, ``limit`` entries older than the cursor ``before`` (keyset, not OFFSET).

    The count and totals of the filtered set need a pass over all of it; callers that show
    only the entries (the dashboard's latest ten) skip it with ``with_totals=False``.
    """
    where = filters.conditions(alliance)
    stmt = select(Entry).where(*where)
    if before is not None:
        stmt = stmt.where(tuple_(Entry.entry_date, Entry.id) < tuple_(*before))
    entries = list(session.scalars(
        stmt.order_by(Entry.entry_date.desc(), Entry.id.desc()).limit(limit + 1)
        .options(joinedload(Entry.partner), joinedload(Entry.counterparty), joinedload(Entry.category),
                 joinedload(Entry.recorded_by), joinedload(Entry.pool))))
    more = len(entries) > limit
    entries = entries[:limit]
    cursor = (entries[-1].entry_date, entries[-1].id) if more and entries else None
    totals_rows = session.execute(select(Entry.kind, func.count(), func.sum(Entry.amount))
                                  .where(*where).group_by(Entry.kind)).all() if with_totals else []
    return LedgerPage(
        entries=entries,
        reversed_by=reversals_of(session, [e.id for e in entries]),
        next_cursor=cursor,
        count=sum(int(n) for _, n, _ in totals_rows),
        totals={kind: int(total) for kind, _, total in totals_rows},
    )


def reversals_of(session: Session, entry_ids: list[int]) -> dict[int, int]:
    """For each listed entry that has been reversed, the id of its reversal."""
    if not entry_ids:
        return {}
    return dict(session.execute(select(Entry.reverses_id, Entry.id)
                                .where(Entry.reverses_id.in_(entry_ids))).all())


def latest_entries(session: Session, alliance: Alliance, limit: int = 10) -> LedgerPage:
    return ledger_page(session, alliance, LedgerFilter(), limit=limit, with_totals=False)


def row_in(session: Session, model: type[T], alliance: Alliance, row_id: int) -> T | None:
    """The ``model`` row with this id if it belongs to the alliance, else None.

    Another alliance's id is answered exactly like a missing one, so ids reveal nothing.
    """
    if not 0 < row_id <= MAX_ID:  # an id can be any size; PostgreSQL would raise, not miss
        return None
    row = session.get(model, row_id)
    return row if row is not None and row.alliance_id == alliance.id else None


def entry_in(session: Session, alliance: Alliance, entry_id: int) -> Entry | None:
    return row_in(session, Entry, alliance, entry_id)


def memberships_of(session: Session, user: User) -> list[Membership]:
    return list(session.scalars(
        select(Membership).join(Alliance).where(Membership.user_id == user.id)
        .order_by(Alliance.name).options(joinedload(Membership.alliance), joinedload(Membership.partner))))


def membership_in(session: Session, user: User, alliance_id: int) -> Membership | None:
    if not 0 < alliance_id <= MAX_ID:
        return None
    return session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.alliance_id == alliance_id)
        .options(joinedload(Membership.alliance), joinedload(Membership.partner)))


def members_of(session: Session, alliance: Alliance) -> list[Membership]:
    return list(session.scalars(
        select(Membership).join(User).where(Membership.alliance_id == alliance.id)
        .order_by(Membership.role, User.name)
        .options(joinedload(Membership.user), joinedload(Membership.partner))))


@dataclass(frozen=True)
class Headline:
    """What the home page shows for one alliance."""

    membership: Membership
    entries: int
    put_in: int
    revenue: int
    last_entry: date | None
    own_net: int | None


def headlines(session: Session, user: User) -> list[Headline]:
    memberships = memberships_of(session, user)
    ids = [m.alliance_id for m in memberships]
    stats: dict[int, tuple[int, int, int, date | None]] = {}
    if ids:
        put_in = func.sum(Entry.amount).filter(Entry.kind.in_(list(BORNE_KINDS)))
        revenue = func.sum(Entry.amount).filter(Entry.kind == EntryKind.REVENUE)
        for alliance_id, n, p, r, last in session.execute(
                select(Entry.alliance_id, func.count(), put_in, revenue, func.max(Entry.entry_date))
                .where(Entry.alliance_id.in_(ids)).group_by(Entry.alliance_id)):
            stats[alliance_id] = (int(n), int(p or 0), int(r or 0), last)
    result = []
    for m in memberships:
        n, p, r, last = stats.get(m.alliance_id, (0, 0, 0, None))
        own = None
        if m.role is MemberRole.PARTNER_MEMBER and m.partner_id and n:
            own = balance_sheet(session, m.alliance).row(m.partner_id).net
        result.append(Headline(m, n, p, r, last, own))
    return result


def activity_of(session: Session, alliance: Alliance, limit: int = 20) -> list[Activity]:
    return list(session.scalars(
        select(Activity).where(Activity.alliance_id == alliance.id)
        .order_by(Activity.id.desc()).limit(limit).options(joinedload(Activity.actor))))




@dataclass
class ActivityPage:
    rows: list[Activity]
    #: The ``seq`` to pass as ``before=`` for the next (older) page, or None on the last page.
    next_before: int | None


def activity_page(session: Session, alliance: Alliance, before: int | None = None, limit: int = 50) -> ActivityPage:
    """The feed newest first, paged by ``seq`` (a keyset: new events never shift an older page)."""
    stmt = select(Activity).where(Activity.alliance_id == alliance.id)
    if before is not None:
        stmt = stmt.where(Activity.seq < before)
    rows = list(session.scalars(stmt.order_by(Activity.seq.desc()).limit(limit + 1)
                                .options(joinedload(Activity.actor))))
    more = len(rows) > limit
    rows = rows[:limit]
    return ActivityPage(rows, rows[-1].seq if more and rows else None)
