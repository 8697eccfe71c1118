"""The charter, targets and measurements through /api/v1, every response held to the OpenAPI document."""

from __future__ import annotations

import pytest

from tests.e2e.api_support import Api, error_fields, make_tokens, row_counts


@pytest.fixture(autouse=True)
def fixed_today(case_day):
    """Today is the builders' TODAY (2020-06-30), inside the case's term: case_day stops the app's clock."""


@pytest.fixture
def api(app, client, session, case) -> Api:
    return Api(app, client, make_tokens(session, case))


def body(case, **overrides) -> dict:
    raw = {"effective_from": "2020-05-01", "cause": "Masks for front-line workers", "objective": "2M a month",
           "term_end": "2022-03-31",
           "commitments": [{"partner_id": case.pid("Beta"), "expects": "Half the returns", "brings": "Material"}],
           "targets": [{"name": "masks produced", "unit": "masks", "period": "month", "value": "2,000,000"},
                       {"name": "cost per mask", "unit": "EUR", "period": "quarter", "direction": "at_most",
                        "combine": "latest", "value": 0.25}]}
    raw.update(overrides)
    return raw


def test_the_coordinator_saves_a_version_and_everyone_reads_it(api, case, session):
    a = case.alliance.id
    charter = api.get(f"/alliances/{a}/charter", "steering").get_json()
    assert charter["in_force"]["number"] == 1
    assert charter["versions"][0]["changes"] == ["first version"]

    assert api.post(f"/alliances/{a}/charter", "alpha", json=body(case)).status_code == 403
    response = api.post(f"/alliances/{a}/charter", "coordinator", json=body(case))
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith(f"/alliances/{a}/charter/versions/2")
    v2 = response.get_json()
    assert [t["value"] for t in v2["targets"]] == ["2000000", "0.25"]
    assert v2["commitments"] == [{"partner_id": case.pid("Beta"), "partner": "Beta", "expects": "Half the returns",
                                  "brings": "Material"}]
    assert "target 'masks produced' added (2,000,000 masks per month)" in v2["changes"]

    charter = api.get(f"/alliances/{a}/charter", "alpha").get_json()
    assert charter["in_force"]["number"] == 2
    assert [v["number"] for v in charter["versions"]] == [2, 1]
    assert api.get(f"/alliances/{a}/charter/versions/1", "accountant").get_json()["targets"] == []
    assert api.get(f"/alliances/{a}/charter/versions/9", "alpha").status_code == 404
    assert api.get(f"/alliances/{case.other.id}/charter", "alpha").status_code == 404


def test_bad_charter_input_is_422_at_the_field_and_writes_nothing(api, case, session):
    a = case.alliance.id
    before = row_counts(session)
    response = api.post(f"/alliances/{a}/charter", "coordinator", json=body(
        case, term_end="2019-01-01", targets=[{"name": "x", "unit": "u", "period": "month", "value": "NaN"}]))
    assert response.status_code == 422
    assert set(error_fields(response)) == {"term_end", "targets-0-value"}
    response = api.post(f"/alliances/{a}/charter", "coordinator", data='{"term_end": NaN}')
    assert response.status_code == 400
    response = api.post(f"/alliances/{a}/charter", "coordinator", json={"term_end": "2022-03-31",
                                                                      "cause": case.alliance.cause})
    assert response.status_code == 422
    assert "Nothing changed" in error_fields(response)["charter"]
    assert row_counts(session) == before


def test_measurements_and_progress(api, case, session):
    a = case.alliance.id
    v2 = api.post(f"/alliances/{a}/charter", "coordinator", json=body(case)).get_json()
    masks = v2["targets"][0]["target_id"]
    url = f"/alliances/{a}/targets/{masks}/measurements"
    response = api.post(url, "beta", json={"period": "2020-05", "value": "1,200,000", "note": "line 1"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["period_label"] == "May 2020"
    assert api.post(url, "beta", json={"period": "2020-05", "value": 1300000}).status_code == 201
    assert api.post(url, "alpha", json={"period": "2020-05-15", "value": "800000"}).status_code == 201
    assert api.post(url, "alpha", json={"period": "2020-05", "value": "1", "partner_id": case.pid("Beta")}
                    ).status_code == 403
    assert api.post(url, "steering", json={"period": "2020-05", "value": "1"}).status_code == 403
    response = api.post(url, "alpha", json={"period": "2020-08", "value": "1e3"})
    assert response.status_code == 422
    assert set(error_fields(response)) == {"period", "value"}
    assert api.post(f"/alliances/{a}/targets/999/measurements", "alpha",
                    json={"period": "2020-05", "value": "1"}).status_code == 404

    progress = api.get(f"/alliances/{a}/targets", "accountant").get_json()
    assert progress["as_of"] == "2020-06-30"
    masks_progress = progress["targets"][0]
    assert masks_progress["periods"][1] == {"start": "2020-05-01", "label": "May 2020", "target": "2000000",
                                            "actual": "2100000", "met": True}
    early = api.get(f"/alliances/{a}/targets", "alpha", query={"as_of": "2020-04-30"}).get_json()
    assert [t["name"] for t in early["targets"]] == []  # version 1, in force in April, had no targets
    response = api.get(f"/alliances/{a}/targets", "alpha", query={"as_of": "soon"})
    assert response.status_code == 400
    assert "as_of" in error_fields(response)

    detail = api.get(f"/alliances/{a}/targets/{masks}", "steering").get_json()
    assert [(m["partner"], m["value"], m["counts"]) for m in detail["measurements"]] == [
        ("Alpha", "800000", True), ("Beta", "1300000", True), ("Beta", "1200000", False)]
    assert detail["progress"]["periods_met"] == 1
    assert api.get(f"/alliances/{a}/targets/999", "alpha").status_code == 404
