"""The dashboard: balances per partner and period, and recording the settle-up through the page."""

from __future__ import annotations

import html
import re
from functools import partial

from sqlalchemy import func, select

from ledger.models import Alliance, Entry, Membership, User
from ledger.queries import balance_sheet
from ledger.services import entries
from ledger.services.alliances import add_member
from tests.builders import PASSWORD, record
from tests.races import race_for_the_lock


def nets(page: str) -> dict[str, int]:
    rows = re.findall(r'data-partner="(\w+)">.*?data-cents="(-?\d+)" data-figure="net"', page, re.S)
    return {name: int(cents) for name, cents in rows}


def expected_of(page: str) -> str:
    tag = re.search(r'<input[^>]*name="expected"[^>]*>', page).group(0)
    return html.unescape(re.search(r'value="([^"]*)"', tag).group(1))


def count_entries(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Entry))


def _books(session, case) -> None:
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1000",
           date="2020-04-10")
    record(session, case, "gamma", partner="Gamma", kind="service_fee", category="certification",
           amount="300.01", date="2020-05-10")
    record(session, case, "beta", partner="Beta", kind="revenue", category="sales", amount="2000",
           date="2020-06-10")
    session.commit()


def test_balance_table_for_the_whole_term_and_a_period(client, auth, session, case):
    _books(session, case)
    auth.login("steering")
    a = case.alliance.id
    page = client.get(f"/a/{a}/").get_data(as_text=True)
    # Costs 1300.01 shared 50/50 (one cent of rounding), revenue 2000 shared 50/50.
    assert nets(page) == {"Alpha": 100000 - 65001 + 100000, "Beta": -65000 - 100000, "Gamma": 30001, "Omega": 0}
    assert sum(nets(page).values()) == 0
    assert 'data-cents="0" data-figure="net_total"' in page
    assert "Latest entries" in page
    assert "recorded a sales revenue of EUR 2,000.00" in page  # the activity feed
    april = client.get(f"/a/{a}/?from=2020-04-01&to=2020-04-30").get_data(as_text=True)
    assert nets(april) == {"Alpha": 50000, "Beta": -50000, "Gamma": 0, "Omega": 0}
    assert "2020-04-01 to 2020-04-30" in april
    bad = client.get(f"/a/{a}/?from=notadate")
    assert bad.status_code == 400
    assert "is not a date" in bad.get_data(as_text=True)


def test_settle_up_through_the_page_brings_every_net_to_zero(client, auth, session, case):
    _books(session, case)
    auth.login("coordinator")
    a = case.alliance.id
    page = client.get(f"/a/{a}/").get_data(as_text=True)
    assert "Record these transfers" in page
    assert "Beta</strong> pays <strong>Alpha" in page
    before = count_entries(session)
    transfers = len(balance_sheet(session, case.alliance).transfers)
    response = client.post(f"/a/{a}/settle-up", data={"expected": expected_of(page), "date": "2020-07-01"})
    assert response.status_code == 302
    assert count_entries(session) == before + transfers
    after = client.get(f"/a/{a}/").get_data(as_text=True)
    assert set(nets(after).values()) == {0}
    assert "nobody owes anybody" in after
    assert all(r.net == 0 for r in balance_sheet(session, case.alliance).rows)
    # Nothing left to settle: a second post is a conflict, not a 500.
    assert client.post(f"/a/{a}/settle-up", data={"expected": "none"}).status_code == 409


def test_a_stale_settle_up_is_refused_and_writes_nothing(client, auth, session, case):
    _books(session, case)
    auth.login("coordinator")
    a = case.alliance.id
    stale = expected_of(client.get(f"/a/{a}/").get_data(as_text=True))
    record(session, case, "omega", partner="Omega", kind="service_fee", category="distribution", amount="10")
    session.commit()
    before = count_entries(session)
    response = client.post(f"/a/{a}/settle-up", data={"expected": stale})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "balances changed" in page
    assert count_entries(session) == before
    # The page shows the current suggestion, ready to review and record.
    current = entries.transfers_fingerprint(balance_sheet(session, case.alliance).transfers)
    assert expected_of(page) == current != stale
    assert "pays <strong>Omega" in page  # the fee recorded since is owed to Omega: the page shows it now
    assert client.post(f"/a/{a}/settle-up", data={"expected": current}).status_code == 302


def test_two_pages_settling_up_at_the_same_moment_record_once(app, session, case):
    """Two coordinators press "Record these transfers" on the same suggestion at once: one settles, the
    other is shown the current suggestion (nothing left), with a 409, and writes nothing."""
    _books(session, case)
    coordinator = session.get(User, case.users["coordinator"].id)
    alliance = session.get(Alliance, case.alliance.id)
    add_member(session, coordinator, session.get(Membership, case.memberships["coordinator"].id), {
        "email": "second@example.org", "name": "Second Coordinator", "password": PASSWORD + "-2nd",
        "role": "coordinator"})
    session.commit()
    a = case.alliance.id
    clients = [app.test_client(), app.test_client()]
    clients[0].post("/login", data={"email": "coordinator@example.org", "password": PASSWORD})
    clients[1].post("/login", data={"email": "second@example.org", "password": PASSWORD + "-2nd"})
    seen = [expected_of(c.get(f"/a/{a}/").get_data(as_text=True)) for c in clients]
    assert seen[0] == seen[1] != "none"
    before = count_entries(session)
    results: list[tuple[int, str]] = []

    def press(client) -> None:
        response = client.post(f"/a/{a}/settle-up", data={"expected": seen[0], "date": "2020-07-01"})
        results.append((response.status_code, response.get_data(as_text=True)))

    race_for_the_lock(app.extensions["ledger.sessions"], alliance.id, [partial(press, c) for c in clients])
    assert sorted(status for status, _ in results) == [302, 409]
    refused = next(page for status, page in results if status == 409)
    assert "balances changed" in refused
    assert "nobody owes anybody" in refused  # the current suggestion: nothing left to settle
    assert count_entries(session) == before + 2
    assert all(r.net == 0 for r in balance_sheet(session, case.alliance).rows)


def test_settle_up_date_outside_the_term_is_shown_at_the_date(client, auth, session, case):
    _books(session, case)
    auth.login("coordinator")
    a = case.alliance.id
    expected = expected_of(client.get(f"/a/{a}/").get_data(as_text=True))
    before = count_entries(session)
    response = client.post(f"/a/{a}/settle-up", data={"expected": expected, "date": "2023-01-01"})
    assert response.status_code == 422
    assert re.search(r'id="date-error">The date must be within', response.get_data(as_text=True))
    assert count_entries(session) == before
