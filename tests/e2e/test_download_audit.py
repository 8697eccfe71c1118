"""Every download of the books is on the alliance's trail: who took which period, when, by page or API.

A partner relies on seeing who took the figures outside the product; a
refused export (bad period) takes nothing away and records nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger.models import Activity
from tests.e2e.api_support import make_tokens
from tests.e2e.test_checkpoint_pages import opened

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:openpyxl")


def downloads(session) -> list[tuple[str | None, str]]:
    session.rollback()
    session.expire_all()
    rows = session.scalars(select(Activity).where(Activity.action == "export.downloaded").order_by(Activity.seq))
    return [(row.actor.email if row.actor else None, row.summary) for row in rows]


def test_a_download_through_the_page_is_on_the_trail_for_everyone(client, auth, case, session):
    auth.login("accountant")
    response = client.get(f"/a/{case.alliance.id}/export?period=month&month=2020-05&format=xlsx")
    assert response.status_code == 200
    assert downloads(session) == [
        ("accountant@example.org", "Accountant User downloaded the xlsx export of 2020-05-01 to 2020-05-31 (web)")]
    auth.logout()
    auth.login("gamma")
    feed = client.get(f"/a/{case.alliance.id}/activity").get_data(as_text=True)
    assert "Accountant User downloaded the xlsx export of 2020-05-01 to 2020-05-31" in feed


def test_a_refused_export_records_nothing(client, auth, case, session):
    auth.login("accountant")
    response = client.get(f"/a/{case.alliance.id}/export?period=month&month=2020-13&format=csv")
    assert response.status_code == 400
    assert downloads(session) == []


def test_api_downloads_and_review_packs_are_recorded_too(app, client, auth, case, session):
    tokens = make_tokens(session, case)
    response = client.get(f"/api/v1/alliances/{case.alliance.id}/export?format=csv",
                          headers={"Authorization": f"Bearer {tokens['beta']}"})
    assert response.status_code == 200
    checkpoint = opened(session, case)
    auth.login("omega")
    assert client.get(f"/a/{case.alliance.id}/checkpoints/{checkpoint.id}/pack.xlsx").status_code == 200
    assert downloads(session) == [
        ("beta@example.org", "Beta User downloaded the csv export of 2020-04-01 to 2022-03-31 (API)"),
        ("omega@example.org", "Omega User downloaded the review pack of \u201c3-month review\u201d (web)"),
    ]
