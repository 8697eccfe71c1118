"""The demo alliance is the case, built through the real services, and loading it again changes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.demo import ALLIANCE_NAME, DEMO_PASSWORD, find_demo, load_demo, plan
from ledger.domain.vocabulary import EntryKind, MemberRole, PartnerRole
from ledger.models import Activity, Base, Entry, Membership, Partner
from ledger.queries import balance_sheet

PRODUCTION_STARTS = date(2020, 5, 18)


@pytest.fixture
def demo(session: Session):
    created, logins = load_demo(session)
    session.commit()
    assert created
    return find_demo(session), logins


def _counts(session: Session) -> dict[str, int]:
    return {table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables}


def test_the_plan_is_the_same_on_every_run():
    assert plan() == plan()


def test_loading_creates_the_case_alliance(session, demo):
    alliance, logins = demo
    assert alliance.name == ALLIANCE_NAME
    # The 3-month review renewed the alliance, extending the term by a quarter.
    assert (alliance.currency, alliance.start_date, alliance.term_end) == ("EUR", date(2020, 4, 1), date(2022, 6, 30))
    assert "masks" in alliance.cause
    roles = {p.name: p.role for p in session.scalars(select(Partner).where(Partner.alliance_id == alliance.id))}
    assert roles == {"Alpha": PartnerRole.PROTAGONIST, "Beta": PartnerRole.PROTAGONIST,
                     "Gamma": PartnerRole.SUPPLIER, "Omega": PartnerRole.SECONDARY}
    members = session.scalars(select(Membership).where(Membership.alliance_id == alliance.id)).all()
    by_email = {m.user.email: m for m in members}
    assert sorted(by_email) == sorted(email for email, _ in logins)
    assert {by_email[f"{p.lower()}@ppe-masks.example"].partner.name for p in roles} == set(roles)
    assert sorted(m.role for m in members if m.partner_id is None) == sorted(
        [MemberRole.COORDINATOR, MemberRole.ACCOUNTANT, MemberRole.STEERING_MEMBER])


def test_the_entries_read_like_the_first_nine_months(session, demo):
    alliance, _ = demo
    rows = session.scalars(select(Entry).where(Entry.alliance_id == alliance.id)).all()
    assert 250 <= len(rows) <= 350
    assert all(date(2020, 4, 1) <= e.entry_date <= date(2020, 12, 31) for e in rows)
    kinds = {e.kind for e in rows}
    assert kinds == set(EntryKind)
    categories = {(e.partner.name, e.kind, e.category.name) for e in rows if e.category}
    for expected in [("Beta", EntryKind.COST, "machinery"), ("Beta", EntryKind.CONTRIBUTION, "machinery"),
                     ("Gamma", EntryKind.COST, "raw materials"), ("Alpha", EntryKind.SERVICE_FEE, "certification"),
                     ("Omega", EntryKind.SERVICE_FEE, "distribution"), ("Alpha", EntryKind.REVENUE, "sales"),
                     ("Beta", EntryKind.REVENUE, "grants"), ("Beta", EntryKind.COST, "waste")]:
        assert expected in categories
    sales = [e for e in rows if e.kind is EntryKind.REVENUE and e.category.name == "sales"]
    assert min(e.entry_date for e in sales) > PRODUCTION_STARTS
    assert all(e.partner.name == "Alpha" for e in sales)
    # every activity record a person would leave is there too
    assert session.scalar(select(func.count()).select_from(Activity).where(
        Activity.alliance_id == alliance.id, Activity.action.like("entry.%"))) == len(rows)


def test_reversals_have_a_reason_and_net_to_zero(session, demo):
    alliance, _ = demo
    reversals = session.scalars(select(Entry).where(Entry.alliance_id == alliance.id,
                                                    Entry.reverses_id.is_not(None))).all()
    assert reversals
    for reversal in reversals:
        original = reversal.reverses
        assert reversal.amount == -original.amount
        assert (reversal.pool_id, reversal.partner_id, reversal.kind) == (
            original.pool_id, original.partner_id, original.kind)
        assert reversal.entry_date >= original.entry_date
        assert reversal.description.startswith(f"Reversal of #{original.id}: ")
    assert any("incentive never came" in r.description for r in reversals)


def test_settlements_and_balances_add_up(session, demo):
    alliance, _ = demo
    settlements = session.scalars(select(Entry).where(Entry.alliance_id == alliance.id,
                                                      Entry.kind == EntryKind.SETTLEMENT)).all()
    assert any(s.description == "Settle-up transfer" for s in settlements)
    assert any(s.partner.name == "Alpha" and s.counterparty.name == "Beta" for s in settlements)
    sheet = balance_sheet(session, alliance)
    assert sum(r.net for r in sheet.rows) == 0
    assert sheet.total("cost_share") == sum(e.amount for e in session.scalars(
        select(Entry).where(Entry.alliance_id == alliance.id, Entry.pool_id.is_not(None),
                            Entry.kind != EntryKind.REVENUE)))
    # the settle-up at the three-month review squared everyone on its day
    review = balance_sheet(session, alliance, date_to=date(2020, 7, 15))
    assert [r.net for r in review.rows] == [0, 0, 0, 0]
    # Gamma and Omega are paid per service: they share no pool, so they bear nothing of the others' costs
    for name in ("Gamma", "Omega"):
        row = sheet.row(next(p.id for p in sheet.partners if p.name == name))
        assert (row.cost_share, row.return_share) == (0, 0)
        assert row.net > 0  # December's invoices are still open


def test_loading_twice_changes_nothing(session, demo):
    before = _counts(session)
    created, logins = load_demo(session)
    session.commit()
    assert not created
    assert logins == demo[1]
    assert _counts(session) == before
    assert before["entries"] > 0


def test_demo_users_can_log_in(app, demo):
    for email, _ in demo[1]:
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        assert response.headers["Location"] == "/"
        assert client.get("/").status_code == 200
    coordinator = app.test_client()
    coordinator.post("/login", data={"email": demo[1][0][0], "password": DEMO_PASSWORD})
    page = coordinator.get(f"/a/{demo[0].id}/")
    assert page.status_code == 200
    assert all(name in page.get_data(as_text=True) for name in ("Alpha", "Beta", "Gamma", "Omega"))


def test_a_hand_made_user_with_a_demo_email_is_kept(session):
    from ledger.services import users

    users.create_user(session, "accountant@ppe-masks.example", "Somebody Else", "their own password")
    session.commit()
    created, _ = load_demo(session)
    session.commit()
    user = users.user_by_email(session, "accountant@ppe-masks.example")
    assert created
    assert user.name == "Somebody Else"
    assert users.authenticate(session, user.email, "their own password") is user
    assert session.scalar(select(Membership.role).where(Membership.user_id == user.id)) is MemberRole.ACCOUNTANT
