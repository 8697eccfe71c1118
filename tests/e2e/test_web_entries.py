"""Recording, listing and reversing entries through the pages, including every bad input the issue names."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.models import Alliance, Entry
from ledger.queries import balance_sheet
from tests.builders import record


def error_at(page: str, field: str) -> str | None:
    """The message shown at a form field (the element with id ``<field>-error``), if any."""
    match = re.search(rf'id="{re.escape(field)}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else None


def count_entries(session) -> int:
    session.rollback()  # see what the requests committed
    return session.scalar(select(func.count()).select_from(Entry))


def entry_form(case, **fields) -> dict:
    data = {"date": "2020-05-04", "partner_id": str(case.pid("Alpha")), "kind": "cost",
            "category_id": str(case.cid("production")), "amount": "1234.56",
            "description": "Fabric cutting blades", "reference": "INV-7", "counterparty_id": ""}
    data.update(fields)
    return data


def test_the_form_is_keyboard_friendly_and_defaults_sensibly(client, auth, case):
    auth.login("alpha")
    page = client.get(f"/a/{case.alliance.id}/entries/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*autofocus[^>]*name="date"', page)
    assert re.search(r'<input[^>]*inputmode="decimal"[^>]*name="amount"', page)
    assert '<label for="amount">' in page
    # A partner member is offered only their own partner, already chosen.
    partner_select = re.search(r'<select[^>]*name="partner_id"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert "Alpha" in partner_select
    assert "Beta" not in partner_select
    assert "Only for a settlement" in page
    assert 'name="save_another"' in page


def test_recording_a_cost_shows_in_the_ledger_and_the_dashboard(client, auth, session, case):
    auth.login("alpha")
    a = case.alliance.id
    response = client.post(f"/a/{a}/entries/new", data=entry_form(case, amount="1.000,00", save="Save"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/a/{a}/ledger")
    ledger = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Fabric cutting blades" in ledger
    assert "€1,000.00" in ledger
    dashboard = client.get(f"/a/{a}/").get_data(as_text=True)
    alpha = re.search(r'data-partner="Alpha">(.*?)</tr>', dashboard, re.S).group(1)
    beta = re.search(r'data-partner="Beta">(.*?)</tr>', dashboard, re.S).group(1)
    assert 'data-cents="100000" data-figure="borne"' in alpha
    assert 'data-cents="50000" data-figure="net"' in alpha
    assert 'data-cents="-50000" data-figure="net"' in beta
    assert 'data-cents="0" data-figure="net_total"' in dashboard
    assert "Beta</strong> pays <strong>Alpha" in dashboard
    session.rollback()
    sheet = balance_sheet(session, case.alliance)
    assert sheet.row(case.pid("Alpha")).net == 50000
    assert sheet.row(case.pid("Beta")).net == -50000


def test_save_and_add_another_keeps_date_partner_and_kind(client, auth, session, case):
    auth.login("coordinator")
    a = case.alliance.id
    response = client.post(f"/a/{a}/entries/new", data=entry_form(
        case, partner_id=str(case.pid("Gamma")), kind="service_fee", category_id=str(case.cid("certification")),
        date="2020-06-01", save_another="Save and add another"))
    assert response.status_code == 302
    fresh = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="2020-06-01"' in fresh
    assert re.search(rf'<option selected value="{case.pid("Gamma")}">Gamma', fresh)
    assert re.search(r'<option selected value="service_fee">', fresh)
    assert re.search(r'<input[^>]*autofocus[^>]*name="amount"', fresh)
    assert re.search(r'name="amount"[^>]*value=""', fresh)
    assert count_entries(session) == 1


def test_a_partner_member_records_for_their_own_partner_only(client, auth, session, case):
    auth.login("beta")
    a = case.alliance.id
    refused = client.post(f"/a/{a}/entries/new", data=entry_form(case, partner_id=str(case.pid("Alpha"))))
    assert refused.status_code == 422
    assert error_at(refused.get_data(as_text=True), "partner_id") == "You can record entries only for Beta."
    assert count_entries(session) == 0
    ok = client.post(f"/a/{a}/entries/new", data=entry_form(case, partner_id=str(case.pid("Beta"))))
    assert ok.status_code == 302
    assert count_entries(session) == 1


BAD_INPUT = [
    ("amount", {"amount": "twelve"}, "is not an amount"),
    ("amount", {"amount": "12.345,678"}, "at most 2 decimals"),
    ("amount", {"amount": "1.2.3,4,5"}, "not an amount"),
    ("amount", {"amount": "12.3456"}, "at most 2 decimals"),
    ("amount", {"amount": "0"}, "cannot be zero"),
    ("amount", {"amount": "0,00"}, "cannot be zero"),
    ("amount", {"amount": "1000000000.01"}, "cannot be over 1,000,000,000.00"),
    ("amount", {"amount": "-5"}, "must be positive"),
    ("amount", {"amount": "1,234"}, "ambiguous"),
    ("partner_id", {"partner_id": "999999"}, "Unknown partner"),
    ("partner_id", {"partner_id": "abc"}, "Unknown partner"),
    ("category_id", {"category_id": "999999"}, "Unknown category"),
    ("kind", {"kind": "gift"}, "Choose a kind of entry"),
    ("date", {"date": "2019-12-31"}, "within the alliance's term"),
    ("date", {"date": "2022-04-01"}, "within the alliance's term"),
    ("date", {"date": "31/12/2020"}, "is not a date"),
    ("description", {"description": "x" * 501}, "at most 500 characters"),
    ("description", {"description": "   "}, "Enter the description"),
    ("reference", {"reference": "r" * 301}, "at most 300 characters"),
    ("counterparty_id", {"kind": "settlement", "category_id": ""}, "needs the partner who received"),
    ("counterparty_id", {"kind": "settlement", "category_id": "", "counterparty_id": "ALPHA"},
     "cannot settle with itself"),
    ("counterparty_id", {"counterparty_id": "BETA"}, "Only a settlement has a counterparty"),
]


@pytest.mark.parametrize(("field", "fields", "message"), BAD_INPUT,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD_INPUT)])
def test_bad_input_is_refused_at_its_field_and_writes_nothing(client, auth, session, case, field, fields, message):
    auth.login("coordinator")
    fields = {k: {"ALPHA": str(case.pid("Alpha")), "BETA": str(case.pid("Beta"))}.get(v, v)
              for k, v in fields.items()}
    before = count_entries(session)
    response = client.post(f"/a/{case.alliance.id}/entries/new", data=entry_form(case, **fields))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    shown = error_at(page, field)
    assert shown is not None, f"no message at {field}"
    assert message in shown
    assert "Nothing was saved" in page
    assert count_entries(session) == before
    # What was typed is kept, so only the wrong field needs retyping.
    assert html.escape(entry_form(case, **fields)["description"][:40], quote=True) in page


def test_unknown_alliance_is_404_when_recording(client, auth, case):
    auth.login("coordinator")
    assert client.post("/a/999999/entries/new", data=entry_form(case)).status_code == 404


def test_a_settlement_through_the_form(client, auth, session, case):
    auth.login("beta")
    response = client.post(f"/a/{case.alliance.id}/entries/new", data=entry_form(
        case, kind="settlement", partner_id=str(case.pid("Beta")), category_id="",
        counterparty_id=str(case.pid("Alpha")), amount="250"))
    assert response.status_code == 302
    session.rollback()
    entry = session.scalar(select(Entry))
    assert (entry.kind.value, entry.counterparty_id, entry.amount) == ("settlement", case.pid("Alpha"), 25000)


def test_reversal_through_the_page(client, auth, session, case):
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="300")
    session.commit()
    a, eid = case.alliance.id, entry.id
    auth.login("alpha")
    detail = client.get(f"/a/{a}/entries/{eid}").get_data(as_text=True)
    assert "Reverse this entry" in detail
    assert "agreement version 1" in detail
    assert "Shared costs" in detail
    bad = client.post(f"/a/{a}/entries/{eid}/reverse", data={"date": "2030-01-01", "reason": "typo"})
    assert bad.status_code == 422
    assert "within the alliance's term" in error_at(bad.get_data(as_text=True), "date")
    assert count_entries(session) == 1
    response = client.post(f"/a/{a}/entries/{eid}/reverse", data={"date": "2020-05-10", "reason": "typo"})
    assert response.status_code == 302
    session.rollback()
    reversal = session.scalar(select(Entry).where(Entry.reverses_id == eid))
    assert reversal.amount == -30000
    assert reversal.entry_date.isoformat() == "2020-05-10"
    after = client.get(f"/a/{a}/entries/{eid}").get_data(as_text=True)
    assert f"Reversed by <a href=\"/a/{a}/entries/{reversal.id}\">entry #{reversal.id}</a>" in after
    assert "Reverse this entry" not in after
    ledger = client.get(f"/a/{a}/ledger").get_data(as_text=True)
    assert f'id="entry-{eid}"' in ledger
    assert re.search(rf'class="is-reversed" id="entry-{eid}"', ledger)
    assert f'reverses <a href="/a/{a}/entries/{eid}">#{eid}</a>' in ledger
    assert sum(r.net for r in balance_sheet(session, case.alliance).rows) == 0
    assert all(r.net == 0 for r in balance_sheet(session, case.alliance).rows)
    again = client.post(f"/a/{a}/entries/{eid}/reverse", data={})
    assert again.status_code == 409
    assert count_entries(session) == 2


def test_a_reversal_is_offered_and_held_on_or_after_its_originals_date(client, auth, session, case, case_day):
    """Today (2020-06-30) is before the entry's date: the form offers the entry's own day, refuses an earlier one."""
    entry = record(session, case, "alpha", date="2020-09-01", partner="Alpha", kind="cost", category="production",
                   amount="300")
    session.commit()
    a, eid = case.alliance.id, entry.id
    auth.login("alpha")
    detail = client.get(f"/a/{a}/entries/{eid}").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="date"[^>]*value="2020-09-01"', detail)
    assert 'min="2020-09-01"' in detail
    bad = client.post(f"/a/{a}/entries/{eid}/reverse", data={"date": "2020-05-01", "reason": "typo"})
    assert bad.status_code == 422
    assert error_at(bad.get_data(as_text=True), "date") == (
        f"A reversal cannot be dated before the entry it reverses: entry #{eid} is dated 2020-09-01. "
        f"Date the reversal on 2020-09-01 or later.")
    assert count_entries(session) == 1
    assert client.post(f"/a/{a}/entries/{eid}/reverse", data={"date": "2020-09-01"}).status_code == 302
    assert count_entries(session) == 2


def test_ledger_filters_totals_and_pages(app, client, auth, session, case):
    app.config["PAGE_SIZE"] = 3
    for day in range(1, 8):
        record(session, case, "coordinator", partner="Alpha" if day % 2 else "Beta", kind="cost",
               category="production", amount=f"{day}.00", date=f"2020-05-{day:02d}")
    record(session, case, "coordinator", partner="Alpha", kind="revenue", category="sales", amount="50",
           date="2020-05-08")
    session.commit()
    a = case.alliance.id
    auth.login("accountant")
    first = client.get(f"/a/{a}/ledger").get_data(as_text=True)
    assert "<strong>8</strong> entries" in first
    assert first.index("2020-05-08") < first.index("2020-05-07")
    assert 'data-kind="cost"><th scope="row">cost</th>' in first
    older = re.search(r'href="([^"]+)" rel="next">Older', first).group(1)
    assert "before=2020-05-06." in html.unescape(older)
    second = client.get(html.unescape(older)).get_data(as_text=True)
    assert "2020-05-05" in second
    assert "2020-05-08" not in second
    assert 'rel="first">« Newest' in second

    filtered = client.get(f"/a/{a}/ledger?partner={case.pid('Alpha')}&kind=cost&from=2020-05-02&to=2020-05-06")
    text = filtered.get_data(as_text=True)
    assert "<strong>2</strong> entries match" in text  # 3rd and 5th
    assert 'data-cents="800"' in text  # 3.00 + 5.00

    for query, field in [("from=yesterday", "from"), ("partner=999999", "partner"), ("kind=gift", "kind"),
                         ("category=abc", "category"), ("before=garbage", "before"),
                         ("from=2020-06-01&to=2020-05-01", "to")]:
        bad = client.get(f"/a/{a}/ledger?{query}")
        assert bad.status_code == 400, query
        assert error_at(bad.get_data(as_text=True), field), query


def test_after_termination_the_form_gives_way_to_why_the_books_are_closed(client, auth, case, session, case_day):
    session.get(Alliance, case.alliance.id).ended_on = date(2020, 6, 1)
    session.commit()
    before = count_entries(session)
    auth.login("alpha")
    new_url = f"/a/{case.alliance.id}/entries/new"
    response = client.get(new_url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="entry-form"' not in page  # no form to fill in
    assert 'name="amount"' not in page
    assert "ended on 2020-06-01: its books are read-only" in html.unescape(page)  # the API's words, one rule
    response = client.post(new_url, data=entry_form(case))
    assert response.status_code == 422
    assert 'name="amount"' not in response.get_data(as_text=True)
    assert count_entries(session) == before
    # No page leads to the form any more: not the navigation, the dashboard or the ledger.
    for path in ("", "/ledger"):
        assert f'href="{new_url}"' not in client.get(f"/a/{case.alliance.id}{path}").get_data(as_text=True)


@pytest.mark.parametrize("field", ["description", "reference"])
def test_text_that_could_not_be_read_is_refused_at_its_field(client, auth, session, case, field):
    """A browser sends U+FFFD for a lone surrogate (which has no UTF-8 form): refused as in the API.

    (Werkzeug keeps percent-escapes of bytes that are not UTF-8 as they were sent, as text.)
    """
    auth.login("coordinator")
    response = client.post(f"/a/{case.alliance.id}/entries/new",
                           data=entry_form(case, **{field: "Blades \ufffd"}))
    assert response.status_code == 422
    assert "could not be read" in error_at(response.get_data(as_text=True), field)
    assert count_entries(session) == 0
