"""The account page: API tokens shown once and revoked, and changing the password."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from ledger.models import ApiToken
from tests.builders import PASSWORD


def error_at(page: str, field: str) -> str | None:
    match = re.search(rf'id="{re.escape(field)}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else None


def test_a_token_is_shown_once_and_can_be_revoked(client, auth, session, case):
    auth.login("accountant")
    response = client.post("/account", data={"action": "token", "name": "monthly export"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    plain = re.search(r'<code class="token" id="new-token">([^<]+)</code>', page).group(1)
    assert plain.startswith("al_")
    listing = client.get("/account").get_data(as_text=True)
    assert "monthly export" in listing
    assert plain not in listing
    assert plain[:10] in listing
    session.rollback()
    token = session.scalar(select(ApiToken))
    assert token.revoked_at is None
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    session.rollback()
    assert session.get(ApiToken, token.id).revoked_at is not None
    assert "revoked" in client.get("/account").get_data(as_text=True)


def test_a_token_needs_a_name_and_belongs_to_its_user(client, auth, session, case):
    auth.login("alpha")
    bad = client.post("/account", data={"action": "token", "name": " "})
    assert bad.status_code == 422
    assert error_at(bad.get_data(as_text=True), "name")
    assert client.post("/account", data={"action": "token", "name": "mine"}).status_code == 200
    session.rollback()
    token_id = session.scalar(select(ApiToken.id))
    auth.logout()
    auth.login("beta")
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    session.rollback()
    assert session.get(ApiToken, token_id).revoked_at is None


def test_changing_the_password(client, auth, case):
    auth.login("beta")
    wrong = client.post("/account", data={"action": "password", "current_password": "nope",
                                          "new_password": "brand new secret", "confirm": "brand new secret"})
    assert wrong.status_code == 422
    assert "not your current password" in error_at(wrong.get_data(as_text=True), "current_password")
    short = client.post("/account", data={"action": "password", "current_password": PASSWORD,
                                          "new_password": "short", "confirm": "short"})
    assert "at least 10" in error_at(short.get_data(as_text=True), "new_password")
    mismatch = client.post("/account", data={"action": "password", "current_password": PASSWORD,
                                             "new_password": "brand new secret", "confirm": "brand new secrets"})
    assert "not the same" in error_at(mismatch.get_data(as_text=True), "confirm")
    ok = client.post("/account", data={"action": "password", "current_password": PASSWORD,
                                       "new_password": "brand new secret", "confirm": "brand new secret"})
    assert ok.status_code == 302
    auth.logout()
    assert auth.login("beta").status_code == 200  # the old password no longer logs in (page re-shown)
    assert auth.login("beta", "brand new secret").status_code == 302
