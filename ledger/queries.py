"""The read side: balances from the running totals, ledger pages by keyset, and what each page lists.

The balance never reads entries: the running totals (:mod:`ledger.totals`)
yield the sums per kind, partner, counterparty and pool for the period, and
:mod:`ledger.domain.balances` turns those few dozen rows into exact balances.
A ledger page reads its 50 entries off the keyset index of its filter. So no
page costs more with a million entries than with a thousand (README, "How the
cost grows").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import bindparam, func, select, tuple_
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from ledger import totals
from ledger.db import MAX_ID
from ledger.domain.balances import PartnerBalance, Sums
from ledger.domain.settle_up import Transfer, settle_up
from ledger.domain.vocabulary import BORNE_KINDS, EntryKind, MemberRole, PoolSide
from ledger.models import (
    Activity,
    AgreementVersion,
    Alliance,
    Entry,
    EntryTotal,
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


Weights = dict[int, tuple[PoolSide, dict[int, Decimal]]]


def pool_weights(session: Session, alliance: Alliance) -> Weights:
    """Side and weights of every pool of every agreement version of the alliance."""
    return pool_weights_of(session, [alliance.id]).get(alliance.id, {})


def pool_weights_of(session: Session, alliance_ids: list[int]) -> dict[int, Weights]:
    """:func:`pool_weights` of many alliances in one query, by alliance id."""
    rows = session.execute(
        select(AgreementVersion.alliance_id, Pool.id, Pool.side, PoolShare.partner_id, PoolShare.weight)
        .join(AgreementVersion, AgreementVersion.id == Pool.version_id)
        .join(PoolShare, PoolShare.pool_id == Pool.id)
        .where(AgreementVersion.alliance_id.in_(alliance_ids))
        .order_by(Pool.id, PoolShare.partner_id))
    weights: dict[int, Weights] = defaultdict(dict)
    for alliance_id, pool_id, side, partner_id, weight in rows:
        weights[alliance_id].setdefault(pool_id, (side, {}))[1][partner_id] = weight
    return weights


def balance_sheet(session: Session, alliance: Alliance, date_from: date | None = None,
                  date_to: date | None = None) -> BalanceSheet:
    grouped = totals.sums(session, alliance.id, ("kind", "partner_id", "counterparty_id", "pool_id"),
                          date_from, date_to)
    weights = pool_weights(session, alliance) if grouped else {}
    return _sheet(alliance, partners_of(session, alliance), grouped, weights, date_from, date_to)


def _sheet(alliance: Alliance, partners: list[Partner], grouped: list[tuple], weights: Weights,
           date_from: date | None = None, date_to: date | None = None) -> BalanceSheet:
    """The balance sheet from sums per (kind, partner, counterparty, pool): ``(..., entries, amount)`` rows."""
    rows, entry_count = _balances([p.id for p in partners], grouped, weights)
    transfers = settle_up({r.partner_id: r.net for r in rows})
    return BalanceSheet(alliance, partners, rows, date_from, date_to, transfers, entry_count)


def _balances(partner_ids: list[int], grouped: list[tuple], weights: Weights) -> tuple[list[PartnerBalance], int]:
    """Every partner's balance and the number of entries, from sums per (kind, partner, counterparty, pool)."""
    sums = Sums()
    entry_count = 0
    for kind, partner_id, counterparty_id, pool_id, count, total in grouped:
        entry_count += count
        sums.add(kind, partner_id, counterparty_id, pool_id, total)
    return sums.balances(partner_ids, weights), entry_count


@dataclass(frozen=True)
class LedgerFilter:
    partner_id: int | None = None
    kind: EntryKind | None = None
    category_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def conditions(self, alliance: Alliance) -> list:
        """On the entries (the partner either side: see :func:`ledger_page` for how that is read)."""
        where = [Entry.alliance_id == alliance.id]
        if self.partner_id is not None:
            where.append((Entry.partner_id == self.partner_id) | (Entry.counterparty_id == self.partner_id))
        return where + self._attribute_conditions()

    def _attribute_conditions(self) -> list:
        where = []
        if self.kind is not None:
            where.append(Entry.kind == self.kind)
        if self.category_id is not None:
            where.append(Entry.category_id == self.category_id)
        return _period(where, self.date_from, self.date_to)

    def totals_conditions(self) -> list:
        """The same filter on the running totals (the period is applied by :func:`ledger.totals.sums`)."""
        where = []
        if self.partner_id is not None:
            where.append(totals.partner_condition(self.partner_id))
        if self.kind is not None:
            where.append(EntryTotal.kind == self.kind)
        if self.category_id is not None:
            where.append(EntryTotal.category_id == self.category_id)
        return where


@dataclass
class LedgerPage:
    entries: list[Entry]
    reversed_by: dict[int, int]
    next_cursor: tuple[date, int] | None
    count: int
    totals: dict[EntryKind, int]


def _page_keys(session: Session, alliance: Alliance, filters: LedgerFilter, before: tuple[date, int] | None,
               limit: int) -> list[tuple[date, int]]:
    """The (date, id) of up to ``limit`` entries of the page, newest first, off the filter's keyset index.

    A partner is on either side of an entry; an OR of the two columns would make the database scan the
    alliance's entries for the page, so each side is read off its own index and the two lists merged.
    """
    keyset = [] if before is None else [tuple_(Entry.entry_date, Entry.id) < tuple_(*before)]
    base = [Entry.alliance_id == alliance.id, *filters._attribute_conditions(), *keyset]
    sides: list[list] = [[]]
    if filters.partner_id is not None:
        sides = [[Entry.partner_id == filters.partner_id]]
        # Only a settlement has a counterparty (and no category): with another kind or a category asked
        # for, that side is empty, and reading it would scan the kind's or category's index for nothing.
        if filters.kind in (None, EntryKind.SETTLEMENT) and filters.category_id is None:
            sides.append([Entry.counterparty_id == filters.partner_id])
    keys: set[tuple[date, int]] = set()
    for side in sides:
        keys.update(session.execute(select(Entry.entry_date, Entry.id).where(*base, *side)
                                    .order_by(Entry.entry_date.desc(), Entry.id.desc()).limit(limit)).all())
    return sorted(keys, reverse=True)[:limit]


def ledger_page(session: Session, alliance: Alliance, filters: LedgerFilter,
                before: tuple[date, int] | None = None, limit: int = 50, with_totals: bool = True) -> LedgerPage:
    """Newest first, ``limit`` entries older than the cursor ``before`` (keyset, not OFFSET).

    The count and totals of the filtered set come from the running totals, not the entries; callers
    that show only the entries (the dashboard's latest ten) skip them with ``with_totals=False``.
    """
    keys = _page_keys(session, alliance, filters, before, limit + 1)
    more = len(keys) > limit
    keys = keys[:limit]
    ids = [entry_id for _, entry_id in keys]
    loaded = {e.id: e for e in session.scalars(
        select(Entry).where(Entry.id.in_(ids))
        .options(joinedload(Entry.partner), joinedload(Entry.counterparty), joinedload(Entry.category),
                 joinedload(Entry.recorded_by), joinedload(Entry.pool)))} if ids else {}
    entries = [loaded[i] for i in ids]
    cursor = keys[-1] if more and keys else None
    kinds = totals.sums(session, alliance.id, ("kind",), filters.date_from, filters.date_to,
                        filters.totals_conditions()) if with_totals else []
    return LedgerPage(
        entries=entries,
        reversed_by=reversals_of(session, ids),
        next_cursor=cursor,
        count=sum(count for _, count, _ in kinds),
        totals={kind: total for kind, _, total in kinds},
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


#: Built once: every request to an alliance's pages or API runs it.
_MEMBERSHIP = (select(Membership)
               .where(Membership.user_id == bindparam("of_user"), Membership.alliance_id == bindparam("of_alliance"))
               .options(joinedload(Membership.alliance), joinedload(Membership.partner)))


def membership_in(session: Session, user: User, alliance_id: int) -> Membership | None:
    if not 0 < alliance_id <= MAX_ID:
        return None
    return session.scalar(_MEMBERSHIP, {"of_user": user.id, "of_alliance": alliance_id})


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


@dataclass(frozen=True)
class HeadlinePage:
    """One page of the home page's list: the user's alliances by name, ``size`` at a time."""

    headlines: list[Headline]
    page: int
    pages: int
    total: int


def headline_page(session: Session, user: User, page: int = 1, size: int = 50) -> HeadlinePage:
    """The user's alliances on page ``page`` (clamped to the pages there are) with their figures.

    A user may belong to a thousand alliances (an operator, a firm in many); the figures are worked out
    for the page's alliances only, so the page costs the same with one alliance or a thousand.
    """
    total = session.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == user.id)) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    # The page is cut from all the user's memberships sorted by alliance name: the join that sorts them
    # also loads the alliances, and the partners are read for the page's rows only, after the cut.
    memberships = list(session.scalars(
        select(Membership).join(Membership.alliance).where(Membership.user_id == user.id)
        .order_by(Alliance.name, Alliance.id).limit(size).offset((page - 1) * size)
        .options(contains_eager(Membership.alliance), selectinload(Membership.partner))))
    return HeadlinePage(headlines(session, memberships), page, pages, total)


def headlines(session: Session, memberships: list[Membership]) -> list[Headline]:
    """The figures of these memberships' alliances: a fixed number of queries however many there are.

    The all-time totals give the counts and sums: per kind where that is all the page shows, and per
    (kind, partner, counterparty, pool) in the alliances where the user is a partner member, whose own
    nets (:func:`own_nets`) are worked out from them. The latest dates take one index probe per alliance.
    """
    ids = [m.alliance_id for m in memberships]
    own = [m for m in memberships if m.role is MemberRole.PARTNER_MEMBER and m.partner_id]
    grouped: dict[int, list[tuple]] = defaultdict(list)
    by_kind: list[tuple] = []  # (alliance, kind, entries, amount)
    if own:
        for alliance_id, *row in totals.sums(session, [m.alliance_id for m in own],
                                             ("alliance_id", "kind", "partner_id", "counterparty_id", "pool_id")):
            grouped[alliance_id].append(tuple(row))
            by_kind.append((alliance_id, row[0], row[-2], row[-1]))
    own_ids = {m.alliance_id for m in own}
    if others := [i for i in ids if i not in own_ids]:
        by_kind += totals.sums(session, others, ("alliance_id", "kind"))
    stats: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for alliance_id, kind, count, total in by_kind:
        figures = stats[alliance_id]
        figures[0] += count
        if kind in BORNE_KINDS:
            figures[1] += total
        elif kind is EntryKind.REVENUE:
            figures[2] += total
    latest = totals.latest_entry_dates(session, [i for i in ids if stats[i][0]])
    nets = own_nets(session, [m for m in own if stats[m.alliance_id][0]], grouped)
    result = []
    for m in memberships:
        n, p, r = stats[m.alliance_id]
        result.append(Headline(m, n, p, r, latest.get(m.alliance_id), nets.get(m.alliance_id)))
    return result


def own_nets(session: Session, memberships: list[Membership], grouped: dict[int, list[tuple]]) -> dict[int, int]:
    """Each membership's partner's whole-term net in its alliance, by alliance id (the home page's column).

    ``grouped``: each alliance's all-time sums per (kind, partner, counterparty, pool), as
    :func:`ledger.totals.sums` gives them; the partner ids and pool weights of all the alliances take a
    query each. No sheet is built: the page shows one figure an alliance.
    """
    if not memberships:
        return {}
    ids = [m.alliance_id for m in memberships]
    partner_ids: dict[int, list[int]] = defaultdict(list)
    for alliance_id, partner_id in session.execute(select(Partner.alliance_id, Partner.id)
                                                   .where(Partner.alliance_id.in_(ids))):
        partner_ids[alliance_id].append(partner_id)
    weights = pool_weights_of(session, ids)
    nets = {}
    for m in memberships:
        rows, _ = _balances(partner_ids[m.alliance_id], grouped[m.alliance_id], weights[m.alliance_id])
        nets[m.alliance_id] = next(r.net for r in rows if r.partner_id == m.partner_id)
    return nets


def activity_of(session: Session, alliance: Alliance, limit: int = 20) -> list[Activity]:
    """The newest events, off the unique (alliance_id, seq) index (seq and id rise together in an alliance)."""
    return list(session.scalars(
        select(Activity).where(Activity.alliance_id == alliance.id)
        .order_by(Activity.seq.desc()).limit(limit).options(joinedload(Activity.actor))))



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
