"""Reading the running totals (``entry_totals``) for any period, and rebuilding or checking them.

Every read that needs sums over entries (balances, the ledger's count and totals, the home page, the
indicators) comes here with a period and optional filters, and gets the sums grouped by the columns it
names. The period is cut into whole months and loose days by :func:`ledger.domain.grains.segments`, so a
read touches at most a few thousand rows whatever the size of the books.

The triggers that keep the table (migration 0007) are the only writers; :func:`rebuild` recomputes an
alliance's rows from its entries (``flask ledger rebuild-totals``) and :func:`mismatches` compares the
all-time rows with a fresh aggregate of the entries (``flask ledger verify`` runs it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, and_, cast, delete, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import iterate

from ledger.domain.chain import TotalsGap
from ledger.domain.grains import ALL_TIME_START, Grain, Segment, segments
from ledger.models import Alliance, Category, Entry, EntryTotal, Partner, Pool

#: The columns a read can group by or filter on (0 stands for "none" in the optional ones).
OPTIONAL = ("counterparty_id", "pool_id", "category_id")


def _segment_condition(segment: Segment):
    parts = [EntryTotal.grain == segment.grain.value]
    if segment.grain in (Grain.ALL_TIME, Grain.ALL_TIME_SUMMED):
        # One period: saying so lets the database read the rows in key order, grouped without a sort.
        parts.append(EntryTotal.period_start == ALL_TIME_START)
    if segment.first is not None:
        parts.append(EntryTotal.period_start >= segment.first)
    if segment.last is not None:
        parts.append(EntryTotal.period_start <= segment.last)
    return and_(*parts)


def period_condition(alliance_ids: int | Sequence[int], date_from: date | None, date_to: date | None,
                     *, monthly: bool = False, by_category: bool = True) -> list:
    """WHERE clauses selecting the rows that add up to the entries of the period (of one or many alliances).

    ``monthly`` reads the whole term month by month (never the all-time rows), for series by month. Without
    ``by_category`` (no category grouped by or filtered on), the whole term is read off the all-time rows
    with the categories summed together, several times fewer.
    """
    parts = segments(date_from, date_to)
    if parts and parts[0].grain is Grain.ALL_TIME:
        if monthly:
            parts = [Segment(Grain.MONTH)]
        elif not by_category:
            parts = [Segment(Grain.ALL_TIME_SUMMED)]
    where = [EntryTotal.alliance_id == alliance_ids if isinstance(alliance_ids, int)
             else EntryTotal.alliance_id.in_(alliance_ids)]
    if not parts:
        return [*where, literal(False)]
    where.append(or_(*(_segment_condition(s) for s in parts)) if len(parts) > 1 else _segment_condition(parts[0]))
    return where


def _mentions_category(clauses: Iterable[Any]) -> bool:
    """Whether a filter reads ``category_id`` (then the all-time rows without categories cannot serve it)."""
    table = EntryTotal.__table__
    return any(getattr(node, "table", None) is table and getattr(node, "name", None) == "category_id"
               for clause in clauses for node in iterate(clause))


def sums(session: Session, alliance_ids: int | Sequence[int], columns: Iterable[str], date_from: date | None = None,
         date_to: date | None = None, where: Iterable[Any] = (), *, monthly: bool = False) -> list[tuple]:
    """``(*columns, entries, amount)`` per group of the period; the optional ids come back None for none.

    One alliance, or many at once (name ``"alliance_id"`` among the columns to tell them apart). With
    ``monthly``, ``"period_start"`` among the columns gives each row's month (or day, for the loose days
    at the ends of the period): callers map it to its month.
    """
    names = list(columns)
    cols = [getattr(EntryTotal, name) for name in names]
    where = list(where)
    by_category = "category_id" in names or _mentions_category(where)
    # The database hands back the rows as callers take them: None for "none", and the sums as bigint
    # (PostgreSQL sums a bigint to a numeric, which the driver would make a Decimal: a home page's
    # thousand rows took 4.4 ms to fetch that way, 1.8 ms as bigint).
    shown = [func.nullif(col, 0).label(name) if name in OPTIONAL else col
             for name, col in zip(names, cols, strict=True)]
    rows = session.connection().execute(  # Core, not the ORM: these are plain tuples, not entities
        select(*shown, cast(func.sum(EntryTotal.entries), BigInteger), cast(func.sum(EntryTotal.amount), BigInteger))
        .where(*period_condition(alliance_ids, date_from, date_to, monthly=monthly, by_category=by_category),
               *where)
        .group_by(*cols)).all()  # one fetch, not a round of the cursor per row
    return [tuple(row) for row in rows]


def partner_condition(partner_id: int):
    """The rows of entries a partner is on either side of (as in the ledger's partner filter)."""
    return or_(EntryTotal.partner_id == partner_id, EntryTotal.counterparty_id == partner_id)


def latest_entry_dates(session: Session, alliance_ids: Sequence[int]) -> dict[int, date | None]:
    """Each alliance's latest entry date: one probe of ``ix_entries_ledger`` per alliance, not a scan."""
    if not alliance_ids:
        return {}
    latest = (select(func.max(Entry.entry_date)).where(Entry.alliance_id == Alliance.id)
              .correlate(Alliance).scalar_subquery())
    return dict(session.execute(select(Alliance.id, latest).where(Alliance.id.in_(alliance_ids))).all())


# --- Keeping the table right ------------------------------------------------------------------------------


def _grain_select(session: Session, grain: Grain, alliance_id: int | None):
    """The totals of ``grain`` aggregated afresh from the entries (what the triggers should have written)."""
    if grain in (Grain.ALL_TIME, Grain.ALL_TIME_SUMMED):
        start = literal(ALL_TIME_START)
    elif grain is Grain.DAY:
        start = Entry.entry_date
    elif session.get_bind().dialect.name == "postgresql":
        start = func.cast(func.date_trunc("month", Entry.entry_date), Entry.entry_date.type)
    else:
        start = func.substr(Entry.entry_date, 1, 8).concat("01")
    keys = [Entry.alliance_id, literal(grain.value), start, Entry.kind, Entry.partner_id,
            func.coalesce(Entry.counterparty_id, 0), func.coalesce(Entry.pool_id, 0),
            literal(0) if grain is Grain.ALL_TIME_SUMMED else func.coalesce(Entry.category_id, 0)]
    stmt = select(*keys, func.count(), func.sum(Entry.amount)).group_by(*keys)
    return stmt if alliance_id is None else stmt.where(Entry.alliance_id == alliance_id)


COLUMNS = ("alliance_id", "grain", "period_start", "kind", "partner_id", "counterparty_id", "pool_id",
           "category_id", "entries", "amount")


def rebuild(session: Session, alliance_id: int | None = None) -> None:
    """Recompute the totals of one alliance (or all) from the entries, in the caller's transaction."""
    stmt = delete(EntryTotal)
    session.execute(stmt if alliance_id is None else stmt.where(EntryTotal.alliance_id == alliance_id))
    table = EntryTotal.__table__
    for grain in Grain:
        session.execute(table.insert().from_select(COLUMNS, _grain_select(session, grain, alliance_id)))


def mismatches(session: Session, alliance_id: int) -> list[TotalsGap]:
    """How the all-time totals (with and without categories) differ from the entries themselves (empty: agree).

    The entries are aggregated once, per category; the rows without categories are checked against that
    aggregate summed over the categories, not against a second pass over every entry. A figure off in a
    category is off in the categories' sum too: it is named once, by its category.
    """
    fresh: dict[tuple, tuple[int, int]] = {
        tuple(r[3:-2]): (int(r[-2]), int(r[-1])) for r in session.execute(_grain_select(session, Grain.ALL_TIME,
                                                                                       alliance_id))}
    summed: dict[tuple, tuple[int, int]] = {}
    for (*key, _), (count, amount) in fresh.items():
        before = summed.get((*key, 0), (0, 0))
        summed[(*key, 0)] = (before[0] + count, before[1] + amount)
    off: list[tuple[tuple, tuple[int, int], tuple[int, int], bool]] = []
    for grain, expected in ((Grain.ALL_TIME, fresh), (Grain.ALL_TIME_SUMMED, summed)):
        stored = {tuple(r[:-2]): (int(r[-2]), int(r[-1])) for r in session.execute(
            select(EntryTotal.kind, EntryTotal.partner_id, EntryTotal.counterparty_id, EntryTotal.pool_id,
                   EntryTotal.category_id, EntryTotal.entries, EntryTotal.amount)
            .where(EntryTotal.alliance_id == alliance_id, EntryTotal.grain == grain.value))}
        named = {key[:4] for key, _, _, _ in off}
        for key in sorted(set(stored) | set(expected), key=str):
            have, want = stored.get(key, (0, 0)), expected.get(key, (0, 0))
            if have != want and (grain is Grain.ALL_TIME or key[:4] not in named):
                off.append((key, have, want, grain is Grain.ALL_TIME_SUMMED))
    return _named(session, alliance_id, off) if off else []


def _named(session: Session, alliance_id: int,
           off: list[tuple[tuple, tuple[int, int], tuple[int, int], bool]]) -> list[TotalsGap]:
    """The gaps with the partners, pools and categories named as people know them."""
    alliance = session.get(Alliance, alliance_id)
    partners = dict(session.execute(select(Partner.id, Partner.name).where(Partner.alliance_id == alliance_id)).all())
    categories = dict(session.execute(select(Category.id, Category.name)
                                      .where(Category.alliance_id == alliance_id)).all())
    pool_ids = {key[3] for key, _, _, _ in off if key[3]}
    pools = dict(session.execute(select(Pool.id, Pool.name).where(Pool.id.in_(pool_ids))).all()) if pool_ids else {}

    def name(names: dict[int, str], record_id: int, what: str) -> str:
        return names.get(record_id) or f"{what} #{record_id}"

    return [TotalsGap(kind.value, partner, name(partners, partner, "partner"), counterparty or None,
                      name(partners, counterparty, "partner") if counterparty else None, pool or None,
                      name(pools, pool, "pool") if pool else None, category or None,
                      name(categories, category, "category") if category else None,
                      have[0], have[1], want[0], want[1], alliance.currency, summed)
            for (kind, partner, counterparty, pool, category), have, want, summed in off]
