"""Who reads a partner's sign-off comments: one rule, every channel (issue 16, item 10).

A dispute says what is wrong with a partner's statement. Its comment is read by the partner's own
members, the coordinator and accountants (``ledger.domain.permissions.can_read_signoff_comments``);
other partners' members and steering members see the status only. The statement page, the periods API,
the exports (page and API, xlsx) and the activity feed must all agree.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from ledger.models import Period
from ledger.services import periods
from tests.builders import TODAY, Case, acting
from tests.e2e.api_support import Api, make_tokens

SECRET = "Invoice 17 is counted twice; we keep our lawyer informed"
READERS = ("alpha", "coordinator", "accountant")
OTHERS = ("beta", "gamma", "steering")


@pytest.fixture
def disputed(session, case: Case, case_day) -> Period:
    """April closed, and Alpha's dispute of its statement with a comment."""
    user, membership = acting(session, case, "accountant")
    period = periods.close_period(session, user, membership, {"end_date": "2020-04-30"}, today=TODAY)
    session.commit()
    user, membership = acting(session, case, "alpha")
    periods.dispute(session, user, membership, period, {"comment": SECRET})
    session.commit()
    return period


def workbook_text(data: bytes) -> str:
    book = load_workbook(io.BytesIO(data))
    return " ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value)


def test_the_api_shows_the_comment_only_to_its_readers(app, client, session, case, disputed):
    api = Api(app, client, make_tokens(session, case))
    base = f"/alliances/{case.alliance.id}/periods"
    statement = f"{base}/{disputed.id}/statements/{case.pid('Alpha')}"
    for who in (*READERS, *OTHERS):
        allowed = who in READERS
        listing = api.get(base, who).get_json()
        alpha = next(p for p in listing["periods"][0]["partners"] if p["partner"] == "Alpha")
        assert alpha["status"] == "disputed", who
        assert alpha["signoff"]["comment"] == (SECRET if allowed else None), who
        one = api.get(f"{base}/{disputed.id}", who).get_json()
        assert next(p for p in one["partners"] if p["partner"] == "Alpha")["signoff"]["comment"] == (
            SECRET if allowed else None), who
        response = api.get(statement, who)
        if who in ("beta", "gamma"):
            assert response.status_code == 403  # another partner's statement: not theirs to see at all
            continue
        assert response.status_code == 200, who
        assert [s["comment"] for s in response.get_json()["signoffs"]] == [SECRET if allowed else None], who
    for who in (*READERS, *OTHERS):
        # A file, not JSON: past the contract checker, as tests/e2e/test_export_api.py downloads it.
        response = client.get(f"/api/v1/alliances/{case.alliance.id}/export?format=xlsx",
                              headers={"Authorization": f"Bearer {api.tokens[who]}"})
        assert response.status_code == 200
        text = workbook_text(response.data)
        assert "disputed 20" in text, who  # the status is everyone's
        assert (SECRET in text) == (who in READERS), who


def test_the_pages_and_the_export_show_the_comment_only_to_its_readers(client, auth, case, disputed):
    a = case.alliance.id
    statement = f"/a/{a}/periods/{disputed.id}/statements/{case.pid('Alpha')}"
    for who in (*READERS, *OTHERS):
        auth.login(who)
        allowed = who in READERS
        response = client.get(statement)
        if who in ("beta", "gamma"):
            assert response.status_code == 403
        else:
            page = response.get_data(as_text=True)
            assert response.status_code == 200, who
            assert "disputed" in page
            assert (SECRET in page) == allowed, who
        for url in (f"/a/{a}/periods", f"/a/{a}/", f"/a/{a}/activity"):
            page = client.get(url).get_data(as_text=True)
            assert SECRET not in page, (who, url)  # statuses only; the feed says there is a comment
        response = client.get(f"/a/{a}/export?period=term&format=xlsx")
        assert response.status_code == 200
        text = workbook_text(response.data)
        assert "disputed 20" in text
        assert (SECRET in text) == allowed, who
        auth.logout()


def test_the_activity_feed_says_there_is_a_comment_but_not_what_it_says(client, auth, case, disputed):
    auth.login("alpha")
    page = client.get(f"/a/{case.alliance.id}/activity").get_data(as_text=True)
    assert "disputed its statement for 2020-04-01 to 2020-04-30 with a comment on the statement" in page
    assert SECRET not in page
