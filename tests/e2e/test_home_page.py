"""The home page: each of the user's alliances with its figures from the running totals, a page at a time."""

from __future__ import annotations

from lxml import html

from ledger import queries
from ledger.models import Alliance, User
from ledger.services import alliances
from tests.builders import record


def rows(client, query: str = ""):
    response = client.get("/" + query)
    assert response.status_code == 200
    doc = html.fromstring(response.get_data(as_text=True))
    return doc, [[" ".join(cell.text_content().split()) for cell in tr.xpath("./th|./td")]
                 for tr in doc.xpath("//table[@class='data']/tbody/tr")]


def _cost_and_revenue(session, case) -> None:
    """Alpha's cost of 1,000.00 in May, Beta's revenue of 250.50 in June (both home page tests start here)."""
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1000.00",
           date="2020-05-03")
    record(session, case, "beta", partner="Beta", kind="revenue", category="trading", amount="250.50",
           date="2020-06-20")


def test_a_partner_member_sees_the_figures_and_own_net(client, auth, session, case):
    _cost_and_revenue(session, case)
    record(session, case, "alpha", partner="Alpha", kind="contribution", category="production", amount="10.01",
           date="2020-04-11")
    session.commit()
    net = queries.balance_sheet(session, session.get(Alliance, case.alliance.id)).row(case.pid("Alpha")).net
    assert net != 0

    auth.login("alpha")
    _, [row] = rows(client)
    assert row[0].startswith("PPE masks 2020")
    assert row[1] == "partner member for Alpha"
    # Put in: the cost and the contribution; revenue: Beta's; the latest date; Alpha's net, signed.
    assert row[2:6] == ["3", "€1,010.01", "€250.50", "2020-06-20"]
    assert net == 63025
    assert row[6] == "+€630.25"


def test_the_coordinator_sees_the_same_figures_read_per_kind_and_no_net(client, auth, session, case):
    """A coordinator's figures come from the totals per kind, a partner member's from the finer rows."""
    _cost_and_revenue(session, case)
    record(session, case, "alpha", partner="Alpha", kind="settlement", counterparty="Beta", amount="40.00",
           date="2020-06-01")
    session.commit()
    auth.login("alpha")
    _, [as_partner] = rows(client)
    auth.logout()
    auth.login("coordinator")
    _, [as_coordinator] = rows(client)
    assert as_coordinator[2:6] == as_partner[2:6] == ["3", "€1,000.00", "€250.50", "2020-06-20"]
    assert as_coordinator[6] == "—"


def test_the_coordinator_has_no_own_net_and_an_empty_alliance_shows_zeros(client, auth, case):
    auth.login("coordinator")
    _, [row] = rows(client)
    assert row[2] == "0"
    assert row[5] == "—"
    assert row[6] == "—"


def test_many_alliances_come_a_page_at_a_time_by_name(app, client, auth, session, case):
    app.config["HOME_PAGE_SIZE"] = 2
    coordinator = session.get(User, case.users["coordinator"].id)
    for name in ("Zeta water", "Beta bridges", "Kappa clinics"):
        alliances.create_alliance(session, coordinator, {"name": name, "cause": "", "currency": "EUR",
                                                         "start_date": "2021-01-01", "term_end": "2021-12-31"})
    session.commit()
    auth.login("coordinator")

    doc, first = rows(client)
    assert [r[0].split(" EUR")[0] for r in first] == ["Beta bridges", "Kappa clinics"]
    assert " ".join(doc.get_element_by_id("home-range").text_content().split()) == "Alliances 1 to 2 of 4"
    assert doc.xpath("//nav[@class='pager']/a[@rel='next']/@href") == ["/?page=2"]

    doc, second = rows(client, "?page=2")
    assert [r[0].split(" EUR")[0] for r in second] == ["PPE masks 2020", "Zeta water"]
    assert doc.xpath("//nav[@class='pager']/a[@rel='prev']/@href") == ["/?page=1"]
    assert not doc.xpath("//nav[@class='pager']/a[@rel='next']")

    _, past_the_end = rows(client, "?page=99")
    assert past_the_end == second
    _, not_a_number = rows(client, "?page=-x")
    assert not_a_number == first
