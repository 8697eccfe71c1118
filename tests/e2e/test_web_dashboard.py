"""The dashboard: balances per partner and period, and recording the settle-up through the page."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from ledger.models import Entry
from ledger.queries import balance_sheet
from tests.builders import record


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
    assert "balances changed" in response.get_data(as_text=True)
    assert count_entries(session) == before


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
