"""The value balance indicators on a case worked out by hand, on both engines.

Agreement (the case's version 1): costs, contributions and service fees shared 1:1 by Alpha and Beta, revenue
shared 1:1 by the same two. Gamma (a supplier) is paid per service; Omega (a customer) puts nothing in here.

    #   date        who    kind          amount
    E1  2020-04-10  Alpha  cost          6,000.00
    E2  2020-05-05  Beta   contribution  2,000.00
    E3  2020-05-20  Gamma  service fee   2,000.00
    E4  2020-05-25  Alpha  cost          1,000.00   billed twice...
    E5  2020-06-02  Alpha  cost         -1,000.00   ...so reversed: E4 and E5 net out
    E6  2020-06-10  Beta   settlement -> Alpha  1,000.00   a transfer, not value put in
    E7  2020-06-15  Alpha  revenue       4,000.00
    E8  2020-08-01  Beta   cost          5,000.00   after as_of = 2020-07-01: left out

As of 2020-07-01:

    value put in   Alpha 6,000 + 1,000 - 1,000 = 6,000   Beta 2,000   Gamma 2,000   Omega 0   total 10,000
    share          Alpha 0.6   Beta 0.2   Gamma 0.2   Omega 0
    cost pool      10,000 -> Alpha 5,000, Beta 5,000: agreed share Alpha 0.5, Beta 0.5, Gamma 0, Omega 0
    drift          Alpha +0.1  Beta -0.3  Gamma +0.2  Omega 0
    HHI            0.6^2 + 0.2^2 + 0.2^2 = 0.36 + 0.04 + 0.04 = 0.44   (not above the default 0.5; above 0.4)
    diversity      2 types (supplier, customer) of 7: (2/7)^2 = 4/49 = 0.08163... -> 0.0816

    net = (borne - cost share) - (received - return share); returns pool 4,000 -> 2,000 each
    Alpha  (6,000 - 5,000) - (4,000 + 1,000 settlement - 2,000) = 1,000 - 3,000 = -2,000
    Beta   (2,000 + 1,000 settlement - 5,000) - (0 - 2,000)      = -2,000 + 2,000 =     0
    Gamma  (2,000 - 0) - 0                                                        =  2,000
    Omega  0

Net position at the end of each month (cumulative; pools split on the cumulated total):

    2020-04  pool 6,000 -> 3,000 each     Alpha  6,000 - 3,000 = 3,000    Beta -3,000           Gamma 0
    2020-05  pool 11,000 -> 5,500 each    Alpha  7,000 - 5,500 = 1,500    Beta 2,000 - 5,500 = -3,500   Gamma 2,000
    2020-06  as of 2020-07-01 above       Alpha -2,000                    Beta 0                Gamma 2,000
    2020-07  nothing new                  Alpha -2,000                    Beta 0                Gamma 2,000

Whole term (with E8): put in Alpha 6,000, Beta 7,000, Gamma 2,000: total 15,000; shares 0.4, 7/15 = 0.4667,
2/15 = 0.1333; HHI = (36 + 49 + 4) / 225 = 89/225 = 0.39555... -> 0.3956.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from ledger.indicators import balance_indicators
from ledger.models import Alliance, Entry, Membership, Pool, User
from ledger.queries import balance_sheet
from ledger.services import entries
from tests.builders import record

AS_OF = date(2020, 7, 1)


@pytest.fixture
def booked(session, case):
    record(session, case, "alpha", date="2020-04-10", partner="Alpha", kind="cost", category="machinery",
           amount="6000.00", description="Moulds")
    record(session, case, "beta", date="2020-05-05", partner="Beta", kind="contribution", category="raw materials",
           amount="2000.00", description="Fabric")
    record(session, case, "gamma", date="2020-05-20", partner="Gamma", kind="service_fee", category="certification",
           amount="2000.00", description="Testing the masks")
    twice = record(session, case, "alpha", date="2020-05-25", partner="Alpha", kind="cost", category="waste",
                   amount="1000.00", description="Waste disposal")
    entries.reverse_entry(session, session.get(User, case.users["alpha"].id),
                          session.get(Membership, case.memberships["alpha"].id), twice,
                          {"date": "2020-06-02", "reason": "Billed twice"}, date(2020, 6, 2))
    record(session, case, "beta", date="2020-06-10", partner="Beta", kind="settlement", counterparty="Alpha",
           amount="1000.00", description="Part of what Beta owes")
    record(session, case, "alpha", date="2020-06-15", partner="Alpha", kind="revenue", category="sales",
           amount="4000.00", description="First sales")
    record(session, case, "beta", date="2020-08-01", partner="Beta", kind="cost", category="machinery",
           amount="5000.00", description="Second machine")
    session.commit()
    return case


def by_name(ind: dict) -> dict[str, dict]:
    return {p["name"]: p for p in ind["partners"]}


def test_indicators_as_of_worked_out_by_hand(session, booked):
    ind = balance_indicators(session, booked.alliance, AS_OF)
    assert ind["as_of"] == "2020-07-01"
    assert ind["currency"] == "EUR"
    rows = by_name(ind)
    assert list(rows) == ["Alpha", "Beta", "Gamma", "Omega"]
    assert {n: r["put_in"] for n, r in rows.items()} == {"Alpha": 600000, "Beta": 200000, "Gamma": 200000, "Omega": 0}
    assert ind["total_put_in"] == 1000000
    assert {n: r["share"] for n, r in rows.items()} == {"Alpha": "0.6", "Beta": "0.2", "Gamma": "0.2", "Omega": "0"}
    assert {n: r["agreed_share"] for n, r in rows.items()} == {"Alpha": "0.5", "Beta": "0.5", "Gamma": "0",
                                                               "Omega": "0"}
    assert {n: r["drift"] for n, r in rows.items()} == {"Alpha": "0.1", "Beta": "-0.3", "Gamma": "0.2", "Omega": "0"}
    assert {n: r["net"] for n, r in rows.items()} == {"Alpha": -200000, "Beta": 0, "Gamma": 200000, "Omega": 0}
    assert {n: r["type"] for n, r in rows.items()} == {"Alpha": "supplier", "Beta": "supplier", "Gamma": "supplier",
                                                       "Omega": "customer"}
    assert (ind["hhi"], ind["hhi_threshold"], ind["hhi_flagged"]) == ("0.44", "0.5", False)
    assert (ind["types_present"], ind["types_total"], ind["diversity"]) == (2, 7, "0.0816")
    over_time = ind["net_over_time"]
    assert over_time["labels"] == ["2020-04", "2020-05", "2020-06", "2020-07"]
    assert {s["name"]: s["values"] for s in over_time["series"]} == {
        "Alpha": [300000, 150000, -200000, -200000],
        "Beta": [-300000, -350000, 0, 0],
        "Gamma": [0, 200000, 200000, 200000],
        "Omega": [0, 0, 0, 0],
    }
    assert json.loads(json.dumps(ind)) == ind  # a checkpoint freezes it as JSON


def test_the_flag_follows_the_alliances_threshold(session, booked):
    alliance = session.get(Alliance, booked.alliance.id)
    alliance.hhi_threshold = Decimal("0.4")
    session.commit()
    ind = balance_indicators(session, alliance, AS_OF)
    assert (ind["hhi"], ind["hhi_threshold"], ind["hhi_flagged"]) == ("0.44", "0.4", True)
    alliance.hhi_threshold = Decimal("0.44")
    session.commit()
    assert balance_indicators(session, alliance, AS_OF)["hhi_flagged"] is False  # flagged only above it


def test_whole_term_includes_later_entries_and_ends_on_the_balance_pages_nets(session, booked):
    ind = balance_indicators(session, booked.alliance)
    assert ind["as_of"] is None
    rows = by_name(ind)
    assert [rows[n]["share"] for n in ("Alpha", "Beta", "Gamma")] == ["0.4", "0.4667", "0.1333"]
    assert ind["hhi"] == "0.3956"
    labels = ind["net_over_time"]["labels"]
    assert (labels[0], labels[-1]) == ("2020-04", "2022-03")  # the whole term, as today is past its end
    sheet = balance_sheet(session, booked.alliance)
    for series in ind["net_over_time"]["series"]:
        assert series["values"][-1] == sheet.row(series["partner_id"]).net == rows[series["name"]]["net"]


def test_last_point_equals_the_balance_sheet_as_of_each_day(session, booked):
    for as_of in (date(2020, 4, 30), date(2020, 5, 24), date(2020, 6, 10), date(2020, 8, 1), date(2023, 1, 1)):
        ind = balance_indicators(session, booked.alliance, as_of)
        sheet = balance_sheet(session, booked.alliance, date_to=as_of)
        assert {s["partner_id"]: s["values"][-1] for s in ind["net_over_time"]["series"]} == \
            {r.partner_id: r.net for r in sheet.rows}
        assert {p["partner_id"]: p["net"] for p in ind["partners"]} == {r.partner_id: r.net for r in sheet.rows}


def test_before_any_entry_everything_is_zero(session, case):
    ind = balance_indicators(session, case.alliance, date(2020, 4, 1))
    assert ind["total_put_in"] == 0
    assert {p["share"] for p in ind["partners"]} == {"0"}
    assert (ind["hhi"], ind["hhi_flagged"]) == ("0", False)
    assert ind["net_over_time"] == {"labels": ["2020-04"], "series": [
        {"partner_id": p["partner_id"], "name": p["name"], "values": [0]} for p in ind["partners"]]}


def test_another_alliances_entries_do_not_count(session, booked):
    other = balance_indicators(session, booked.other)
    assert (other["partners"], other["total_put_in"], other["types_present"]) == ([], 0, 0)
    assert other["currency"] == "USD"


def test_odd_cents_and_many_months_still_end_on_the_balance_sheet_exactly(session, case):
    """Bulk rows with odd cents in every month: the series' last point matches the balance sheet to the cent."""
    pools = {p.name: p for p in session.scalars(select(Pool)) if p.version.alliance_id == case.alliance.id}
    recorder = case.users["coordinator"].id
    rows = []
    day = date(2020, 4, 1)
    for n in range(3000):
        kind, partner, pool = [("cost", "Alpha", "Shared costs"), ("service_fee", "Gamma", "Shared costs"),
                               ("contribution", "Beta", "Shared costs"), ("revenue", "Beta", "Returns")][n % 4]
        rows.append({"alliance_id": case.alliance.id, "entry_date": day + timedelta(days=n % 600),
                     "kind": kind, "partner_id": case.pid(partner), "pool_id": pools[pool].id,
                     "version_id": pools[pool].version_id,
                     "category_id": case.cid("waste"), "amount": 1001 + n * 7, "description": "bulk",
                     "recorded_by_id": recorder})
    session.execute(insert(Entry), rows)
    session.commit()
    started = time.perf_counter()
    ind = balance_indicators(session, case.alliance, date(2021, 9, 15))
    assert time.perf_counter() - started < 5
    sheet = balance_sheet(session, case.alliance, date_to=date(2021, 9, 15))
    assert {s["partner_id"]: s["values"][-1] for s in ind["net_over_time"]["series"]} == \
        {r.partner_id: r.net for r in sheet.rows}
    assert ind["net_over_time"]["labels"][-1] == "2021-09"
    assert sum(p["put_in"] for p in ind["partners"]) == ind["total_put_in"]
