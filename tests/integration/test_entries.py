"""Recording, reversing and settling up through the services, on both engines.

Every refusal must name the field at fault and leave the database exactly as it was; the services only
flush, so "nothing written" is checked inside the same session, where a flushed row would be visible.
"""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from sqlalchemy import func, select

from ledger import queries
from ledger.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from ledger.models import Activity, Entry, Membership, User
from ledger.services import alliances, entries
from tests.builders import TODAY, record


def who(session, case, key):
    return session.get(User, case.users[key].id), session.get(Membership, case.memberships[key].id)


def counts(session):
    return (session.scalar(select(func.count()).select_from(Entry)),
            session.scalar(select(func.count()).select_from(Activity)))


def good(case, **overrides):
    raw = {"date": "2020-05-01", "partner_id": case.pid("Alpha"), "kind": "cost",
           "category_id": case.cid("production"), "amount": "100.00", "description": "Fabric cutting",
           "reference": "INV-1"}
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not ...}


def refused(session, case, key, raw):
    """Record ``raw`` as ``key``; return the field errors and check nothing was written."""
    before = counts(session)
    user, membership = who(session, case, key)
    with pytest.raises(InvalidInput) as exc:
        entries.record_entry(session, user, membership, raw)
    assert counts(session) == before
    return exc.value.errors


@pytest.fixture
def foreign(session, case):
    """A partner and a category that exist, but in the outsider's alliance."""
    outsider = session.get(User, case.users["outsider"].id)
    membership = session.scalar(select(Membership).where(Membership.user_id == outsider.id))
    partner = alliances.add_partner(session, outsider, membership, {"name": "Zeta", "role": "other",
                                                                    "type": "other"})
    category = next(c for c in case.other.categories if c.name == "production")
    session.commit()
    return partner.id, category.id


def test_a_good_entry_is_recorded_with_its_pool(session, case):
    user, membership = who(session, case, "alpha")
    entry = entries.record_entry(session, user, membership, good(case, amount="1.234,56"))
    session.commit()
    assert entry.amount == 123456
    assert entry.pool.name == "Shared costs"
    assert entry.version.number == 1
    assert entry.recorded_by_id == user.id
    assert entry.reference == "INV-1"
    assert session.scalar(select(Activity.summary).order_by(Activity.id.desc()).limit(1)).endswith(f"(#{entry.id})")


BAD_FIELDS = [
    ("amount", {"amount": "abc"}, "not an amount"),
    ("amount", {"amount": "12.3456"}, "at most 2 decimals"),
    ("amount", {"amount": "0.125"}, "at most 2 decimals"),
    ("amount", {"amount": "12.345"}, "ambiguous"),
    ("amount", {"amount": "0"}, "zero"),
    ("amount", {"amount": "-5"}, "positive"),
    ("amount", {"amount": "1000000000.01"}, "over 1,000,000,000.00"),
    ("amount", {"amount": 12.5}, "decimal string"),
    ("amount", {"amount": ...}, "Enter an amount"),
    ("partner_id", {"partner_id": 999_999}, "Unknown partner"),
    ("partner_id", {"partner_id": "abc"}, "Unknown partner"),
    ("partner_id", {"partner_id": ...}, "Choose a partner"),
    # Past INTEGER's range PostgreSQL raised "integer out of range" (a 500); SQLite overflowed past 64 bits.
    ("partner_id", {"partner_id": 2**31}, "Unknown partner"),
    ("partner_id", {"partner_id": 10**30}, "Unknown partner"),
    ("partner_id", {"partner_id": -1}, "Unknown partner"),
    ("partner_id", {"partner_id": 1.0}, "Unknown partner"),
    ("partner_id", {"partner_id": [1]}, "Unknown partner"),
    ("category_id", {"category_id": "999999999999999999"}, "Unknown category"),
    ("category_id", {"category_id": "\u0661"}, "Unknown category"),  # an Arabic-Indic digit one
    ("category_id", {"category_id": 999_999}, "Unknown category"),
    ("category_id", {"category_id": ...}, "Choose a category"),
    ("kind", {"kind": "gift"}, "Choose a kind of entry"),
    ("date", {"date": "2020-03-31"}, "2020-04-01 to 2022-03-31"),
    ("date", {"date": "2022-04-01"}, "within the alliance's term"),
    ("date", {"date": "31/05/2020"}, "not a date"),
    ("date", {"date": ...}, "Enter a date"),
    ("description", {"description": "x" * 501}, "at most 500 characters"),
    ("description", {"description": "   "}, "Enter the description"),
    ("reference", {"reference": "r" * 301}, "at most 300 characters"),
    ("counterparty_id", {"counterparty_id": "2"}, "Only a settlement"),
]


def test_bad_input_names_the_field_and_writes_nothing(session, case):
    # One case build for all of them (a loop, not parametrize): the suite has to stay fast on both engines.
    for field, change, words in BAD_FIELDS:
        errors = refused(session, case, "coordinator", good(case, **change))
        assert list(errors) == [field], change
        assert words in errors[field], change


def test_every_bad_field_is_reported_at_once(session, case):
    errors = refused(session, case, "coordinator", good(case, amount="x", date="2019-01-01", description=""))
    assert set(errors) == {"amount", "date", "description"}


def test_partner_and_category_of_another_alliance(session, case, foreign):
    partner_id, category_id = foreign
    errors = refused(session, case, "coordinator", good(case, partner_id=partner_id, category_id=category_id))
    assert set(errors) == {"partner_id", "category_id"}
    assert "Unknown partner" in errors["partner_id"]
    assert "Unknown category" in errors["category_id"]
    errors = refused(session, case, "coordinator", good(case, kind="settlement", category_id=...,
                                                        counterparty_id=partner_id))
    assert list(errors) == ["counterparty_id"]


def test_settlement_counterparty(session, case):
    for counterparty, words in [(..., "needs the partner who received"),
                                (case.pid("Alpha"), "cannot settle with itself"),
                                (999_999, "Unknown counterparty")]:
        errors = refused(session, case, "alpha", good(case, kind="settlement", category_id=...,
                                                      counterparty_id=counterparty))
        assert list(errors) == ["counterparty_id"]
        assert words in errors["counterparty_id"]


def test_settlement_has_no_category(session, case):
    errors = refused(session, case, "alpha", good(case, kind="settlement", counterparty_id=case.pid("Beta")))
    assert list(errors) == ["category_id"]


def test_settlement_is_recorded_without_a_pool(session, case):
    entry = record(session, case, "alpha", partner="Alpha", kind="settlement", counterparty="Beta", amount="10")
    assert (entry.pool_id, entry.version_id, entry.category_id, entry.counterparty_id) == (
        None, None, None, case.pid("Beta"))


class TestRoles:
    def test_readers_may_not_record(self, session, case):
        for key in ("accountant", "steering"):
            user, membership = who(session, case, key)
            with pytest.raises(NotAllowed):
                entries.record_entry(session, user, membership, good(case))
        assert counts(session)[0] == 0

    def test_partner_member_only_for_own_partner(self, session, case):
        errors = refused(session, case, "alpha", good(case, partner_id=case.pid("Beta")))
        assert errors == {"partner_id": "You can record entries only for Alpha."}
        # ... and may settle with anyone, but only as the payer.
        assert record(session, case, "alpha", partner="Alpha", kind="settlement", counterparty="Beta",
                      amount="1").partner_id == case.pid("Alpha")
        errors = refused(session, case, "alpha", good(case, partner_id=case.pid("Beta"), kind="settlement",
                                                      category_id=..., counterparty_id=case.pid("Alpha")))
        assert list(errors) == ["partner_id"]

    def test_coordinator_for_anyone(self, session, case):
        for name in case.partners:
            assert record(session, case, "coordinator", partner=name, kind="cost", category="waste",
                          amount="1").partner_id == case.pid(name)

    def test_reversal_roles(self, session, case):
        entry = record(session, case, "beta", partner="Beta", kind="cost", category="waste", amount="5")
        for key in ("accountant", "steering", "alpha"):
            user, membership = who(session, case, key)
            with pytest.raises(NotAllowed):
                entries.reverse_entry(session, user, membership, entry, {}, TODAY)
        user, membership = who(session, case, "coordinator")
        assert entries.reverse_entry(session, user, membership, entry, {}, TODAY).reverses_id == entry.id


def test_huge_entry_ids_are_simply_not_found(session, case):
    assert queries.entry_in(session, case.alliance, 2**40) is None
    assert queries.membership_in(session, case.users["alpha"], 2**40) is None


class TestReversal:
    def test_links_negates_and_keeps_the_pool(self, session, case):
        entry = record(session, case, "alpha", partner="Alpha", kind="service_fee", category="certification",
                       amount="333.33", reference="CERT-7")
        user, membership = who(session, case, "alpha")
        reversal = entries.reverse_entry(session, user, membership, entry,
                                         {"date": "2020-07-01", "reason": "Wrong invoice"}, TODAY)
        session.commit()
        assert reversal.reverses_id == entry.id
        assert reversal.amount == -33333
        assert (reversal.pool_id, reversal.version_id, reversal.kind, reversal.category_id, reversal.partner_id) == (
            entry.pool_id, entry.version_id, entry.kind, entry.category_id, entry.partner_id)
        assert reversal.entry_date == date(2020, 7, 1)
        assert reversal.description == f"Reversal of #{entry.id}: Wrong invoice"
        assert reversal.reference == "CERT-7"
        assert queries.reversals_of(session, [entry.id]) == {entry.id: reversal.id}

    def test_defaults_to_today_pulled_into_the_term(self, session, case):
        entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="waste", amount="1")
        user, membership = who(session, case, "alpha")
        assert entries.reverse_entry(session, user, membership, entry, {}, date(2030, 1, 1)).entry_date == date(
            2022, 3, 31)

    def test_cannot_reverse_twice_or_reverse_a_reversal(self, session, case):
        entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="waste", amount="1")
        user, membership = who(session, case, "alpha")
        reversal = entries.reverse_entry(session, user, membership, entry, {}, TODAY)
        before = counts(session)
        with pytest.raises(Conflict, match="already reversed"):
            entries.reverse_entry(session, user, membership, entry, {}, TODAY)
        with pytest.raises(Conflict, match="itself a reversal"):
            entries.reverse_entry(session, user, membership, reversal, {}, TODAY)
        assert counts(session) == before

    def test_bad_reversal_input(self, session, case):
        entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="waste", amount="1")
        before = counts(session)
        user, membership = who(session, case, "alpha")
        for raw, field in [({"date": "2019-12-31"}, "date"), ({"date": "soon"}, "date"),
                           ({"reason": "r" * 201}, "reason")]:
            with pytest.raises(InvalidInput) as exc:
                entries.reverse_entry(session, user, membership, entry, raw, TODAY)
            assert list(exc.value.errors) == [field]
        assert counts(session) == before

    def test_entry_plus_reversal_leaves_the_balance_unchanged(self, session, case):
        record(session, case, "beta", partner="Beta", kind="contribution", category="machinery", amount="999.99")
        record(session, case, "alpha", partner="Alpha", kind="revenue", category="sales", amount="500.01")
        session.commit()
        before = queries.balance_sheet(session, case.alliance).rows
        user, membership = who(session, case, "coordinator")
        for kind, extra in [("service_fee", {"category": "distribution"}), ("revenue", {"category": "sales"}),
                            ("settlement", {"counterparty": "Alpha"})]:
            entry = record(session, case, "coordinator", partner="Omega", kind=kind, amount="123.45", **extra)
            entries.reverse_entry(session, user, membership, entry, {"date": "2020-09-01"}, TODAY)
        session.commit()
        assert queries.balance_sheet(session, case.alliance).rows == before


class TestSettleUp:
    def _book(self, session, case):
        record(session, case, "gamma", partner="Gamma", kind="contribution", category="raw materials",
               amount="1000.01")
        record(session, case, "alpha", partner="Alpha", kind="revenue", category="sales", amount="300")
        record(session, case, "omega", partner="Omega", kind="service_fee", category="distribution", amount="77.77")
        session.commit()
        return queries.balance_sheet(session, case.alliance)

    def test_recording_the_suggestion_zeroes_every_net(self, session, case):
        sheet = self._book(session, case)
        assert len(sheet.transfers) <= len(sheet.partners) - 1
        user, membership = who(session, case, "coordinator")
        created = entries.record_settle_up(session, user, membership,
                                           {"expected": entries.transfers_fingerprint(sheet.transfers),
                                            "date": "2020-12-31"}, TODAY)
        session.commit()
        assert [(e.partner_id, e.counterparty_id, e.amount) for e in created] == [
            (t.payer_id, t.payee_id, t.amount) for t in sheet.transfers]
        assert all(e.kind == "settlement" and e.entry_date == date(2020, 12, 31) for e in created)
        after = queries.balance_sheet(session, case.alliance)
        assert all(r.net == 0 for r in after.rows)
        user, membership = who(session, case, "coordinator")
        with pytest.raises(Conflict, match="nothing to settle"):
            entries.record_settle_up(session, user, membership, {"expected": "none"}, TODAY)

    def test_stale_suggestion_is_refused(self, session, case):
        sheet = self._book(session, case)
        stale = entries.transfers_fingerprint(sheet.transfers)
        record(session, case, "beta", partner="Beta", kind="cost", category="waste", amount="10")
        session.commit()
        fresh = queries.balance_sheet(session, case.alliance)
        before = counts(session)
        user, membership = who(session, case, "coordinator")
        with pytest.raises(Conflict, match="changed") as refused:
            entries.record_settle_up(session, user, membership, {"expected": stale}, TODAY)
        assert refused.value.fingerprint == entries.transfers_fingerprint(fresh.transfers)  # the current one
        assert counts(session) == before

    @pytest.mark.parametrize("raw", [{}, {"expected": ""}, {"expected": "  "}, {"expected": 5}])
    def test_the_suggestion_seen_is_required(self, session, case, raw):
        """Without the fingerprint a caller would record transfers it never saw."""
        self._book(session, case)
        before = counts(session)
        user, membership = who(session, case, "coordinator")
        with pytest.raises(InvalidInput) as refused:
            entries.record_settle_up(session, user, membership, raw, TODAY)
        assert list(refused.value.errors) == ["expected"]
        assert counts(session) == before

    def test_only_the_coordinator(self, session, case):
        sheet = self._book(session, case)
        for key in ("alpha", "accountant", "steering"):
            user, membership = who(session, case, key)
            with pytest.raises(NotAllowed):
                entries.record_settle_up(session, user, membership,
                                         {"expected": entries.transfers_fingerprint(sheet.transfers)}, TODAY)

    def test_date_outside_the_term(self, session, case):
        sheet = self._book(session, case)
        user, membership = who(session, case, "coordinator")
        before = counts(session)
        with pytest.raises(InvalidInput) as exc:
            entries.record_settle_up(session, user, membership, {
                "date": "2023-01-01", "expected": entries.transfers_fingerprint(sheet.transfers)}, TODAY)
        assert list(exc.value.errors) == ["date"]
        assert counts(session) == before


def test_an_entry_of_another_alliance_cannot_be_reversed(session, case, foreign):
    from ledger.services import agreements

    partner_id, category_id = foreign
    outsider = session.get(User, case.users["outsider"].id)
    theirs = session.scalar(select(Membership).where(Membership.user_id == outsider.id))
    agreements.create_version(session, outsider, theirs, {"effective_from": "2021-01-01", "pools": [
        {"name": "Costs", "side": "costs", "kinds": ["cost"], "categories": "all",
         "shares": [{"partner_id": partner_id, "weight": "1"}]}]})
    entry = entries.record_entry(session, outsider, theirs, {
        "date": "2021-02-01", "partner_id": partner_id, "kind": "cost", "category_id": category_id,
        "amount": "5", "description": "Theirs"})
    user, membership = who(session, case, "coordinator")
    with pytest.raises(NotFound):
        entries.reverse_entry(session, user, membership, entry, {}, TODAY)
    assert queries.entry_in(session, case.alliance, entry.id) is None


#: Whatever a JSON body can hold, in any field: each must be a field message, never a crash (a 500).
JUNK = [None, True, 0, -1, 2**40, 10**30, 1.5, float("nan"), "", " ", "x" * 5000, [], [1], {}, {"a": 1}, "\x00",
        "\u0663"]


def test_any_json_value_in_any_field_is_a_message_not_a_crash(session, case):
    entry = record(session, case, "coordinator", partner="Alpha", kind="cost", category="waste", amount="1")
    session.commit()
    settlement = {**good(case, kind="settlement", category_id=...), "counterparty_id": case.pid("Beta")}
    user, membership = who(session, case, "coordinator")
    for base, call in [
        (good(case), lambda raw: entries.record_entry(session, user, membership, raw)),
        (settlement, lambda raw: entries.record_entry(session, user, membership, raw)),
        ({"date": "2020-05-02", "reason": "x"},
         lambda raw: entries.reverse_entry(session, user, membership, entry, raw, TODAY)),
    ]:
        for key in base:
            for junk in JUNK:
                with contextlib.suppress(InvalidInput):  # refused with a message is fine
                    call({**base, key: junk})
                session.rollback()


def test_an_ended_alliance_is_named_at_the_date_with_the_other_errors(session, case):
    """The read-only check comes before the lock, with the rest: one answer names every field at fault."""
    alliance = session.get(Membership, case.memberships["alpha"].id).alliance
    alliance.ended_on = date(2020, 6, 1)
    session.flush()
    before = counts(session)
    with pytest.raises(InvalidInput) as refused:
        record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="12.3x",
               date="2020-05-20")
    assert set(refused.value.errors) == {"date", "amount"}
    assert "read-only" in refused.value.errors["date"]
    assert counts(session) == before
