"""Alliances and what the coordinator manages in them, through /api/v1."""

from __future__ import annotations

import pytest

from tests.e2e.api_support import Api, error_fields, make_tokens, row_counts


@pytest.fixture
def api(app, client, session, case) -> Api:
    return Api(app, client, make_tokens(session, case))


def refused(api: Api, session, method: str, path: str, who: str, body, field: str, status: int = 422) -> dict:
    """Send ``body``; it must be refused at ``field`` with nothing written."""
    before = row_counts(session)
    response = api.call(method, path, who, json=body)
    assert response.status_code == status, (body, response.get_json())
    fields = error_fields(response)
    assert any(k == field or k.startswith(field + "-") for k in fields), (body, fields)
    assert row_counts(session) == before, body
    return fields


def test_list_my_alliances_with_my_role(api, case):
    body = api.get("/alliances", "alpha").get_json()
    assert [(a["name"], a["role"], a["partner_id"]) for a in body["alliances"]] == [
        ("PPE masks 2020", "partner_member", case.pid("Alpha"))]
    assert body["alliances"][0]["currency"] == "EUR"
    assert body["alliances"][0]["start_date"] == "2020-04-01"
    assert [a["name"] for a in api.get("/alliances", "outsider").get_json()["alliances"]] == ["Other alliance"]


def test_get_one_alliance(api, case):
    body = api.get(f"/alliances/{case.alliance.id}", "accountant").get_json()
    assert body["id"] == case.alliance.id
    assert body["role"] == "accountant"
    assert body["partner_id"] is None
    assert body["term_end"] == "2022-03-31"


def test_create_an_alliance_makes_me_its_coordinator(api, session):
    response = api.post("/alliances", "accountant", json={
        "name": "Gowns 2021", "cause": "Gowns for nurses", "currency": "usd",
        "start_date": "2021-01-01", "term_end": "2021-12-31"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["role"] == "coordinator"
    assert body["currency"] == "USD"
    assert response.headers["Location"] == f"/api/v1/alliances/{body['id']}"
    assert api.get(f"/alliances/{body['id']}", "accountant").get_json() == body
    categories = api.get(f"/alliances/{body['id']}/categories", "accountant").get_json()["categories"]
    assert "production" in [c["name"] for c in categories]


def test_bad_alliances_are_refused_at_the_field(api, session):
    good = {"name": "Gowns", "currency": "EUR", "start_date": "2021-01-01", "term_end": "2021-12-31"}
    for changes, field in [
        ({"name": ""}, "name"), ({"name": "x" * 121}, "name"), ({"cause": "x" * 501}, "cause"),
        ({"currency": "EURO"}, "currency"), ({"currency": "XYZ"}, "currency"),
        ({"start_date": "2021-02-30"}, "start_date"), ({"term_end": "2020-12-31"}, "term_end"),
        ({"name": 42}, "name"),
    ]:
        refused(api, session, "POST", "/alliances", "alpha", {**good, **changes}, field)


@pytest.mark.parametrize(("data", "message"), [
    ("{not json", "not valid JSON"), ("[1, 2]", "JSON object"), ('"text"', "JSON object"),
    ('{"name": NaN}', "not valid JSON"), ("", "JSON object"), ("\xff\xfe", "not valid JSON"),
])
def test_a_body_that_is_not_a_json_object_is_400(api, session, data, message):
    before = row_counts(session)
    response = api.post("/alliances", "alpha", data=data.encode("latin-1"))
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]
    assert row_counts(session) == before


def test_partners_list_create_and_read_one(api, case):
    a = case.alliance.id
    names = [p["name"] for p in api.get(f"/alliances/{a}/partners", "gamma").get_json()["partners"]]
    assert names == ["Alpha", "Beta", "Gamma", "Omega"]
    response = api.post(f"/alliances/{a}/partners", "coordinator",
                        json={"name": "Delta Lab", "role": "other", "type": "commercial_laboratory"})
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], "name": "Delta Lab", "role": "other", "type": "commercial_laboratory"}
    assert response.headers["Location"] == f"/api/v1/alliances/{a}/partners/{body['id']}"
    assert api.get(f"/alliances/{a}/partners/{body['id']}", "alpha").get_json() == body


def test_bad_partners_are_refused_at_the_field(api, case, session):
    path = f"/alliances/{case.alliance.id}/partners"
    good = {"name": "Delta", "role": "other", "type": "university"}
    for changes, field in [({"name": "x" * 121}, "name"), ({"name": "alpha"}, "name"), ({"name": " "}, "name"),
                           ({"role": "boss"}, "role"), ({"type": None}, "type"), ({"role": ["other"]}, "role")]:
        refused(api, session, "POST", path, "coordinator", {**good, **changes}, field)


def test_categories_list_create_and_read_one(api, case, session):
    a = case.alliance.id
    response = api.post(f"/alliances/{a}/categories", "coordinator", json={"name": "Logistics"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "logistics"
    listed = api.get(f"/alliances/{a}/categories", "steering").get_json()["categories"]
    assert body in listed
    assert len(listed) == 10
    assert api.get(f"/alliances/{a}/categories/{body['id']}", "beta").get_json() == body
    refused(api, session, "POST", f"/alliances/{a}/categories", "coordinator", {"name": "LOGISTICS"}, "name")
    refused(api, session, "POST", f"/alliances/{a}/categories", "coordinator", {"name": "x" * 121}, "name")


def test_members_list_and_add_a_new_person(api, case):
    a = case.alliance.id
    members = api.get(f"/alliances/{a}/members", "accountant").get_json()["members"]
    assert len(members) == 7
    alpha = next(m for m in members if m["email"] == "alpha@example.org")
    assert (alpha["role"], alpha["partner"]) == ("partner_member", "Alpha")
    response = api.post(f"/alliances/{a}/members", "coordinator", json={
        "email": "Dora@Example.org", "role": "partner_member", "partner_id": case.pid("Gamma"),
        "name": "Dora", "password": "long enough password"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["email"], body["role"], body["partner_id"], body["partner"]) == (
        "dora@example.org", "partner_member", case.pid("Gamma"), "Gamma")
    assert response.headers["Location"] == f"/api/v1/alliances/{a}/members/{body['id']}"
    assert api.get(f"/alliances/{a}/members/{body['id']}", "alpha").get_json() == body


def test_an_existing_user_joins_with_just_email_and_role(api, case):
    response = api.post(f"/alliances/{case.other.id}/members", "outsider",
                        json={"email": "alpha@example.org", "role": "steering_member"})
    assert response.status_code == 201
    assert response.get_json()["name"] == "Alpha User"
    roles = {a["name"]: a["role"] for a in api.get("/alliances", "alpha").get_json()["alliances"]}
    assert roles == {"PPE masks 2020": "partner_member", "Other alliance": "steering_member"}


def test_bad_members_are_refused_at_the_field(api, case, session):
    path = f"/alliances/{case.alliance.id}/members"
    for body, field in [
        ({"email": "not-an-email", "role": "accountant"}, "email"),
        ({"email": "beta@example.org", "role": "accountant"}, "email"),
        ({"email": "new@example.org", "role": "king", "name": "N", "password": "long enough"}, "role"),
        ({"email": "new@example.org", "role": "partner_member", "name": "N", "password": "long enough"},
         "partner_id"),
        ({"email": "new@example.org", "role": "partner_member", "partner_id": 999999, "name": "N",
          "password": "long enough"}, "partner_id"),
        ({"email": "new@example.org", "role": "accountant", "partner_id": case.pid("Alpha"), "name": "N",
          "password": "long enough"}, "partner_id"),
        ({"email": "new@example.org", "role": "accountant", "password": "long enough"}, "name"),
        ({"email": "new@example.org", "role": "accountant", "name": "N", "password": "short"}, "password"),
    ]:
        refused(api, session, "POST", path, "coordinator", body, field)


def _pools(case, alpha="1", beta="1", categories="all"):
    shares = [{"partner_id": case.pid("Alpha"), "weight": alpha}, {"partner_id": case.pid("Beta"), "weight": beta}]
    return [{"name": "Costs", "side": "costs", "kinds": ["cost", "contribution", "service_fee"],
             "categories": categories, "shares": shares},
            {"name": "Returns", "side": "returns", "kinds": ["revenue"], "categories": "all", "shares": shares}]


def test_agreement_versions_list_create_and_read_one(api, case):
    a = case.alliance.id
    versions = api.get(f"/alliances/{a}/agreement/versions", "alpha").get_json()["versions"]
    assert [v["number"] for v in versions] == [1]
    assert versions[0]["pools"][0]["categories"] == "all"
    assert {s["weight"] for s in versions[0]["pools"][0]["shares"]} == {"1"}
    response = api.post(f"/alliances/{a}/agreement/versions", "coordinator", json={
        "effective_from": "2021-01-01", "note": "Renegotiated after nine months",
        "pools": _pools(case, alpha="60%", beta="40%")})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["number"], body["effective_from"], body["created_by"]) == (2, "2021-01-01", "Carla Coordinator")
    assert [s["weight"] for s in body["pools"][0]["shares"]] == ["60", "40"]
    assert body["pools"][1]["kinds"] == ["revenue"]
    assert response.headers["Location"] == f"/api/v1/alliances/{a}/agreement/versions/{body['id']}"
    assert api.get(f"/alliances/{a}/agreement/versions/{body['id']}", "steering").get_json() == body
    listed = api.get(f"/alliances/{a}/agreement/versions", "alpha").get_json()["versions"]
    assert [v["number"] for v in listed] == [2, 1]


def test_a_version_with_listed_categories_and_fractional_weights(api, case):
    response = api.post(f"/alliances/{case.alliance.id}/agreement/versions", "coordinator", json={
        "effective_from": "2020-06-01", "pools": _pools(case, alpha="33.3333", beta=2,
                                                         categories=[case.cid("production"), case.cid("waste"),
                                                                     case.cid("trading")])})
    assert response.status_code == 201, response.get_json()
    pool = response.get_json()["pools"][0]
    assert pool["categories"] == sorted([case.cid("production"), case.cid("waste"), case.cid("trading")])
    assert [s["weight"] for s in pool["shares"]] == ["33.3333", "2"]


def test_bad_agreement_versions_are_refused_at_the_field(api, case, session):
    path = f"/alliances/{case.alliance.id}/agreement/versions"

    def version(**changes):
        return {"effective_from": "2021-01-01", "pools": _pools(case), **changes}

    for body, field in [
        (version(pools=_pools(case, alpha="0")), "pools-0-shares"),
        (version(pools=_pools(case, beta="-1")), "pools-0-shares"),
        (version(pools=_pools(case, alpha="abc")), "pools-0-shares"),
        (version(pools=_pools(case, alpha="1.123456")), "pools-0-shares"),
        (version(pools=_pools(case, alpha="2000000")), "pools-0-shares"),
        (version(pools=[]), "pools"),
        (version(pools="everything"), "pools"),
        (version(pools=[5]), "pools-0"),
        (version(pools=_pools(case, categories=[999999])), "pools-0-categories"),
        (version(effective_from="2019-12-31"), "effective_from"),
        (version(effective_from="2022-04-01"), "effective_from"),
        (version(effective_from="2020-04-01"), "effective_from"),
        (version(note="x" * 1001), "note"),
        (version(pools=[{**_pools(case)[0], "name": "x" * 121}]), "pools-0-name"),
        (version(pools=[{**_pools(case)[0], "kinds": ["settlement"]}]), "pools-0-kinds"),
        (version(pools=[{**_pools(case)[0], "kinds": ["revenue"]}]), "pools-0-kinds"),
        (version(pools=[{**_pools(case)[0], "shares": [{"partner_id": 999999, "weight": "1"}]}]),
         "pools-0-shares"),
    ]:
        refused(api, session, "POST", path, "coordinator", body, field)


def test_a_version_that_leaves_recorded_entries_in_no_pool_is_refused(api, case, session):
    from tests.builders import record

    record(session, case, "alpha", partner="Alpha", kind="revenue", category="sales", amount="5.00",
           date="2021-02-01")
    session.commit()
    body = {"effective_from": "2021-01-01", "pools": _pools(case)[:1]}
    refused(api, session, "POST", f"/alliances/{case.alliance.id}/agreement/versions", "coordinator", body,
            "pools")
