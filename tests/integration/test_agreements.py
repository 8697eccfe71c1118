"""Split agreement versions through the services, on both engines.

A new version re-assigns the recorded entries dated inside its span (reversals follow their originals), is
refused if it would leave any of them in no pool, and an entry before the first version is refused.
"""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from sqlalchemy import func, select

from ledger import queries
from ledger.domain.errors import InvalidInput, NotAllowed
from ledger.models import AgreementVersion, Entry, Membership, Pool, User
from ledger.services import agreements, alliances, entries
from tests.builders import TODAY, fifty_fifty_pools, record


def who(session, case, key):
    return session.get(User, case.users[key].id), session.get(Membership, case.memberships[key].id)


def sixty_forty(case, **pool_overrides):
    shares = [{"partner_id": case.pid("Alpha"), "weight": "60%"}, {"partner_id": case.pid("Beta"), "weight": "40%"}]
    costs = {"name": "Costs 60/40", "side": "costs", "kinds": ["cost", "contribution", "service_fee"],
             "categories": "all", "shares": shares, **pool_overrides}
    returns = {"name": "Returns 60/40", "side": "returns", "kinds": ["revenue"], "categories": "all",
               "shares": shares}
    return [costs, returns]


def new_version(session, case, effective, pools, key="coordinator", note="Renegotiated at the 9-month review"):
    user, membership = who(session, case, key)
    return agreements.create_version(session, user, membership,
                                     {"effective_from": effective, "note": note, "pools": pools})


def versions(session):
    return session.scalar(select(func.count()).select_from(AgreementVersion)), session.scalar(
        select(func.count()).select_from(Pool))


def refused(session, case, effective, pools, key="coordinator", note=""):
    before = versions(session)
    with pytest.raises(InvalidInput) as exc:
        new_version(session, case, effective, pools, key, note)
    assert versions(session) == before
    return exc.value.errors


def test_the_case_version(session, case):
    (version,) = agreements.versions_of(session, case.alliance)
    assert (version.number, version.effective_from) == (1, date(2020, 4, 1))
    rules = agreements.rules_of(version)
    assert [r.name for r in rules] == ["Shared costs", "Returns"]
    assert all(r.categories is None for r in rules)
    assert rules[0].weights == {case.pid("Alpha"): 1, case.pid("Beta"): 1}


def test_weights_are_stored_exactly(session, case):
    pools = sixty_forty(case, shares=[{"partner_id": case.pid("Alpha"), "weight": "33.3333"},
                                      {"partner_id": case.pid("Beta"), "weight": "66.6667"}])
    version = new_version(session, case, "2020-10-01", pools)
    session.commit()
    session.expire_all()
    stored = agreements.rules_of(session.get(AgreementVersion, version.id))[0].weights
    assert {str(w) for w in stored.values()} == {"33.3333", "66.6667"}


def test_new_version_reassigns_entries_from_its_date_and_reversals_follow(session, case):
    early = record(session, case, "alpha", date="2020-09-30", partner="Alpha", kind="cost", category="waste",
                   amount="100.00")
    late = record(session, case, "alpha", date="2020-10-01", partner="Alpha", kind="cost", category="waste",
                  amount="100.00")
    revenue = record(session, case, "beta", date="2021-01-10", partner="Beta", kind="revenue", category="sales",
                     amount="1000.00")
    settlement = record(session, case, "beta", date="2020-12-01", partner="Beta", kind="settlement",
                        counterparty="Alpha", amount="5")
    user, membership = who(session, case, "alpha")
    # The early entry's reversal is dated after the new version: it must stay with its original (version 1).
    early_rev = entries.reverse_entry(session, user, membership, early, {"date": "2020-11-01"}, TODAY)
    late_rev = entries.reverse_entry(session, user, membership, late, {"date": "2020-10-02"}, TODAY)
    session.commit()
    ids = [e.id for e in (early, late, revenue, settlement, early_rev, late_rev)]

    v2 = new_version(session, case, "2020-10-01", sixty_forty(case))
    session.commit()
    assert v2.number == 2
    by_id = {e.id: e for e in session.scalars(select(Entry).where(Entry.id.in_(ids)))}
    early, late, revenue, settlement, early_rev, late_rev = (by_id[i] for i in ids)
    assert early.version.number == 1
    assert early.pool.name == "Shared costs"
    assert (early_rev.version_id, early_rev.pool_id) == (early.version_id, early.pool_id)
    assert late.version_id == v2.id
    assert late.pool.name == "Costs 60/40"
    assert (late_rev.version_id, late_rev.pool_id) == (late.version_id, late.pool_id)
    assert revenue.pool.name == "Returns 60/40"
    assert settlement.pool_id is None
    assert settlement.version_id is None
    # Revenue 1,000.00 now splits 600/400.
    sheet = queries.balance_sheet(session, case.alliance)
    assert sheet.row(case.pid("Alpha")).return_share == 60000
    assert sheet.row(case.pid("Beta")).return_share == 40000
    assert sheet.total("net") == 0


def test_a_version_between_two_others_takes_only_its_span(session, case):
    new_version(session, case, "2021-01-01", sixty_forty(case))
    dates = ["2020-06-30", "2020-07-01", "2020-12-31", "2021-01-01"]
    recorded = [record(session, case, "alpha", date=d, partner="Alpha", kind="cost", category="waste", amount="1")
                for d in dates]
    session.commit()
    ids = [e.id for e in recorded]
    middle = new_version(session, case, "2020-07-01", fifty_fifty_pools(case.partners), note="Summer")
    session.commit()
    numbers = [session.get(Entry, i).version.number for i in ids]
    assert numbers == [1, middle.number, middle.number, 2]
    assert middle.number == 3


def test_entries_record_under_the_version_in_force(session, case):
    new_version(session, case, "2020-10-01", sixty_forty(case))
    before = record(session, case, "alpha", date="2020-09-30", partner="Alpha", kind="cost", category="waste",
                    amount="1")
    after = record(session, case, "alpha", date="2020-10-01", partner="Alpha", kind="cost", category="waste",
                   amount="1")
    assert (before.version.number, after.version.number) == (1, 2)
    assert agreements.current_version(agreements.versions_of(session, case.alliance), date(2021, 1, 1)).number == 2
    assert agreements.current_version(agreements.versions_of(session, case.alliance), date(2020, 5, 1)).number == 1


def test_version_leaving_entries_uncovered_is_refused_naming_them(session, case):
    for _ in range(2):
        record(session, case, "beta", date="2020-11-05", partner="Beta", kind="contribution", category="machinery",
               amount="10")
    record(session, case, "alpha", date="2020-11-05", partner="Alpha", kind="service_fee", category="certification",
           amount="10")
    record(session, case, "alpha", date="2020-09-05", partner="Alpha", kind="cost", category="trading", amount="10")
    session.commit()
    only_waste = sixty_forty(case, categories=[case.cid("waste")], kinds=["cost"])
    errors = refused(session, case, "2020-10-01", only_waste)
    message = errors["pools"]
    assert "2 contribution entries in \u201cmachinery\u201d" in message
    assert "1 service fee entry in \u201ccertification\u201d" in message
    assert "trading" not in message  # dated before the new version: not its business
    # Nothing moved either.
    assert {e.version.number for e in session.scalars(select(Entry))} == {1}


def test_entry_that_no_pool_covers_is_refused(session, case):
    new_version(session, case, "2020-10-01", sixty_forty(case, categories=[case.cid("waste")]))
    user, membership = who(session, case, "alpha")
    with pytest.raises(InvalidInput) as exc:
        entries.record_entry(session, user, membership, {
            "date": "2020-10-05", "partner_id": case.pid("Alpha"), "kind": "cost",
            "category_id": case.cid("machinery"), "amount": "10", "description": "Spare parts"})
    assert list(exc.value.errors) == ["category_id"]
    assert "No pool of agreement version 2 covers a cost in \u201cmachinery\u201d" in exc.value.errors["category_id"]
    assert session.scalar(select(func.count()).select_from(Entry)) == 0


def test_entry_before_the_first_version_is_refused(session, case):
    user, _ = who(session, case, "coordinator")
    alliance = alliances.create_alliance(session, user, {
        "name": "Gowns 2020", "currency": "EUR", "start_date": "2020-04-01", "term_end": "2020-12-31"})
    membership = session.scalar(select(Membership).where(Membership.alliance_id == alliance.id))
    partner = alliances.add_partner(session, user, membership, {"name": "Alpha", "role": "protagonist",
                                                                "type": "supplier"})
    category = next(c for c in alliance.categories if c.name == "production")
    raw = {"date": "2020-05-01", "partner_id": partner.id, "kind": "cost", "category_id": category.id,
           "amount": "10", "description": "Cloth"}
    with pytest.raises(InvalidInput) as exc:
        entries.record_entry(session, user, membership, raw)
    assert exc.value.errors == {"date": "No split agreement is in force on 2020-05-01: the coordinator has not "
                                        "set one up yet."}
    shares = [{"partner_id": partner.id, "weight": "1"}]
    agreements.create_version(session, user, membership, {"effective_from": "2020-06-01", "pools": [
        {"name": "All costs", "side": "costs", "kinds": ["cost"], "categories": "all", "shares": shares}]})
    with pytest.raises(InvalidInput) as exc:
        entries.record_entry(session, user, membership, raw)
    assert exc.value.errors == {"date": "No split agreement is in force on 2020-05-01: the first one starts on "
                                        "2020-06-01."}
    assert entries.record_entry(session, user, membership, {**raw, "date": "2020-06-01"}).amount == 1000


def test_duplicate_effective_date(session, case):
    errors = refused(session, case, "2020-04-01", sixty_forty(case))
    assert errors == {"effective_from": "A version already takes effect on 2020-04-01."}


def test_bad_versions(session, case, foreign_partner):
    alpha, beta = case.pid("Alpha"), case.pid("Beta")

    def shares(*weights):
        return [{"partner_id": p, "weight": w} for p, w in zip((alpha, beta), weights, strict=False)]

    cases = [
        (sixty_forty(case, shares=shares("0", "1")), "pools-0-shares", "greater than zero"),
        (sixty_forty(case, shares=shares("-1", "1")), "pools-0-shares", "positive number"),
        (sixty_forty(case, shares=shares("abc", "1")), "pools-0-shares", "positive number"),
        (sixty_forty(case, shares=shares("1.23456", "1")), "pools-0-shares", "at most 4 decimals"),
        (sixty_forty(case, shares=[]), "pools-0-shares", "At least one partner"),
        (sixty_forty(case, shares=[{"partner_id": 999_999, "weight": "1"}]), "pools-0-shares", "Unknown partner"),
        (sixty_forty(case, shares=[{"partner_id": foreign_partner, "weight": "1"}]), "pools-0-shares",
         "Unknown partner"),
        (sixty_forty(case, shares=[{"partner_id": alpha, "weight": "1"}, {"partner_id": alpha, "weight": "2"}]),
         "pools-0-shares", "listed twice"),
        (sixty_forty(case, kinds=[]), "pools-0-kinds", "at least one kind"),
        (sixty_forty(case, kinds=["cost", "gift"]), "pools-0-kinds", "Choose a kind"),
        (sixty_forty(case, kinds=["cost", "settlement"]), "pools-0-kinds", "Settlements belong to no pool"),
        (sixty_forty(case, kinds=["revenue"]), "pools-0-kinds", "cannot cover revenue"),
        (sixty_forty(case, side="both"), "pools-0-side", "costs or returns"),
        (sixty_forty(case, name=""), "pools-0-name", "Enter the pool name"),
        (sixty_forty(case, name="n" * 121), "pools-0-name", "at most 120"),
        (sixty_forty(case, categories=[]), "pools-0-categories", "at least one category"),
        (sixty_forty(case, categories=[999_999]), "pools-0-categories", "Unknown category"),
        ([*sixty_forty(case), {**sixty_forty(case)[0], "name": "Again"}], "pools-2-kinds", "already in"),
        ([], "pools", "at least one pool"),
        ("not a list", "pools", "at least one pool"),
        (["not an object"], "pools-0", "Each pool is an object"),
    ]
    for pools, field, words in cases:
        errors = refused(session, case, "2020-10-01", pools)
        assert field in errors, (pools, errors)
        assert words in errors[field], (pools, errors)
    for effective, words in [("2020-03-31", "within the alliance's term"), ("2022-04-01", "term"),
                             ("", "Enter a date"), ("1 Oct", "not a date")]:
        errors = refused(session, case, effective, sixty_forty(case))
        assert words in errors["effective_from"]
    errors = refused(session, case, "2020-10-01", sixty_forty(case), note="n" * 1001)
    assert "at most 1000" in errors["note"]


@pytest.fixture
def foreign_partner(session, case):
    outsider = session.get(User, case.users["outsider"].id)
    membership = session.scalar(select(Membership).where(Membership.user_id == outsider.id))
    partner = alliances.add_partner(session, outsider, membership, {"name": "Zeta", "role": "other",
                                                                    "type": "other"})
    session.commit()
    return partner.id


def test_only_the_coordinator_changes_the_agreement(session, case):
    for key in ("alpha", "accountant", "steering"):
        with pytest.raises(NotAllowed):
            new_version(session, case, "2020-10-01", sixty_forty(case), key=key)
    assert versions(session) == (1, 2)


JUNK = [None, True, 0, -1, 2**40, 10**30, 1.5, float("nan"), "", " ", "x" * 5000, [], [1], {}, {"a": 1}, "\x00"]


def test_any_json_value_in_any_field_is_a_message_not_a_crash(session, case):
    user, membership = who(session, case, "coordinator")

    def attempt(raw):
        with contextlib.suppress(InvalidInput):  # refused with a message is fine
            agreements.create_version(session, user, membership, raw)
        session.rollback()

    base = {"effective_from": "2020-10-01", "note": "n", "pools": sixty_forty(case)}
    for junk in JUNK:
        for key in base:
            attempt({**base, key: junk})
        for key in base["pools"][0]:
            attempt({**base, "pools": sixty_forty(case, **{key: junk})})
        for share in ({"partner_id": case.pid("Alpha"), "weight": junk}, {"partner_id": junk, "weight": "1"}, junk):
            attempt({**base, "pools": sixty_forty(case, shares=[share])})
        attempt({**base, "pools": sixty_forty(case, kinds=[junk])})
        attempt({**base, "pools": sixty_forty(case, categories=[junk])})
