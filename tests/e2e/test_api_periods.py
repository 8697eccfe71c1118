"""Periods, statements and sign-offs through /api/v1, every response held to the OpenAPI document."""

from __future__ import annotations

import pytest

from ledger.domain.money import to_decimal_string
from ledger.queries import balance_sheet
from tests.builders import record
from tests.e2e.api_support import Api, error_fields, make_tokens


@pytest.fixture
def api(app, client, session, case) -> Api:
    return Api(app, client, make_tokens(session, case))


def test_close_list_statement_and_sign(api, case, session):
    from datetime import date

    a = case.alliance.id
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="99.99",
           date="2020-04-03")
    session.commit()
    assert api.post(f"/alliances/{a}/periods", "alpha", json={"end_date": "2020-04-30"}).status_code == 403
    response = api.post(f"/alliances/{a}/periods", "accountant", json={"end_date": "2020-04-31"})
    assert response.status_code == 422
    assert "end_date" in error_fields(response)
    response = api.post(f"/alliances/{a}/periods", "accountant", json={"end_date": "2020-04-30"})
    assert response.status_code == 201, response.get_json()
    period = response.get_json()
    assert (period["start_date"], period["end_date"]) == ("2020-04-01", "2020-04-30")
    assert {p["status"] for p in period["partners"]} == {"pending"}

    response = api.post(f"/alliances/{a}/entries", "alpha", json={
        "date": "2020-04-20", "partner_id": case.pid("Alpha"), "kind": "cost",
        "category_id": case.cid("production"), "amount": "1", "description": "late"})
    assert response.status_code == 422
    assert "closed through 2020-04-30" in error_fields(response)["date"]

    url = f"/alliances/{a}/periods/{period['id']}/statements/{case.pid('Alpha')}"
    st = api.get(url, "alpha").get_json()
    sheet = balance_sheet(session, case.alliance, date(2020, 4, 1), date(2020, 4, 30))
    assert st["net"] == to_decimal_string(sheet.row(case.pid("Alpha")).net, "EUR")
    assert st["borne"] == "99.99"
    assert st["status"] == "pending"
    assert len(st["entries"]) == 1
    assert api.get(url, "beta").status_code == 403
    assert api.get(url, "steering").status_code == 200

    signoffs = f"/alliances/{a}/periods/{period['id']}/signoffs"
    response = api.post(signoffs, "beta", json={"partner_id": case.pid("Alpha"), "status": "signed"})
    assert response.status_code == 403
    response = api.post(signoffs, "alpha", json={"status": "disputed"})
    assert response.status_code == 422
    assert "comment" in error_fields(response)
    assert api.post(signoffs, "alpha", json={"status": "disputed", "comment": "Where is May?"}).status_code == 201
    assert api.post(signoffs, "alpha", json={"status": "signed"}).status_code == 201
    st = api.get(url, "alpha").get_json()
    assert st["status"] == "signed"
    assert [s["status"] for s in st["signoffs"]] == ["signed", "disputed"]
    listing = api.get(f"/alliances/{a}/periods", "steering").get_json()
    assert listing["closed_through"] == "2020-04-30"
    statuses = {p["partner"]: p["status"] for p in listing["periods"][0]["partners"]}
    assert statuses == {"Alpha": "signed", "Beta": "pending", "Gamma": "pending", "Omega": "pending"}
    assert api.get(f"/alliances/{a}/periods/{period['id']}", "alpha").status_code == 200
    assert api.get(f"/alliances/{a}/periods/999", "alpha").status_code == 404


def test_a_statements_entries_come_a_page_at_a_time(api, case, session):
    """limit and cursor walk a statement's entries newest first, as GET .../entries does, each exactly once."""
    a = case.alliance.id
    ids = [record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount=f"{n}",
                  date=f"2020-04-{n:02d}").id for n in range(1, 6)]
    record(session, case, "beta", partner="Beta", kind="cost", category="production", amount="8", date="2020-04-06")
    session.commit()
    period = api.post(f"/alliances/{a}/periods", "accountant", json={"end_date": "2020-04-30"}).get_json()
    url = f"/alliances/{a}/periods/{period['id']}/statements/{case.pid('Alpha')}"
    seen, cursor = [], None
    while True:
        page = api.get(url, "alpha", query={"limit": 2, **({"cursor": cursor} if cursor else {})}).get_json()
        assert page["entry_count"] == 5
        assert page["borne"] == "15.00"  # the figures are the whole period's on every page
        seen += [e["id"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    assert [e["id"] for e in api.get(url, "alpha").get_json()["entries"]] == ids[::-1]  # default limit: all 5
    for query in ({"limit": "0"}, {"limit": "x"}, {"cursor": "%%%"}):
        response = api.get(url, "alpha", query=query)
        assert response.status_code == 400, query
        assert set(query) == set(error_fields(response)), query
