"""With CSRF protection on (as in production), a POST without the token is refused and writes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from ledger import create_app
from ledger.models import Entry
from tests.builders import PASSWORD, build_case


@pytest.fixture
def csrf_app(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "csrf-tests",
                      "WTF_CSRF_ENABLED": True})
    yield app
    app.extensions["ledger.engine"].dispose()


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_a_post_without_the_csrf_token_is_refused(csrf_app):
    session = csrf_app.extensions["ledger.sessions"]()
    case = build_case(session)
    session.commit()
    client = csrf_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    logged_in = client.post("/login", data={"email": "alpha@example.org", "password": PASSWORD,
                                            "csrf_token": token_of(login_page)})
    assert logged_in.status_code == 302
    url = f"/a/{case.alliance.id}/entries/new"
    data = {"date": "2020-05-04", "partner_id": str(case.pid("Alpha")), "kind": "cost",
            "category_id": str(case.cid("production")), "amount": "10", "description": "blades"}

    refused = client.post(url, data=data)
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)
    assert client.post(url, data={**data, "csrf_token": "forged"}).status_code == 400
    assert session.scalar(select(func.count()).select_from(Entry)) == 0

    form = client.get(url).get_data(as_text=True)
    accepted = client.post(url, data={**data, "csrf_token": token_of(form)})
    assert accepted.status_code == 302
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Entry)) == 1
    session.close()
