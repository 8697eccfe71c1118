"""The case's alliance with a handful of entries whose balance was worked out by hand, checked to the cent.

Agreement (version 1, from 2020-04-01): costs, contributions and service fees of every category shared
1:1 by Alpha and Beta; all revenue shared 1:1 by the same two. Alpha's share row comes first, so it gets the
odd cent of an odd total (largest remainder, ties to the first).

    #   date        who    kind          category       amount
    E1  2020-04-05  Beta   contribution  machinery    20,000.00   the mask machine
    E2  2020-04-20  Gamma  contribution  raw materials 3,000.01   fabric rolls (odd cent)
    E3  2020-05-10  Omega  service fee   distribution  1,200.00
    E4  2020-05-15  Alpha  service fee   certification   800.00
    E5  2020-06-01  Alpha  revenue       sales        10,000.00
    E6  2020-06-05  Beta   revenue       grants        2,500.01   the public grant (odd cent)
    E7  2020-06-10  Alpha  cost          waste           150.00
    E8  2020-06-12  Alpha  cost          waste          -150.00   reversal of E7
    E9  2020-06-20  Beta   settlement -> Omega         1,200.00   Beta pays Omega's fee

Cost pool total   = 20,000.00 + 3,000.01 + 1,200.00 + 800.00 + 150.00 - 150.00 = 25,000.01
                    -> Alpha 12,500.01, Beta 12,500.00
Returns pool total = 10,000.00 + 2,500.01 = 12,500.01 -> Alpha 6,250.01, Beta 6,250.00

           borne       cost share   received    return share   net
    Alpha     800.00   12,500.01    10,000.00    6,250.01     (800.00-12,500.01)-(10,000.00-6,250.01) = -15,450.00
    Beta   21,200.00   12,500.00     2,500.01    6,250.00     8,700.00-(-3,749.99)                    =  12,449.99
    Gamma   3,000.01        0.00         0.00        0.00                                             =   3,000.01
    Omega   1,200.00        0.00     1,200.00        0.00                                             =       0.00
                                                                                               sum    =       0.00

Settle up: Alpha (largest debtor) pays Beta (largest creditor) 12,449.99, then Gamma 3,000.01.
"""

from __future__ import annotations

from datetime import date

import pytest

from ledger import queries
from ledger.models import Membership, User
from ledger.services import entries
from tests.builders import record

# name -> (borne, cost_share, received, return_share, net) in cents
WHOLE_TERM = {
    "Alpha": (80000, 1250001, 1000000, 625001, -1545000),
    "Beta": (2120000, 1250000, 250001, 625000, 1244999),
    "Gamma": (300001, 0, 0, 0, 300001),
    "Omega": (120000, 0, 120000, 0, 0),
}


@pytest.fixture
def booked(session, case):
    record(session, case, "beta", date="2020-04-05", partner="Beta", kind="contribution",
           category="machinery", amount="20.000,00", description="Mask machine")
    record(session, case, "gamma", date="2020-04-20", partner="Gamma", kind="contribution",
           category="raw materials", amount="3000.01", description="Fabric rolls")
    record(session, case, "omega", date="2020-05-10", partner="Omega", kind="service_fee",
           category="distribution", amount="1200", description="Distribution, May")
    record(session, case, "alpha", date="2020-05-15", partner="Alpha", kind="service_fee",
           category="certification", amount="800.00", description="CE certification")
    record(session, case, "alpha", date="2020-06-01", partner="Alpha", kind="revenue",
           category="sales", amount="10,000.00", description="First sales")
    record(session, case, "coordinator", date="2020-06-05", partner="Beta", kind="revenue",
           category="grants", amount="2500.01", description="Regional grant")
    waste = record(session, case, "alpha", date="2020-06-10", partner="Alpha", kind="cost",
                   category="waste", amount="150", description="Waste disposal")
    entries.reverse_entry(session, session.get(User, case.users["alpha"].id),
                          session.get(Membership, case.memberships["alpha"].id), waste,
                          {"date": "2020-06-12", "reason": "Billed twice"}, date(2020, 6, 12))
    record(session, case, "beta", date="2020-06-20", partner="Beta", kind="settlement",
           counterparty="Omega", amount="1200.00", description="Omega's May fee")
    session.commit()
    return case


def _figures(sheet, case):
    return {
        name: (row.borne, row.cost_share, row.received, row.return_share, row.net)
        for name in case.partners
        for row in [sheet.row(case.pid(name))]
    }


def test_every_figure_of_every_partner(session, booked):
    sheet = queries.balance_sheet(session, booked.alliance)
    assert [p.name for p in sheet.partners] == ["Alpha", "Beta", "Gamma", "Omega"]
    assert _figures(sheet, booked) == WHOLE_TERM
    assert sheet.total("net") == 0
    assert sheet.total("cost_share") == 2500001
    assert sheet.total("return_share") == 1250001


def test_settle_up_suggestion(session, booked):
    sheet = queries.balance_sheet(session, booked.alliance)
    moves = [(sheet.partner(t.payer_id).name, sheet.partner(t.payee_id).name, t.amount) for t in sheet.transfers]
    assert moves == [("Alpha", "Beta", 1244999), ("Alpha", "Gamma", 300001)]


def test_recording_the_settle_up_zeroes_every_net(session, booked):
    sheet = queries.balance_sheet(session, booked.alliance)
    coordinator = session.get(User, booked.users["coordinator"].id)
    membership = session.get(Membership, booked.memberships["coordinator"].id)
    entries.record_settle_up(session, coordinator, membership,
                             {"expected": entries.transfers_fingerprint(sheet.transfers)}, date(2020, 6, 30))
    session.commit()
    after = queries.balance_sheet(session, booked.alliance)
    assert [r.net for r in after.rows] == [0, 0, 0, 0]
    assert after.transfers == []
    # Shares are untouched by settlements; only borne and received move.
    alpha = after.row(booked.pid("Alpha"))
    assert (alpha.borne, alpha.cost_share, alpha.received, alpha.return_share) == (
        80000 + 1244999 + 300001, 1250001, 1000000, 625001)


def test_date_range_may(session, booked):
    """May holds only the two fees: 2,000.00 shared 1,000.00 each.

    Alpha: 800.00 - 1,000.00 = -200.00; Beta: -1,000.00; Omega: +1,200.00; Gamma 0.
    Settle up: Beta pays Omega 1,000.00, then Alpha pays Omega 200.00.
    """
    sheet = queries.balance_sheet(session, booked.alliance, date(2020, 5, 1), date(2020, 5, 31))
    assert _figures(sheet, booked) == {
        "Alpha": (80000, 100000, 0, 0, -20000),
        "Beta": (0, 100000, 0, 0, -100000),
        "Gamma": (0, 0, 0, 0, 0),
        "Omega": (120000, 0, 0, 0, 120000),
    }
    moves = [(sheet.partner(t.payer_id).name, sheet.partner(t.payee_id).name, t.amount) for t in sheet.transfers]
    assert moves == [("Beta", "Omega", 100000), ("Alpha", "Omega", 20000)]


def test_date_range_cutting_a_reversal_off(session, booked):
    """10-11 June holds the waste cost but not its reversal: 150.00 shared 75/75, so Alpha +75, Beta -75."""
    sheet = queries.balance_sheet(session, booked.alliance, date(2020, 6, 10), date(2020, 6, 11))
    assert _figures(sheet, booked) == {
        "Alpha": (15000, 7500, 0, 0, 7500),
        "Beta": (0, 7500, 0, 0, -7500),
        "Gamma": (0, 0, 0, 0, 0),
        "Omega": (0, 0, 0, 0, 0),
    }


def test_open_ended_ranges(session, booked):
    """From June on: revenue, the reversed pair and the settlement.

    Returns 12,500.01 -> Alpha 6,250.01, Beta 6,250.00; cost pool 150.00 - 150.00 = 0.
    Alpha: 150.00 - 150.00 - 0 - (10,000.00 - 6,250.01) = -3,749.99
    Beta:  1,200.00 - (2,500.01 - 6,250.00) = 4,949.99; Omega: -1,200.00. Sum 0.
    """
    june = queries.balance_sheet(session, booked.alliance, date_from=date(2020, 6, 1))
    assert [r.net for r in june.rows] == [-374999, 494999, 0, -120000]
    # Up to May: cost pool 25,000.01 -> 12,500.01 / 12,500.00; Alpha 800.00 - 12,500.01, Beta 20,000.00 - 12,500.00.
    before_june = queries.balance_sheet(session, booked.alliance, date_to=date(2020, 5, 31))
    assert [r.net for r in before_june.rows] == [-1170001, 750000, 300001, 120000]
