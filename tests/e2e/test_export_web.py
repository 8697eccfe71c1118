"""The export page: period chooser, downloads for members, the message at the field for a bad period, 404 else."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from tests.builders import record

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def books(session, case) -> dict[str, int]:
    ids = {
        "april": record(session, case, "alpha", partner="Alpha", kind="cost", category="production",
                        amount="100.01", date="2020-04-15", description="=1+1").id,
        "june": record(session, case, "beta", partner="Beta", kind="revenue", category="sales", amount="50.00",
                       date="2020-06-15").id,
        "july": record(session, case, "gamma", partner="Gamma", kind="cost", category="raw materials",
                       amount="30.00", date="2020-07-15").id,
    }
    session.commit()
    return ids


def ledger_ids(response) -> list[int]:
    book = load_workbook(io.BytesIO(response.data))
    return [row[0] for row in book["Ledger"].iter_rows(min_row=2, values_only=True)]


def test_dashboard_and_ledger_link_to_the_export_page(client, auth, case):
    auth.login("steering")
    url = f"/a/{case.alliance.id}/export"
    assert url in client.get(f"/a/{case.alliance.id}/").get_data(as_text=True)
    ledger = client.get(f"/a/{case.alliance.id}/ledger?from=2020-05-01&to=2020-05-31").get_data(as_text=True)
    assert f"{url}?period=range&amp;from=2020-05-01&amp;to=2020-05-31" in ledger
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for choice in ("term", "month", "quarter", "range"):
        assert f'value="{choice}"' in html
    assert 'name="from"' in html
    assert 'name="to"' in html
    assert 'name="format"' in html


@pytest.mark.parametrize(("query", "expected", "span"), [
    ("period=term", ["april", "june", "july"], "2020-04-01_2022-03-31"),
    ("period=month&month=2020-06", ["june"], "2020-06-01_2020-06-30"),
    ("period=quarter&quarter=2020-Q2", ["april", "june"], "2020-04-01_2020-06-30"),
    ("period=range&from=2020-06-01&to=2020-07-31", ["june", "july"], "2020-06-01_2020-07-31"),
])
def test_each_kind_of_period_downloads_its_entries(client, auth, case, books, query, expected, span):
    auth.login("accountant")
    response = client.get(f"/a/{case.alliance.id}/export?{query}&format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"alliance-{case.alliance.id}-ppe-masks-2020_{span}_exported-" in disposition
    assert ledger_ids(response) == [books[k] for k in expected]


def test_csv_download_escapes_formulas(client, auth, case, books):
    auth.login("alpha")
    response = client.get(f"/a/{case.alliance.id}/export?period=term&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].endswith('.csv')
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][0] == "Entry id"
    assert len(rows) == 4
    assert "'=1+1" in rows[1]


@pytest.mark.parametrize(("query", "field"), [
    ("period=month&month=2020-13", "month"),
    ("period=month&month=", "month"),
    ("period=quarter&quarter=2020-Q5", "quarter"),
    ("period=range&from=yesterday", "from"),
    ("period=range&from=2020-06-01&to=2020-05-01", "to"),
    ("period=decade", "period"),
    ("period=term&format=pdf", "format"),
    ("period=range&from=2020-02-30", "from"),
])
def test_a_bad_period_is_a_message_at_its_field(client, auth, case, query, field):
    auth.login("accountant")
    if "format=" not in query:
        query += "&format=xlsx"
    response = client.get(f"/a/{case.alliance.id}/export?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html


def test_outsiders_get_404_and_strangers_the_login(client, auth, case):
    response = client.get(f"/a/{case.alliance.id}/export?period=term&format=xlsx")
    assert response.status_code in (302, 401)
    auth.login("outsider")
    assert client.get(f"/a/{case.alliance.id}/export").status_code == 404
    assert client.get(f"/a/{case.alliance.id}/export?period=term&format=xlsx").status_code == 404
    assert client.get("/a/999999/export").status_code == 404


@pytest.mark.parametrize(("query", "field", "chosen"), [
    ("period=term&quarter=2020-Q2", "quarter", "the whole term"),  # issue 16: downloaded the whole term
    ("period=term&month=2020-05", "month", "the whole term"),
    ("period=month&month=2020-05&quarter=2020-Q2", "quarter", "a month"),
    ("period=quarter&quarter=2020-Q2&from=2020-04-01", "from", "a quarter"),
    ("quarter=2020-Q2", "quarter", "a date range"),  # no period chosen: a range, never a silent guess
])
def test_a_field_of_another_period_is_refused_at_that_field_not_ignored(client, auth, case, query, field, chosen):
    auth.login("accountant")
    response = client.get(f"/a/{case.alliance.id}/export?{query}&format=xlsx")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', page)
    assert error, page
    assert f"but {chosen} is chosen" in error.group(1)
