"""Split agreement versions: creating one, and finding the pool an entry falls into.

A new version applies from its effective date to the next version's. Entries
already recorded in that span are re-assigned to the new version's pools in
the same transaction (their amounts, dates and partners never change), and
if any of them would fall into no pool the version is refused, naming them.

Nothing a new version does may change a closed period's figures. Its
effective date must lie after the last close, so every original it re-splits
is dated in an open period; their reversals follow them, and a reversal is
never dated before its original (``ledger.domain.reversals``), so they lie in
an open period too. Reversals recorded before that rule existed may be dated
before their originals: a version that would drag one of those, dated in a
closed period, to a new split is refused, naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import Session, aliased, selectinload

from ledger.domain.agreements import PoolRule, check_pools, parse_weight, pool_for
from ledger.domain.errors import FieldErrors, InvalidInput, NotAllowed
from ledger.domain.permissions import can_manage
from ledger.domain.text import clean_text
from ledger.domain.vocabulary import EntryKind, PoolSide
from ledger.models import (
    AgreementVersion,
    Alliance,
    Category,
    Entry,
    Membership,
    Pool,
    PoolCategory,
    PoolKind,
    PoolShare,
    User,
)
from ledger.services.activity import log
from ledger.services.alliances import parse_choice
from ledger.services.chain import append_link
from ledger.services.lookups import category_of, date_in_term, parse_id, partner_of, unknown_category
from ledger.services.periods import check_open, closed_through

MAX_POOLS = 20
NOTE_MAX = 1000


def versions_of(session: Session, alliance: Alliance) -> list[AgreementVersion]:
    """All versions, newest first, with pools, kinds, categories and shares loaded."""
    return list(session.scalars(
        select(AgreementVersion)
        .where(AgreementVersion.alliance_id == alliance.id)
        .order_by(AgreementVersion.effective_from.desc())
        .options(selectinload(AgreementVersion.pools).selectinload(Pool.kinds),
                 selectinload(AgreementVersion.pools).selectinload(Pool.categories),
                 selectinload(AgreementVersion.pools).selectinload(Pool.shares))))


def rules_of(version: AgreementVersion) -> list[PoolRule]:
    """The domain's view of a stored version's pools, keyed by pool id."""
    return [
        PoolRule(
            name=pool.name,
            side=pool.side,
            kinds=frozenset(k.kind for k in pool.kinds),
            categories=None if pool.all_categories else frozenset(c.category_id for c in pool.categories),
            weights={s.partner_id: s.weight for s in pool.shares},
            key=pool.id,
        )
        for pool in version.pools
    ]


@dataclass(frozen=True)
class Placement:
    """Where an entry falls: the version in force on its date and the pool of it that covers the entry."""

    version: AgreementVersion
    pool: Pool

    @property
    def version_id(self) -> int:
        return self.version.id

    @property
    def pool_id(self) -> int:
        return self.pool.id


def _category_and_pools() -> Select:
    """A category of the alliance, with the version in force on a day and each of its pools' kinds and
    categories: a row per combination (one row of NULLs after the category while no version is in force)."""
    in_force = (select(AgreementVersion.id)
                .where(AgreementVersion.alliance_id == bindparam("of_alliance"),
                       AgreementVersion.effective_from <= bindparam("on_day"))
                .order_by(AgreementVersion.effective_from.desc()).limit(1).scalar_subquery())
    return (select(Category, AgreementVersion, Pool, PoolKind.kind, PoolCategory.category_id)
            .select_from(Category)
            .outerjoin(AgreementVersion, AgreementVersion.id == in_force)
            .outerjoin(Pool, Pool.version_id == AgreementVersion.id)
            .outerjoin(PoolKind, PoolKind.pool_id == Pool.id)
            .outerjoin(PoolCategory, PoolCategory.pool_id == Pool.id)
            .where(Category.id == bindparam("of_category"), Category.alliance_id == bindparam("of_alliance"))
            .order_by(Pool.position))


#: Built once, as every entry recorded runs it (building it cost about as much as running it).
_CATEGORY_AND_POOLS = _category_and_pools()


@dataclass(frozen=True)
class InForce:
    """The agreement version in force on a day, with its pools as the domain's rules (keyed by pool id)."""

    day: date
    version: AgreementVersion | None
    pools: dict[int, Pool]
    rules: list[PoolRule]


def category_and_pools(session: Session, alliance: Alliance, value: object,
                       day: date | None) -> tuple[Category, InForce | None]:
    """``lookups.category_of`` and, when the entry's date is known, the pools in force on it, in one query.

    Recording an entry needs both, and each round trip costs CPU on both sides; :func:`find_pool` then
    picks the pool from them without another query.
    """
    if day is None:
        return category_of(session, alliance, value), None
    category_id = parse_id(value, "category_id", "category")
    rows = session.execute(_CATEGORY_AND_POOLS, {"of_alliance": alliance.id, "on_day": day,
                                                 "of_category": category_id}).all()
    if not rows:
        raise unknown_category(alliance, category_id)
    pools: dict[int, tuple[Pool, set, set]] = {}
    for _, _, pool, pool_kind, category_in_pool in rows:
        if pool is None or pool_kind is None:
            continue
        kinds, categories = pools.setdefault(pool.id, (pool, set(), set()))[1:]
        kinds.add(pool_kind)
        if category_in_pool is not None:
            categories.add(category_in_pool)
    rules = [PoolRule(name=pool.name, side=pool.side, kinds=frozenset(kinds),
                      categories=None if pool.all_categories else frozenset(categories), weights={}, key=pool.id)
             for pool, kinds, categories in pools.values()]
    return rows[0][0], InForce(day, rows[0][1], {pool_id: p[0] for pool_id, p in pools.items()}, rules)


def find_pool(session: Session, alliance: Alliance, in_force: InForce, kind: EntryKind,
              category: Category) -> Placement:
    """The version and pool an entry of this kind and category falls under on ``in_force.day``, or a field
    error (:func:`category_and_pools` read them; only the error for a date before any version queries)."""
    day = in_force.day
    if in_force.version is None or not in_force.rules:
        first = session.scalar(select(func.min(AgreementVersion.effective_from))
                               .where(AgreementVersion.alliance_id == alliance.id))
        hint = (f"the first one starts on {first.isoformat()}" if first
                else "the coordinator has not set one up yet")
        raise InvalidInput.at("date", f"No split agreement is in force on {day.isoformat()}: {hint}.")
    rule = pool_for(in_force.rules, kind, category.id)
    if rule is None:
        raise InvalidInput.at(
            "category_id",
            f"No pool of agreement version {in_force.version.number} covers a {kind.label} in "
            f"\u201c{category.name}\u201d, so it would count in nobody's balance. Choose another "
            f"category or ask the coordinator to extend the agreement.")
    return Placement(in_force.version, in_force.pools[rule.key])


def parse_pools(session: Session, alliance: Alliance, raw_pools: object) -> list[PoolRule]:
    """Raw pool dicts (from a form or JSON) into domain rules keyed by position."""
    if not isinstance(raw_pools, list) or not raw_pools:
        raise InvalidInput.at("pools", "An agreement version needs at least one pool.")
    if len(raw_pools) > MAX_POOLS:
        raise InvalidInput.at("pools", f"An agreement version can have at most {MAX_POOLS} pools.")
    errors = FieldErrors()
    rules: list[PoolRule] = []
    for i, raw in enumerate(raw_pools):
        prefix = f"pools-{i}-"
        if not isinstance(raw, dict):
            errors.add(f"pools-{i}", "Each pool is an object with name, side, kinds, categories and shares.")
            continue
        name = errors.check(prefix + "name", clean_text, raw.get("name"), prefix + "name",
                            max_len=120, label="pool name") or ""
        side = errors.check(prefix + "side", parse_choice, PoolSide, raw.get("side"),
                            prefix + "side", "side (costs or returns)")
        kinds = _parse_kinds(raw.get("kinds"), prefix + "kinds", errors)
        categories = _parse_categories(session, alliance, raw.get("categories"),
                                       prefix + "categories", errors)
        weights = _parse_shares(session, alliance, raw.get("shares"), prefix + "shares", errors)
        rules.append(PoolRule(name=name, side=side or PoolSide.COSTS, kinds=kinds,
                              categories=categories, weights=weights, key=i))
    errors.raise_if_any()
    check_pools(rules)
    return rules


def _parse_kinds(value: object, field: str, errors: FieldErrors) -> frozenset[EntryKind]:
    if not isinstance(value, list) or not value:
        errors.add(field, "Choose at least one kind of entry.")
        return frozenset()
    kinds = set()
    for item in value:
        kind = errors.check(field, parse_choice, EntryKind, item, field, "kind")
        if kind:
            kinds.add(kind)
    return frozenset(kinds)


def _parse_categories(session: Session, alliance: Alliance, value: object, field: str,
                      errors: FieldErrors) -> frozenset[int] | None:
    if value in (None, "all", ["all"]):
        return None
    if not isinstance(value, list) or not value:
        errors.add(field, "Choose at least one category, or all.")
        return frozenset()
    ids = set()
    for item in value:
        category = errors.check(field, category_of, session, alliance, item, field)
        if category:
            ids.add(category.id)
    return frozenset(ids)


def _parse_shares(session: Session, alliance: Alliance, value: object, field: str,
                  errors: FieldErrors) -> dict[int, Decimal]:
    if not isinstance(value, list) or not value:
        errors.add(field, "At least one partner must share the pool.")
        return {}
    weights: dict[int, Decimal] = {}
    for item in value:
        if not isinstance(item, dict):
            errors.add(field, "Each share is an object with partner_id and weight.")
            continue
        partner = errors.check(field, partner_of, session, alliance, item.get("partner_id"), field)
        weight = errors.check(field, parse_weight, item.get("weight"), field_name=field)
        if partner and weight is not None:
            if partner.id in weights:
                errors.add(field, f"{partner.name} is listed twice.")
            weights[partner.id] = weight
    return weights


def create_version(session: Session, actor: User, membership: Membership, raw: dict) -> AgreementVersion:
    if not can_manage(membership.role):
        raise NotAllowed("Only the alliance's coordinator can change the split agreement.")
    alliance = membership.alliance
    errors = FieldErrors()
    effective = errors.check("effective_from", date_in_term, alliance, raw.get("effective_from"),
                             "effective_from")
    if effective is not None:
        effective = errors.check("effective_from", check_open, session, alliance, effective, "effective_from")
    note = errors.check("note", clean_text, raw.get("note"), "note", max_len=NOTE_MAX, required=False)
    rules = errors.merge(parse_pools, session, alliance, raw.get("pools"))
    if effective and session.scalar(select(AgreementVersion.id).where(
            AgreementVersion.alliance_id == alliance.id, AgreementVersion.effective_from == effective)):
        errors.add("effective_from", f"A version already takes effect on {effective.isoformat()}.")
    errors.raise_if_any()
    # Before any insert: a refused version must leave nothing flushed behind, whatever the caller does next.
    _check_closed_periods_untouched(session, alliance, effective)
    _check_coverage(session, alliance, effective, rules)
    number = (session.scalar(select(func.max(AgreementVersion.number))
                             .where(AgreementVersion.alliance_id == alliance.id)) or 0) + 1
    version = AgreementVersion(alliance_id=alliance.id, number=number, effective_from=effective,
                               note=note or "", created_by_id=actor.id)
    session.add(version)
    session.flush()
    for position, rule in enumerate(rules):
        pool = Pool(version_id=version.id, position=position, name=rule.name.strip(), side=rule.side,
                    all_categories=rule.categories is None)
        pool.kinds = [PoolKind(kind=k) for k in sorted(rule.kinds)]
        pool.categories = [PoolCategory(category_id=c) for c in sorted(rule.categories or ())]
        pool.shares = [PoolShare(partner_id=p, weight=w) for p, w in rule.weights.items()]
        session.add(pool)
    session.flush()
    session.refresh(version)
    moved = _reassign_entries(session, alliance, version)
    log(session, alliance, actor, "agreement.version",
        f"{actor.name} created split agreement version {number}, effective from "
        f"{effective.isoformat()}" + (f"; {moved} recorded entries now split under it" if moved else ""))
    append_link(session, alliance, "agreement_version", version.id)
    if alliance.renegotiate_from is not None and effective >= alliance.renegotiate_from:
        # A "renegotiate" decision waits for exactly this: the new split agreement from its date.
        alliance.renegotiate_from = None
        log(session, alliance, actor, "alliance.renegotiated",
            f"The renegotiation is complete: split agreement version {number} applies from {effective.isoformat()}")
    return version


def _span(session: Session, alliance: Alliance, effective: date, entry: type[Entry] = Entry) -> list:
    """Conditions for the original (non-reversal, pooled) entries a version from ``effective`` governs
    (on ``entry``, an alias of ``Entry`` if the query needs one)."""
    next_start = session.scalar(select(func.min(AgreementVersion.effective_from)).where(
        AgreementVersion.alliance_id == alliance.id,
        AgreementVersion.effective_from > effective))
    span = [entry.alliance_id == alliance.id, entry.kind != EntryKind.SETTLEMENT,
            entry.reverses_id.is_(None), entry.entry_date >= effective]
    if next_start is not None:
        span.append(entry.entry_date < next_start)
    return span


def _check_closed_periods_untouched(session: Session, alliance: Alliance, effective: date) -> None:
    """Refuse, naming them, reversals dated in a closed period whose originals the version would re-split.

    ``effective`` is after the last close (checked under the alliance lock), so the originals it re-splits
    are all in open periods, and so are their reversals, never dated before them. Only a reversal recorded
    before that rule can lie in a closed period while its original does not; moving it would change the
    closed period's balance, statements and export.
    """
    closed = closed_through(session, alliance)
    if closed is None:
        return
    original = aliased(Entry)
    stranded = session.execute(
        select(Entry.id, Entry.entry_date, original.id, original.entry_date)
        .join(original, original.id == Entry.reverses_id)
        .where(*_span(session, alliance, effective, original), Entry.entry_date <= closed)
        .order_by(Entry.entry_date, Entry.id)).all()
    if stranded:
        named = "; ".join(f"#{r} of {day.isoformat()} reverses #{o} of {o_day.isoformat()}"
                          for r, day, o, o_day in stranded[:5])
        more = f" and {len(stranded) - 5} more" if len(stranded) > 5 else ""
        latest = max(o_day for *_, o_day in stranded)
        raise InvalidInput.at(
            "effective_from",
            f"A version from {effective.isoformat()} would re-split entries whose reversals are dated in the "
            f"period closed through {closed.isoformat()} ({named}{more}), and so change that period's figures. "
            f"Choose a date after {latest.isoformat()}.")


def _check_coverage(session: Session, alliance: Alliance, effective: date, rules: list[PoolRule]) -> None:
    """Refuse, naming them, recorded entries that no pool of the proposed version would cover."""
    groups = session.execute(
        select(Entry.kind, Entry.category_id, func.count()).where(*_span(session, alliance, effective))
        .group_by(Entry.kind, Entry.category_id)).all()
    _assignments(session, rules, groups)


def _assignments(session: Session, rules: list[PoolRule], groups) -> list[tuple[EntryKind, int, object, int]]:
    uncovered = []
    assignments: list[tuple[EntryKind, int, object, int]] = []
    for kind, category_id, count in groups:
        rule = pool_for(rules, kind, category_id)
        if rule is None:
            name = session.get(Category, category_id).name
            uncovered.append(f"{count} {kind.label} entr{'y' if count == 1 else 'ies'} in \u201c{name}\u201d")
        else:
            assignments.append((kind, category_id, rule.key, count))
    if uncovered:
        raise InvalidInput.at(
            "pools", "These recorded entries would fall into no pool of this version: "
            + "; ".join(uncovered) + ". Add a pool that covers them.")
    return assignments


def _reassign_entries(session: Session, alliance: Alliance, version: AgreementVersion) -> int:
    """Point entries dated inside the new version's span at its pools (coverage was checked before insert)."""
    span = _span(session, alliance, version.effective_from)
    groups = session.execute(
        select(Entry.kind, Entry.category_id, func.count()).where(*span)
        .group_by(Entry.kind, Entry.category_id)).all()
    assignments = _assignments(session, rules_of(version), groups)
    for kind, category_id, pool_id, _ in assignments:
        session.execute(update(Entry).where(*span, Entry.kind == kind, Entry.category_id == category_id)
                        .values(version_id=version.id, pool_id=pool_id)
                        .execution_options(synchronize_session=False))
    # Reversals follow their originals (so each pair still nets to zero); only the ones whose
    # original just moved are written.
    original = aliased(Entry)
    original_pool = select(original.pool_id).where(original.id == Entry.reverses_id).scalar_subquery()
    session.execute(
        update(Entry).where(Entry.alliance_id == alliance.id, Entry.reverses_id.is_not(None),
                            Entry.kind != EntryKind.SETTLEMENT, Entry.pool_id != original_pool)
        .values(version_id=select(original.version_id).where(original.id == Entry.reverses_id)
                .scalar_subquery(),
                pool_id=original_pool)
        .execution_options(synchronize_session=False))
    session.expire_all()
    return sum(a[3] for a in assignments)


def current_version(versions: Sequence[AgreementVersion], today: date) -> AgreementVersion | None:
    """The version in force today (or the first, before the term starts)."""
    in_force = [v for v in versions if v.effective_from <= today]
    if in_force:
        return max(in_force, key=lambda v: v.effective_from)
    return min(versions, key=lambda v: v.effective_from) if versions else None


