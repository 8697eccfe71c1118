"""Recording, listing, filtering, paginating and reversing ledger entries through /api/v1."""

from __future__ import annotations

import pytest

from ledger.models import Entry
from tests.builders import record
from tests.e2e.api_support import Api, error_fields, make_tokens, row_counts


@pytest.fixture
def api(app, client, session, case) -> Api:
    return Api(app, client, make_tokens(session, case))


def entry_body(case, **changes) -> dict:
    return {"date": "2020-05-04", "partner_id": case.pid("Alpha"), "kind": "cost",
            "category_id": case.cid("production"), "amount": "1234.56", "description": "Cutting blades",
            "reference": "INV-17", **changes}


def test_record_an_entry_and_read_it_back(api, case):
    a = case.alliance.id
    response = api.post(f"/alliances/{a}/entries", "alpha", json=entry_body(case))
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/alliances/{a}/entries/{body['id']}"
    assert body == {
        "id": body["id"], "date": "2020-05-04", "partner_id": case.pid("Alpha"), "partner": "Alpha",
        "kind": "cost", "category_id": case.cid("production"), "category": "production", "amount": "1234.56",
        "description": "Cutting blades", "reference": "INV-17", "counterparty_id": None, "counterparty": None,
        "agreement_version": 1, "pool": "Shared costs", "reverses_id": None, "reversed_by_id": None,
        "recorded_by": "Alpha User", "recorded_at": body["recorded_at"],
    }
    assert body["recorded_at"].endswith("Z")
    assert api.get(f"/alliances/{a}/entries/{body['id']}", "accountant").get_json() == body


def test_a_coordinator_records_for_any_partner_and_a_settlement_has_a_counterparty(api, case):
    a = case.alliance.id
    response = api.post(f"/alliances/{a}/entries", "coordinator", json=entry_body(
        case, partner_id=str(case.pid("Beta")), kind="settlement", category_id=None,
        counterparty_id=case.pid("Alpha"), amount="50", reference=""))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["partner"], body["counterparty"], body["amount"]) == ("Beta", "Alpha", "50.00")
    assert (body["category"], body["pool"], body["agreement_version"]) == (None, None, None)


@pytest.mark.parametrize(("amount", "stored"), [("1,234.56", 123456), ("1.234,56", 123456), (7, 700),
                                                ("0.5", 50)])
def test_amounts_are_exact_from_strings_and_whole_integers(api, case, session, amount, stored):
    response = api.post(f"/alliances/{case.alliance.id}/entries", "alpha", json=entry_body(case, amount=amount))
    assert response.status_code == 201, response.get_json()
    session.rollback()
    assert session.get(Entry, response.get_json()["id"]).amount == stored


def test_every_bad_field_is_refused_at_that_field_and_nothing_is_written(api, case, session):
    path = f"/alliances/{case.alliance.id}/entries"
    cases = [
        ({"amount": "twelve"}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"amount": 1e3}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "0.001"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "1000000000.01"}, "amount"),
        ({"amount": "1e400"}, "amount"),
        ({"amount": 10**40}, "amount"),
        ({"amount": None}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": ["1.00"]}, "amount"),
        ({"partner_id": 999999}, "partner_id"),
        ({"partner_id": "abc"}, "partner_id"),
        ({"partner_id": 10**30}, "partner_id"),
        ({"partner_id": None}, "partner_id"),
        ({"partner_id": "\u00b2"}, "partner_id"),
        ({"partner_id": -1}, "partner_id"),
        ({"category_id": 999999}, "category_id"),
        ({"category_id": None}, "category_id"),
        ({"category_id": 2.5}, "category_id"),
        ({"kind": "gift"}, "kind"),
        ({"kind": {"a": 1}}, "kind"),
        ({"date": "2020-03-31"}, "date"),
        ({"date": "2022-04-01"}, "date"),
        ({"date": "04/05/2020"}, "date"),
        ({"date": 20200504}, "date"),
        ({"description": ""}, "description"),
        ({"description": "x" * 501}, "description"),
        ({"description": "bad\x07bell"}, "description"),
        ({"reference": "x" * 301}, "reference"),
        ({"reference": 17}, "reference"),
        ({"kind": "settlement", "category_id": None}, "counterparty_id"),
        ({"kind": "settlement", "category_id": None, "counterparty_id": ""}, "counterparty_id"),
        ({"kind": "settlement", "category_id": None, "counterparty_id": case.pid("Alpha")}, "counterparty_id"),
        ({"kind": "settlement", "category_id": None, "counterparty_id": 999999}, "counterparty_id"),
        ({"kind": "settlement", "counterparty_id": case.pid("Beta")}, "category_id"),
        ({"counterparty_id": case.pid("Beta")}, "counterparty_id"),
    ]
    before = row_counts(session)
    for changes, field in cases:
        response = api.post(path, "coordinator", json=entry_body(case, **changes))
        assert response.status_code == 422, (changes, response.get_json())
        assert field in error_fields(response), (changes, error_fields(response))
    assert row_counts(session) == before


def test_an_unknown_alliance_is_404_and_writes_nothing(api, case, session):
    before = row_counts(session)
    assert api.post("/alliances/999999/entries", "coordinator", json=entry_body(case)).status_code == 404
    assert row_counts(session) == before


def test_all_field_errors_come_back_at_once(api, case):
    response = api.post(f"/alliances/{case.alliance.id}/entries", "coordinator",
                        json={"amount": "x", "date": "no", "kind": "gift"})
    assert response.status_code == 422
    assert {"amount", "date", "kind", "partner_id", "description"} <= set(error_fields(response))


def test_an_entry_no_pool_covers_is_refused_at_the_category(api, case, session):
    api.post(f"/alliances/{case.alliance.id}/agreement/versions", "coordinator", json={
        "effective_from": "2020-06-01",
        "pools": [{"name": "Production only", "side": "costs", "kinds": ["cost"],
                   "categories": [case.cid("production")],
                   "shares": [{"partner_id": case.pid("Alpha"), "weight": "1"}]}]})
    before = row_counts(session)
    response = api.post(f"/alliances/{case.alliance.id}/entries", "alpha",
                        json=entry_body(case, date="2020-07-01", category_id=case.cid("waste")))
    assert response.status_code == 422
    assert "category_id" in error_fields(response)
    assert row_counts(session) == before


def _seed(session, case) -> list[Entry]:
    rows = [
        record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="100.00",
               date="2020-04-10"),
        record(session, case, "beta", partner="Beta", kind="revenue", category="sales", amount="50.00",
               date="2020-05-10"),
        record(session, case, "gamma", partner="Gamma", kind="cost", category="raw materials", amount="30.00",
               date="2020-05-20"),
        record(session, case, "coordinator", partner="Beta", kind="settlement", counterparty="Gamma",
               amount="10.00", date="2020-06-01"),
        record(session, case, "alpha", partner="Alpha", kind="contribution", category="machinery",
               amount="200.00", date="2020-06-15"),
        record(session, case, "omega", partner="Omega", kind="service_fee", category="distribution",
               amount="40.00", date="2020-06-15"),
        record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="5.00",
               date="2020-07-01"),
    ]
    session.commit()
    return rows


def test_list_is_newest_first_with_count_and_totals(api, case, session):
    rows = _seed(session, case)
    body = api.get(f"/alliances/{case.alliance.id}/entries", "steering").get_json()
    assert [e["id"] for e in body["entries"]] == [
        rows[6].id, rows[5].id, rows[4].id, rows[3].id, rows[2].id, rows[1].id, rows[0].id]
    assert body["count"] == 7
    assert body["next_cursor"] is None
    assert body["totals"] == {"contribution": "200.00", "cost": "135.00", "revenue": "50.00",
                              "service_fee": "40.00", "settlement": "10.00"}


def test_filters(api, case, session):
    rows = _seed(session, case)
    path = f"/alliances/{case.alliance.id}/entries"

    def ids(**query):
        response = api.get(path, "accountant", query=query)
        assert response.status_code == 200, response.get_json()
        return {e["id"] for e in response.get_json()["entries"]}

    assert ids(partner_id=case.pid("Gamma")) == {rows[2].id, rows[3].id}  # its own and one paid to it
    assert ids(kind="cost") == {rows[0].id, rows[2].id, rows[6].id}
    assert ids(category_id=case.cid("production")) == {rows[0].id, rows[6].id}
    assert ids(**{"from": "2020-05-10", "to": "2020-06-01"}) == {rows[1].id, rows[2].id, rows[3].id}
    assert ids(partner_id=case.pid("Alpha"), kind="cost", **{"from": "2020-05-01"}) == {rows[6].id}
    body = api.get(path, "accountant", query={"kind": "cost"}).get_json()
    assert (body["count"], body["totals"]) == (3, {"cost": "135.00"})


def test_pagination_walks_every_entry_once(api, case, session):
    rows = _seed(session, case)
    path = f"/alliances/{case.alliance.id}/entries"
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = api.get(path, "alpha", query=query).get_json()
        pages += 1
        assert len(body["entries"]) <= 3
        assert body["count"] == 7
        seen.extend(e["id"] for e in body["entries"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(r.id for r in rows)
    assert len(set(seen)) == 7


def test_bad_filters_are_400_at_the_parameter(api, case, session):
    path = f"/alliances/{case.alliance.id}/entries"
    for query, field in [
        ({"partner_id": "abc"}, "partner_id"), ({"partner_id": "999999"}, "partner_id"),
        ({"category_id": "999999"}, "category_id"), ({"kind": "gift"}, "kind"),
        ({"from": "2020-13-01"}, "from"), ({"to": "yesterday"}, "to"),
        ({"from": "2020-06-01", "to": "2020-05-01"}, "to"),
        ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"limit": "ten"}, "limit"),
        ({"limit": "-1"}, "limit"), ({"limit": "\u00b2"}, "limit"), ({"partner_id": "\u00b2"}, "partner_id"),
        ({"cursor": "garbage!"}, "cursor"), ({"cursor": "MjAyMC0wNS0wMXx4"}, "cursor"),
    ]:
        response = api.get(path, "alpha", query=query)
        assert response.status_code == 400, (query, response.get_json())
        assert field in error_fields(response), (query, error_fields(response))


def test_limit_bounds_are_accepted(api, case, session):
    _seed(session, case)
    path = f"/alliances/{case.alliance.id}/entries"
    assert len(api.get(path, "alpha", query={"limit": "1"}).get_json()["entries"]) == 1
    assert len(api.get(path, "alpha", query={"limit": "500"}).get_json()["entries"]) == 7


def test_reverse_an_entry_once(api, case, session):
    original = _seed(session, case)[0]
    a = case.alliance.id
    response = api.post(f"/alliances/{a}/entries/{original.id}/reversal", "alpha",
                        json={"date": "2020-08-01", "reason": "wrong invoice"})
    assert response.status_code == 201, response.get_json()
    reversal = response.get_json()
    assert response.headers["Location"] == f"/api/v1/alliances/{a}/entries/{reversal['id']}"
    assert (reversal["amount"], reversal["reverses_id"], reversal["date"]) == ("-100.00", original.id, "2020-08-01")
    assert reversal["description"] == f"Reversal of #{original.id}: wrong invoice"
    assert (reversal["pool"], reversal["agreement_version"]) == ("Shared costs", 1)
    again = api.get(f"/alliances/{a}/entries/{original.id}", "alpha").get_json()
    assert again["reversed_by_id"] == reversal["id"]
    listed = {e["id"]: e for e in api.get(f"/alliances/{a}/entries", "alpha").get_json()["entries"]}
    assert listed[original.id]["reversed_by_id"] == reversal["id"]

    before = row_counts(session)
    twice = api.post(f"/alliances/{a}/entries/{original.id}/reversal", "alpha")
    assert twice.status_code == 409
    assert str(reversal["id"]) in twice.get_json()["error"]["message"]
    assert api.post(f"/alliances/{a}/entries/{reversal['id']}/reversal", "coordinator").status_code == 409
    assert row_counts(session) == before


def test_a_reversal_without_a_body_is_dated_inside_the_term(api, case, session):
    original = _seed(session, case)[1]
    response = api.post(f"/alliances/{case.alliance.id}/entries/{original.id}/reversal", "beta")
    assert response.status_code == 201
    assert "2020-04-01" <= response.get_json()["date"] <= "2022-03-31"


def test_bad_reversals_are_refused_at_the_field(api, case, session):
    original = _seed(session, case)[0]
    path = f"/alliances/{case.alliance.id}/entries/{original.id}/reversal"
    before = row_counts(session)
    for body, field in [({"date": "2019-01-01"}, "date"), ({"date": "soon"}, "date"),
                        ({"date": "2020-04-09"}, "date"),  # the day before the entry it would reverse
                        ({"reason": "x" * 201}, "reason")]:
        response = api.post(path, "alpha", json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert field in error_fields(response)
    assert api.post(path, "alpha", data=b"[]").status_code == 400
    assert row_counts(session) == before
