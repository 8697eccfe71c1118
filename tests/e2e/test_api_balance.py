"""The balance (whole ledger or a date range) and settle-up, through /api/v1, checked to the cent."""

from __future__ import annotations

import pytest

from tests.builders import record
from tests.e2e.api_support import Api, error_fields, make_tokens, row_counts
from tests.races import race_for_the_lock


@pytest.fixture
def api(app, client, session, case) -> Api:
    return Api(app, client, make_tokens(session, case))


@pytest.fixture
def books(session, case) -> None:
    """Alpha bears 100.00, Gamma 30.00 of shared costs; Beta receives 50.00 of revenue, all 50/50 Alpha/Beta.

    Cost pool 130.00 -> Alpha 65.00, Beta 65.00; returns pool 50.00 -> 25.00 each.
    Alpha: (100 - 65) - (0 - 25)  =  60.00
    Beta:  (0 - 65)   - (50 - 25) = -90.00
    Gamma: (30 - 0)   - (0 - 0)   =  30.00
    Omega: 0.00
    """
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="100.00",
           date="2020-04-15")
    record(session, case, "beta", partner="Beta", kind="revenue", category="sales", amount="50.00",
           date="2020-05-15")
    record(session, case, "gamma", partner="Gamma", kind="cost", category="raw materials", amount="30.00",
           date="2020-06-15")
    session.commit()


def figures(body: dict) -> dict[str, tuple[str, ...]]:
    return {r["partner"]: (r["borne"], r["cost_share"], r["received"], r["return_share"], r["net"])
            for r in body["partners"]}


def test_the_whole_term_balance_to_the_cent(api, case, books):
    body = api.get(f"/alliances/{case.alliance.id}/balance", "steering").get_json()
    assert (body["currency"], body["from"], body["to"]) == ("EUR", None, None)
    assert figures(body) == {
        "Alpha": ("100.00", "65.00", "0.00", "25.00", "60.00"),
        "Beta": ("0.00", "65.00", "50.00", "25.00", "-90.00"),
        "Gamma": ("30.00", "0.00", "0.00", "0.00", "30.00"),
        "Omega": ("0.00", "0.00", "0.00", "0.00", "0.00"),
    }
    assert body["totals"] == {"borne": "130.00", "cost_share": "130.00", "received": "50.00",
                              "return_share": "50.00", "net": "0.00"}
    assert [(t["payer"], t["payee"], t["amount"]) for t in body["transfers"]] == [
        ("Beta", "Alpha", "60.00"), ("Beta", "Gamma", "30.00")]


def test_a_date_range_counts_only_its_entries(api, case, books):
    body = api.get(f"/alliances/{case.alliance.id}/balance", "alpha",
                   query={"from": "2020-05-01", "to": "2020-06-30"}).get_json()
    assert (body["from"], body["to"]) == ("2020-05-01", "2020-06-30")
    assert figures(body)["Alpha"] == ("0.00", "15.00", "0.00", "25.00", "10.00")
    assert figures(body)["Gamma"] == ("30.00", "0.00", "0.00", "0.00", "30.00")
    assert body["totals"]["net"] == "0.00"
    only_from = api.get(f"/alliances/{case.alliance.id}/balance", "alpha", query={"from": "2020-06-01"}).get_json()
    assert figures(only_from)["Beta"] == ("0.00", "15.00", "0.00", "0.00", "-15.00")


def test_an_empty_ledger_balances_to_zero_with_no_transfers(api, case):
    body = api.get(f"/alliances/{case.alliance.id}/balance", "accountant").get_json()
    assert {r["net"] for r in body["partners"]} == {"0.00"}
    assert body["transfers"] == []
    settle = api.get(f"/alliances/{case.alliance.id}/settle-up", "accountant").get_json()
    assert settle == {"currency": "EUR", "transfers": [], "fingerprint": "none"}


def test_bad_balance_ranges_are_400_at_the_parameter(api, case):
    for query, field in [({"from": "last week"}, "from"), ({"to": "2020-02-30"}, "to"),
                         ({"from": "2020-06-01", "to": "2020-05-31"}, "to")]:
        response = api.get(f"/alliances/{case.alliance.id}/balance", "alpha", query=query)
        assert response.status_code == 400, query
        assert field in error_fields(response)


def test_settle_up_suggestion(api, case, books):
    body = api.get(f"/alliances/{case.alliance.id}/settle-up", "gamma").get_json()
    assert body["currency"] == "EUR"
    assert [(t["payer_id"], t["payee_id"], t["amount"]) for t in body["transfers"]] == [
        (case.pid("Beta"), case.pid("Alpha"), "60.00"), (case.pid("Beta"), case.pid("Gamma"), "30.00")]
    beta, alpha, gamma = case.pid("Beta"), case.pid("Alpha"), case.pid("Gamma")
    assert body["fingerprint"] == f"{beta}>{alpha}:6000;{beta}>{gamma}:3000"


def test_recording_the_settle_up_brings_every_net_to_zero(api, case, books):
    a = case.alliance.id
    expected = api.get(f"/alliances/{a}/settle-up", "coordinator").get_json()["fingerprint"]
    response = api.post(f"/alliances/{a}/settle-up", "coordinator", json={"expected": expected,
                                                                          "date": "2020-09-30"})
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"] == f"/api/v1/alliances/{a}/entries?kind=settlement"
    entries = response.get_json()["entries"]
    assert [(e["partner"], e["counterparty"], e["amount"], e["kind"], e["date"]) for e in entries] == [
        ("Beta", "Alpha", "60.00", "settlement", "2020-09-30"), ("Beta", "Gamma", "30.00", "settlement", "2020-09-30")]
    balance = api.get(f"/alliances/{a}/balance", "coordinator").get_json()
    assert {r["net"] for r in balance["partners"]} == {"0.00"}
    assert balance["transfers"] == []
    assert api.get(f"/alliances/{a}/settle-up", "coordinator").get_json()["transfers"] == []
    listed = api.get(f"/alliances/{a}/entries", "coordinator", query={"kind": "settlement"}).get_json()
    assert listed["count"] == 2


def test_settling_twice_or_from_a_stale_suggestion_is_409_with_the_current_one(api, case, session, books):
    a = case.alliance.id
    current = api.get(f"/alliances/{a}/settle-up", "coordinator").get_json()
    before = row_counts(session)
    stale = api.post(f"/alliances/{a}/settle-up", "coordinator", json={"expected": "1>2:100"})
    assert stale.status_code == 409
    assert stale.get_json()["settle_up"] == current  # what to review instead
    assert row_counts(session) == before
    assert api.post(f"/alliances/{a}/settle-up", "coordinator",
                    json={"expected": current["fingerprint"]}).status_code == 201
    after = row_counts(session)
    again = api.post(f"/alliances/{a}/settle-up", "coordinator", json={"expected": current["fingerprint"]})
    assert again.status_code == 409
    assert again.get_json()["settle_up"] == {"currency": "EUR", "transfers": [], "fingerprint": "none"}
    assert "changed" in again.get_json()["error"]["message"]
    nothing = api.post(f"/alliances/{a}/settle-up", "coordinator", json={"expected": "none"})
    assert nothing.status_code == 409
    assert "nothing to settle" in nothing.get_json()["error"]["message"]
    assert row_counts(session) == after


def test_two_settle_ups_sent_at_the_same_moment_record_once(app, api, case, session, books):
    """Both send the fingerprint they saw while a write holds the alliance; the second must not settle again.

    The suggestion is read under the alliance lock: the second request waits for the first to commit, then
    finds every balance at zero and answers 409 with that suggestion, having written nothing. (Computed
    before the lock, both recorded the same transfers and every net flipped sign.)
    """
    a = case.alliance.id
    seen = api.get(f"/alliances/{a}/settle-up", "coordinator").get_json()["fingerprint"]
    before = row_counts(session)
    results: list[tuple[int, dict]] = []

    def settle() -> None:
        response = Api(app, app.test_client(), api.tokens).post(
            f"/alliances/{a}/settle-up", "coordinator", json={"expected": seen, "date": "2020-09-30"})
        results.append((response.status_code, response.get_json()))

    race_for_the_lock(app.extensions["ledger.sessions"], a, [settle, settle])
    assert sorted(status for status, _ in results) == [201, 409], results
    refused = next(body for status, body in results if status == 409)
    assert refused["settle_up"] == {"currency": "EUR", "transfers": [], "fingerprint": "none"}
    after = row_counts(session)
    assert after["entries"] == before["entries"] + 2  # Beta pays Alpha and Gamma, once
    balance = api.get(f"/alliances/{a}/balance", "coordinator").get_json()
    assert {r["net"] for r in balance["partners"]} == {"0.00"}


def test_bad_settle_up_input_is_refused_at_the_field(api, case, session, books):
    a = case.alliance.id
    before = row_counts(session)
    seen = api.get(f"/alliances/{a}/settle-up", "coordinator").get_json()["fingerprint"]
    for body, field in [({"date": "2019-01-01", "expected": seen}, "date"),
                        ({"date": "tomorrow", "expected": seen}, "date"), ({"expected": 5}, "expected"),
                        ({}, "expected"), ({"expected": ""}, "expected"), ({"date": "2020-09-30"}, "expected")]:
        response = api.post(f"/alliances/{a}/settle-up", "coordinator", json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert field in error_fields(response)
    assert api.post(f"/alliances/{a}/settle-up", "coordinator", data=b"{").status_code == 400
    assert api.post(f"/alliances/{a}/settle-up", "coordinator").status_code == 422  # no body: nothing seen
    assert row_counts(session) == before


def test_an_entry_and_its_reversal_leave_the_balance_unchanged(api, case, books):
    a = case.alliance.id
    before = api.get(f"/alliances/{a}/balance", "coordinator").get_json()
    created = api.post(f"/alliances/{a}/entries", "omega", json={
        "date": "2020-07-01", "partner_id": case.pid("Omega"), "kind": "service_fee",
        "category_id": case.cid("distribution"), "amount": "33.33", "description": "Distribution"}).get_json()
    assert figures(api.get(f"/alliances/{a}/balance", "coordinator").get_json())["Omega"][-1] == "33.33"
    api.post(f"/alliances/{a}/entries/{created['id']}/reversal", "omega", json={"date": "2020-07-02"})
    assert api.get(f"/alliances/{a}/balance", "coordinator").get_json() == before
