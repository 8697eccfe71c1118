"""GET /api/v1/alliances/{id}/export: the file with its name, 400 naming the bad parameter, 404 for outsiders."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from ledger.api.openapi import document
from tests.builders import record
from tests.e2e.api_support import Api, error_fields, make_tokens

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def api(app, client, session, case) -> Api:
    return Api(app, client, make_tokens(session, case))


@pytest.fixture
def books(session, case) -> list[int]:
    ids = [record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="10.01",
                  date="2020-04-15", description="@SUM(1)").id,
           record(session, case, "beta", partner="Beta", kind="revenue", category="sales", amount="5.00",
                  date="2020-06-15").id]
    session.commit()
    return ids


def download(api: Api, case, who: str = "accountant", **query):
    """A successful export is a file, not JSON: checked against the document's content types by hand."""
    response = api.client.get(f"/api/v1/alliances/{case.alliance.id}/export", query_string=query,
                              headers={"Authorization": f"Bearer {api.tokens[who]}"})
    spec = document()["paths"]["/alliances/{alliance_id}/export"]["get"]["responses"]["200"]
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype in spec["content"]
    assert "Content-Disposition" in response.headers
    return response


def test_xlsx_of_a_range(api, case, books):
    response = download(api, case, **{"from": "2020-06-01", "to": "2020-06-30"})
    assert response.mimetype == XLSX
    assert f"alliance-{case.alliance.id}-ppe-masks-2020_2020-06-01_2020-06-30_exported-" in \
        response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert [r[0] for r in book["Ledger"].iter_rows(min_row=2, values_only=True)] == [books[1]]


def test_csv_of_the_whole_term_by_default(api, case, books):
    response = download(api, case, "omega", format="csv")
    assert response.mimetype == "text/csv"
    assert "2020-04-01_2022-03-31" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [str(i) for i in books]
    assert "'@SUM(1)" in rows[1]


@pytest.mark.parametrize(("query", "field"), [
    ({"format": "pdf"}, "format"),
    ({"from": "2020-02-30"}, "from"),
    ({"to": "soon"}, "to"),
    ({"from": "2020-06-01", "to": "2020-05-01"}, "to"),
    ({"from": "2030-01-01"}, "from"),
])
def test_bad_parameters_are_400_naming_the_parameter(api, case, query, field):
    response = api.get(f"/alliances/{case.alliance.id}/export", "accountant", query=query)
    assert response.status_code == 400
    assert field in error_fields(response)


def test_outsiders_and_strangers(api, case):
    assert api.get(f"/alliances/{case.alliance.id}/export", "outsider").status_code == 404
    assert api.get("/alliances/999999/export", "outsider").status_code == 404
    assert api.get(f"/alliances/{case.alliance.id}/export").status_code == 401
