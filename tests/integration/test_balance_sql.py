"""The SQL aggregate balance equals the reference computed entry by entry in Python, on both engines.

Random books (seeded, so a failure replays) are recorded through the services under two agreement
versions: the founding 50/50 and, from 2020-10-01, a 60/40 split with a separate machinery pool that Gamma
shares too. Part of the entries are recorded before version 2 exists (so they are re-assigned when it is
created), part after; some are reversed, some are settlements.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ledger import queries
from ledger.domain.agreements import version_in_force
from ledger.domain.balances import LedgerLine, balances_from_entries
from ledger.domain.money import to_decimal_string
from ledger.domain.vocabulary import EntryKind
from ledger.models import AgreementVersion, Entry, Membership, Pool, User
from ledger.services import agreements, entries

V2_FROM = date(2020, 10, 1)
START = date(2020, 4, 1)
KINDS = [EntryKind.COST, EntryKind.CONTRIBUTION, EntryKind.SERVICE_FEE, EntryKind.REVENUE, EntryKind.SETTLEMENT]


def _actor(session, case):
    return (session.get(User, case.users["coordinator"].id),
            session.get(Membership, case.memberships["coordinator"].id))


def _version_two(session, case):
    alpha, beta, gamma = case.pid("Alpha"), case.pid("Beta"), case.pid("Gamma")
    others = [cid for name, cid in ((n, c.id) for n, c in case.categories.items()) if name != "machinery"]
    pools = [
        {"name": "Costs", "side": "costs", "kinds": ["cost", "contribution", "service_fee"],
         "categories": others,
         "shares": [{"partner_id": alpha, "weight": "60%"}, {"partner_id": beta, "weight": "40%"}]},
        {"name": "Machinery", "side": "costs", "kinds": ["cost", "contribution", "service_fee"],
         "categories": [case.cid("machinery")],
         "shares": [{"partner_id": alpha, "weight": "1"}, {"partner_id": beta, "weight": "2.5"},
                    {"partner_id": gamma, "weight": "0.5"}]},
        {"name": "Returns", "side": "returns", "kinds": ["revenue"], "categories": "all",
         "shares": [{"partner_id": alpha, "weight": "60"}, {"partner_id": beta, "weight": "40"}]},
    ]
    agreements.create_version(session, *_actor(session, case),
                              {"effective_from": V2_FROM.isoformat(), "note": "Renegotiated", "pools": pools})


def _record_random(session, case, rnd: random.Random, count: int) -> None:
    actor, membership = _actor(session, case)
    names = list(case.partners)
    categories = list(case.categories)
    for _ in range(count):
        kind = rnd.choice(KINDS)
        partner = rnd.choice(names)
        raw = {
            "date": (START + timedelta(days=rnd.randrange(365))).isoformat(),
            "partner_id": case.pid(partner), "kind": kind.value,
            # Mostly small odd amounts, so the rounding of every pool is exercised.
            "amount": to_decimal_string(rnd.choice([rnd.randint(1, 999), rnd.randint(1, 10**8)]), "EUR"),
            "description": "random",
        }
        if kind is EntryKind.SETTLEMENT:
            raw["counterparty_id"] = case.pid(rnd.choice([n for n in names if n != partner]))
        else:
            raw["category_id"] = case.cid(rnd.choice(categories))
        entries.record_entry(session, actor, membership, raw)


def _reverse_some(session, case, rnd: random.Random, share: float) -> None:
    actor, membership = _actor(session, case)
    originals = list(session.scalars(select(Entry).where(Entry.alliance_id == case.alliance.id,
                                                         Entry.reverses_id.is_(None)).order_by(Entry.id)))
    reversed_ids = set(session.scalars(select(Entry.reverses_id).where(Entry.reverses_id.is_not(None))))
    for entry in originals:
        if entry.id not in reversed_ids and rnd.random() < share:
            day = entry.entry_date + timedelta(days=rnd.randrange(60))
            entries.reverse_entry(session, actor, membership, entry,
                                  {"date": min(day, case.alliance.term_end).isoformat()}, day)


def _reference(session, case, date_from=None, date_to=None):
    """Balances from every entry loaded one by one, with pools read through the ORM."""
    stmt = select(Entry).where(Entry.alliance_id == case.alliance.id)
    if date_from:
        stmt = stmt.where(Entry.entry_date >= date_from)
    if date_to:
        stmt = stmt.where(Entry.entry_date <= date_to)
    lines = [LedgerLine(e.partner_id, e.kind, e.amount, e.pool_id, e.counterparty_id) for e in session.scalars(stmt)]
    pools = {
        pool.id: (pool.side, {s.partner_id: s.weight for s in pool.shares})
        for pool in session.scalars(select(Pool).join(AgreementVersion)
                                    .where(AgreementVersion.alliance_id == case.alliance.id)
                                    .options(selectinload(Pool.shares)))
    }
    partner_ids = [p.id for p in sorted(case.partners.values(), key=lambda p: p.name)]
    return balances_from_entries(partner_ids, lines, pools)


def _check_assignment(session, case):
    """Every entry sits in the version in force on its date; a reversal sits with its original."""
    versions = list(session.scalars(select(AgreementVersion).where(AgreementVersion.alliance_id == case.alliance.id)))
    spans = [(v.id, v.effective_from) for v in versions]
    pool_version = dict(session.execute(select(Pool.id, Pool.version_id)).all())
    by_id = {e.id: e for e in session.scalars(select(Entry).where(Entry.alliance_id == case.alliance.id))}
    for entry in by_id.values():
        if entry.kind is EntryKind.SETTLEMENT:
            assert entry.pool_id is None
        elif entry.reverses_id is not None:
            original = by_id[entry.reverses_id]
            assert (entry.version_id, entry.pool_id) == (original.version_id, original.pool_id)
        else:
            assert entry.version_id == version_in_force(spans, entry.entry_date)
            assert pool_version[entry.pool_id] == entry.version_id


@pytest.mark.parametrize("seed", [7, 2020])
def test_sql_balance_equals_reference(session, case, seed):
    rnd = random.Random(seed)
    _record_random(session, case, rnd, 25)
    _reverse_some(session, case, rnd, 0.2)
    _version_two(session, case)  # re-assigns what was recorded from 2020-10-01 on
    _record_random(session, case, rnd, 25)
    _reverse_some(session, case, rnd, 0.2)
    session.commit()
    session.expire_all()

    _check_assignment(session, case)
    sheet = queries.balance_sheet(session, case.alliance)
    assert sheet.rows == _reference(session, case)
    assert sheet.total("net") == 0
    for date_from, date_to in [(None, V2_FROM - timedelta(days=1)), (V2_FROM, None),
                               (date(2020, 7, 15), date(2020, 11, 20))]:
        ranged = queries.balance_sheet(session, case.alliance, date_from, date_to)
        assert ranged.rows == _reference(session, case, date_from, date_to)
        assert ranged.total("net") == 0


def test_sixty_forty_from_the_later_date(session, case):
    """One 100.01 cost each side of 2020-10-01: 50.01/50.00 under version 1, 60.01/40.00 under version 2.

    Version 2's 60%/40% of 100.01 = 60.006/40.004: floors 60/40, the cent left over goes to Alpha (.006).
    Alpha's cost share = 50.01 + 60.01 = 110.02; Beta's = 50.00 + 40.00 = 90.00; Gamma bore 200.02.
    """
    _version_two(session, case)
    actor, membership = _actor(session, case)
    for day in ("2020-09-30", "2020-10-01"):
        entries.record_entry(session, actor, membership, {
            "date": day, "partner_id": case.pid("Gamma"), "kind": "cost", "category_id": case.cid("waste"),
            "amount": "100.01", "description": "Waste disposal"})
    session.commit()
    rows = {r.partner_id: r for r in queries.balance_sheet(session, case.alliance).rows}
    assert rows[case.pid("Alpha")].cost_share == 11002
    assert rows[case.pid("Beta")].cost_share == 9000
    assert rows[case.pid("Gamma")].net == 20002
    assert queries.balance_sheet(session, case.alliance).rows == _reference(session, case)
