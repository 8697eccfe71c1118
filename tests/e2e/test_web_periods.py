"""Closing periods, statements and sign-offs through the pages; the dashboard's sign-off panel."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import select

from ledger.models import Membership, Period, User
from ledger.services.periods import close_period, dispute
from tests.builders import TODAY, record
from tests.e2e.test_web_entries import entry_form, error_at


@pytest.fixture(autouse=True)
def fixed_today(case_day):
    """Today is the builders' TODAY (2020-06-30), inside the case's term: case_day stops the app's clock."""


def closed_april(session, case) -> Period:
    user = session.get(User, case.users["accountant"].id)
    membership = session.get(Membership, case.memberships["accountant"].id)
    period = close_period(session, user, membership, {"end_date": "2020-04-30"}, today=TODAY)
    session.commit()
    return period


def alphas_april_statement(session, case) -> str:
    """April closed; the URL of Alpha's statement for it."""
    period = closed_april(session, case)
    return f"/a/{case.alliance.id}/periods/{period.id}/statements/{case.pid('Alpha')}"


def test_an_accountant_closes_a_month_from_the_form(client, auth, case, session):
    auth.login("accountant")
    page = client.get(f"/a/{case.alliance.id}/periods").get_data(as_text=True)
    assert 'value="2020-04-30"' in page  # the end of the first open month is offered
    response = client.post(f"/a/{case.alliance.id}/periods", data={"end_date": "2020-04-30"})
    assert response.status_code == 302
    session.rollback()
    assert session.scalars(select(Period.end_date)).all() == [date(2020, 4, 30)]
    response = client.post(f"/a/{case.alliance.id}/periods", data={"end_date": "2020-04-10"})
    assert response.status_code == 422
    assert "already closed through 2020-04-30" in error_at(response.get_data(as_text=True), "end_date")


def test_a_partner_member_cannot_close(client, auth, case):
    auth.login("alpha")
    assert "close-form" not in client.get(f"/a/{case.alliance.id}/periods").get_data(as_text=True)
    assert client.post(f"/a/{case.alliance.id}/periods", data={"end_date": "2020-04-30"}).status_code == 403


def test_an_entry_dated_in_a_closed_period_is_refused_at_the_date_field(client, auth, case, session):
    closed_april(session, case)
    auth.login("alpha")
    response = client.post(f"/a/{case.alliance.id}/entries/new", data=entry_form(case, date="2020-04-20"))
    assert response.status_code == 422
    assert "closed through 2020-04-30" in error_at(response.get_data(as_text=True), "date")


def test_the_reversal_form_defaults_to_an_open_day(client, auth, case, session):
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="5",
                   date="2020-04-03")
    session.commit()
    closed_april(session, case)
    auth.login("alpha")
    page = client.get(f"/a/{case.alliance.id}/entries/{entry.id}").get_data(as_text=True)
    assert 'value="2020-06-30"' in page
    response = client.post(f"/a/{case.alliance.id}/entries/{entry.id}/reverse", data={"date": "2020-04-30"})
    assert response.status_code == 422
    assert "closed period" in error_at(response.get_data(as_text=True), "date")


def test_statement_sign_dispute_and_dashboard_panel(client, auth, case, session):
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="123.45",
           date="2020-04-03")
    session.commit()
    url = alphas_april_statement(session, case)
    auth.login("alpha")
    page = client.get(url).get_data(as_text=True)
    assert "123.45" in page
    assert "signoff-form" in page
    response = client.post(url, data={"status": "disputed", "comment": ""})
    assert response.status_code == 422
    assert "needs a comment" in error_at(response.get_data(as_text=True), "comment")
    assert client.post(url, data={"status": "disputed", "comment": "Missing invoice"}).status_code == 302
    assert client.post(url, data={"status": "signed", "comment": ""}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Missing invoice" in page
    assert "superseded" in page
    dashboard = client.get(f"/a/{case.alliance.id}/").get_data(as_text=True)
    assert 'id="signoff-panel"' in dashboard
    assert 'data-partner="Alpha" data-status="signed"' in dashboard
    assert 'data-partner="Beta" data-status="pending"' in dashboard
    # Beta may neither read Alpha's statement nor sign it; the accountant reads it but cannot sign.
    auth.logout()
    auth.login("beta")
    assert client.get(url).status_code == 403
    assert client.post(url, data={"status": "signed"}).status_code == 403
    auth.logout()
    auth.login("accountant")
    page = client.get(url).get_data(as_text=True)
    assert "signoff-form" not in page
    assert client.post(url, data={"status": "signed"}).status_code == 403


def test_a_statement_lists_its_entries_a_page_at_a_time(app, client, auth, case, session):
    """A quarter of a large alliance holds tens of thousands of a partner's entries: the statement pages them
    as the ledger does (newest first, keyset cursor), counts all of them, and links to the filtered ledger."""
    app.config["PAGE_SIZE"] = 3
    listed = [record(session, case, "alpha", partner="Alpha", kind="cost", category="production",
                     amount=f"{day}.00", date=f"2020-04-{day:02d}").id for day in range(1, 8)]
    listed.append(record(session, case, "beta", partner="Beta", kind="settlement", counterparty="Alpha",
                         amount="10", date="2020-04-08").id)
    record(session, case, "beta", partner="Beta", kind="cost", category="production", amount="99",
           date="2020-04-09")
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="5",
           date="2020-05-02")
    session.commit()
    url = alphas_april_statement(session, case)
    auth.login("alpha")
    seen: list[int] = []
    page = client.get(url).get_data(as_text=True)
    assert "Entries (8)" in page  # seven costs of its own and Beta's payment; not Beta's cost, not May's
    assert 'rel="first"' not in page
    while True:
        seen += [int(i) for i in re.findall(r'data-entry-id="(\d+)"', page)]
        older = re.search(r'href="([^"]+)" rel="next">Older', page)
        if older is None:
            break
        page = client.get(html.unescape(older[1])).get_data(as_text=True)
        assert 'rel="first">« Newest' in page
        assert "signoff-form" in page  # every page of the statement can still be answered
    assert seen == listed[::-1]
    link = html.unescape(re.search(r'href="([^"]+)" id="statement-ledger-link"', page)[1])
    ledger = client.get(link).get_data(as_text=True)
    assert "<strong>8</strong> entries match" in ledger

    broken = client.get(url + "?before=garbage")
    assert broken.status_code == 400
    assert "page link is broken" in broken.get_data(as_text=True)
    assert 'id="before-error"' in broken.get_data(as_text=True)


def test_members_see_links_only_to_the_statements_they_may_open(client, auth, case, session):
    """A partner member's sign-off grid links its own statement only; the others' statuses are plain text.

    Every link on the periods page and the dashboard is followed: none may lead to a "Forbidden" page.
    """
    period = closed_april(session, case)
    statements = {name: f"/a/{case.alliance.id}/periods/{period.id}/statements/{case.pid(name)}"
                  for name in ("Alpha", "Beta", "Gamma", "Omega")}
    for who, linked in (("alpha", {"Alpha"}), ("beta", {"Beta"}), ("steering", set(statements)),
                        ("accountant", set(statements)), ("coordinator", set(statements))):
        auth.login(who)
        for page_url in (f"/a/{case.alliance.id}/periods", f"/a/{case.alliance.id}/"):
            page = client.get(page_url).get_data(as_text=True)
            grid = page[page.index('id="signoff-grid"'):]
            grid = grid[:grid.index("</table>")]
            assert {name for name, url in statements.items() if f'href="{url}"' in grid} == linked, (who, page_url)
            assert grid.count('data-status="pending"') == 4  # every status is still shown
            for href in set(re.findall(r'href="(/a/[^"#?]+)"', page)):
                assert client.get(html.unescape(href)).status_code == 200, (who, page_url, href)
        auth.logout()


def test_no_page_links_a_member_to_a_page_the_member_may_not_open(client, auth, case, session):
    """Every link of every page a member reaches from the dashboard (two clicks deep) opens for that member."""
    period = closed_april(session, case)
    user = session.get(User, case.users["alpha"].id)
    membership = session.get(Membership, case.memberships["alpha"].id)
    dispute(session, user, membership, session.get(Period, period.id), {"comment": "Where is May?"})
    record(session, case, "beta", partner="Beta", kind="cost", category="production", amount="12.34",
           date="2020-05-04")
    session.commit()
    start = f"/a/{case.alliance.id}/"
    for who in ("alpha", "steering", "accountant"):
        auth.login(who)
        seen, frontier = {start}, [start]
        for _ in range(2):
            found = []
            for url in frontier:
                page = client.get(url).get_data(as_text=True)
                for href in re.findall(r'href="(/a/[^"#?]+)', page):
                    href = html.unescape(href)
                    if href not in seen and not href.endswith("/events"):
                        seen.add(href)
                        found.append(href)
            frontier = found
            for url in found:
                assert client.get(url).status_code == 200, (who, url)
        auth.logout()
