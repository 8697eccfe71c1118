"""Sessions: log-out ends the session on the server, a new password logs out every other session and revokes
the API tokens, removal from an alliance takes effect at once, and the cookies carry HttpOnly, SameSite and
(in production) Secure.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger import create_app
from ledger.config import ConfigError
from ledger.models import ApiToken, Membership, User
from ledger.services.alliances import add_member, remove_member
from ledger.services.users import create_token
from tests.builders import PASSWORD

NEW = "a brand new passphrase"


def logged_in(app, who: str = "beta", remember: bool = False) -> FlaskClient:
    client = app.test_client()
    data = {"email": f"{who}@example.org", "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302
    return client


def is_logged_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def change_password(client: FlaskClient, new: str = NEW):
    return client.post("/account", data={"action": "password", "current_password": PASSWORD,
                                         "new_password": new, "confirm": new})


def test_a_new_password_logs_out_every_other_session_but_this_one(app, case):
    here, elsewhere, phone = logged_in(app), logged_in(app), logged_in(app, remember=True)
    phone.delete_cookie("session")  # a browser restarted: only the remember-me cookie is left
    assert is_logged_in(elsewhere)
    assert is_logged_in(phone)
    response = change_password(here)
    assert response.status_code == 302
    assert "Every other session of yours has been logged out" in here.get("/account").get_data(as_text=True)
    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)
    phone.delete_cookie("session")
    assert not is_logged_in(phone)
    assert elsewhere.post("/login", data={"email": "beta@example.org", "password": PASSWORD}).status_code == 200
    assert elsewhere.post("/login", data={"email": "beta@example.org", "password": NEW}).status_code == 302


def test_the_session_that_changed_it_keeps_its_remember_me(app, case):
    here = logged_in(app, remember=True)
    assert change_password(here).status_code == 302
    here.delete_cookie("session")
    assert is_logged_in(here)  # the remember-me cookie names this session, which goes on


def test_a_refused_change_logs_nobody_out(app, case):
    here, elsewhere = logged_in(app), logged_in(app)
    assert change_password(here, "password123").status_code == 422
    assert is_logged_in(here)
    assert is_logged_in(elsewhere)


@pytest.mark.parametrize("user_id", ["{id}", "{id}:0000000000000000", "", "x" * 200])
def test_a_cookie_that_names_no_open_log_in_session_is_refused(app, client, session, case, user_id):
    """A bare user id (or the user id and fingerprint of cookies from before server-side sessions) opens
    nothing: only the key of an open session does."""
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user_id.format(id=case.users["beta"].id)
        cookie["_fresh"] = True
    assert not is_logged_in(client)


def copy_of(client: FlaskClient, app, *names: str) -> FlaskClient:
    """Another browser holding copies of ``client``'s cookies (as someone who copied them would)."""
    thief = app.test_client()
    for name in names:
        thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def test_log_out_ends_the_session_for_every_copy_of_its_cookies(app, session, case):
    beta = logged_in(app, remember=True)
    session_copy, remember_copy = copy_of(beta, app, "session"), copy_of(beta, app, "remember_token")
    assert is_logged_in(session_copy)
    assert is_logged_in(remember_copy)
    assert beta.post("/logout").status_code == 302
    assert not is_logged_in(beta)
    assert not is_logged_in(session_copy)
    remember_copy = copy_of(remember_copy, app, "remember_token")  # drop the session it was given meanwhile
    assert not is_logged_in(remember_copy)
    # Nor can the copy create an API token.
    response = session_copy.post("/account", data={"action": "token", "name": "stolen"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    session.rollback()
    assert session.scalars(select(ApiToken).where(ApiToken.name == "stolen")).all() == []
    # Logging in again opens a new session; the old cookies stay dead.
    again = logged_in(app)
    assert is_logged_in(again)
    assert not is_logged_in(session_copy)


def test_log_out_ends_only_that_session(app, case):
    here, elsewhere = logged_in(app), logged_in(app)
    assert here.post("/logout").status_code == 302
    assert not is_logged_in(here)
    assert is_logged_in(elsewhere)


def test_a_new_password_revokes_every_api_token_of_the_user(app, session, case):
    beta_id = case.users["beta"].id
    _, token = create_token(session, session.get(User, beta_id), "script")
    _, other = create_token(session, session.get(User, case.users["alpha"].id), "alpha's script")
    session.commit()
    here = logged_in(app)
    bearer = {"Authorization": f"Bearer {token}"}
    assert here.get("/api/v1/alliances", headers=bearer).status_code == 200
    assert change_password(here).status_code == 302
    assert here.get("/api/v1/alliances", headers=bearer).status_code == 401
    assert "every API token revoked" in here.get("/account").get_data(as_text=True)
    # Another user's tokens are not touched.
    assert here.get("/api/v1/alliances", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_removal_from_an_alliance_takes_effect_on_the_open_session_at_once(app, session, case):
    """Every request checks the membership anew: nothing about it is kept in the session or the token."""
    outsider = session.get(User, case.users["outsider"].id)
    own = session.scalar(select(Membership).where(Membership.alliance_id == case.other.id,
                                                  Membership.user_id == outsider.id))
    add_member(session, outsider, own, {"email": "alpha@example.org", "role": "accountant"})
    _, token = create_token(session, session.get(User, case.users["alpha"].id), "script")
    session.commit()
    a, other = case.alliance.id, case.other.id
    alpha = logged_in(app, "alpha")
    bearer = {"Authorization": f"Bearer {token}"}
    pages = [f"/a/{a}/", f"/a/{a}/ledger", f"/a/{a}/balance", f"/a/{a}/entries/new"]
    assert [alpha.get(url).status_code for url in pages] == [200] * len(pages)
    assert alpha.get(f"/api/v1/alliances/{a}/balance", headers=bearer).status_code == 200

    remove_member(session, session.get(User, case.users["coordinator"].id),
                  session.get(Membership, case.memberships["coordinator"].id),
                  session.get(Membership, case.memberships["alpha"].id))
    session.commit()

    assert [alpha.get(url).status_code for url in pages] == [404] * len(pages)
    assert alpha.post(f"/a/{a}/entries/new", data={"date": "2020-05-04"}).status_code == 404
    assert alpha.get(f"/api/v1/alliances/{a}/balance", headers=bearer).status_code == 404
    listed = alpha.get("/api/v1/alliances", headers=bearer).get_json()["alliances"]
    assert [x["id"] for x in listed] == [other]
    # The other alliance, and the session itself, still work.
    assert alpha.get(f"/a/{other}/").status_code == 200
    assert alpha.get(f"/api/v1/alliances/{other}/balance", headers=bearer).status_code == 200
    assert is_logged_in(alpha)


# ---- cookies ----------------------------------------------------------------------------------------------

def cookie_header(response, name: str) -> str:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return found[0]


def test_development_cookies_are_httponly_and_samesite_lax(client, case):
    response = client.post("/login", data={"email": "alpha@example.org", "password": PASSWORD, "remember": "y"})
    for name in ("session", "remember_token"):
        cookie = cookie_header(response, name)
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # plain http://127.0.0.1 in development must keep working


@pytest.fixture
def production_app(monkeypatch, database_url):
    monkeypatch.setenv("LEDGER_ENV", "production")
    monkeypatch.setenv("LEDGER_SECRET_KEY", "a production secret for the test")
    app = create_app({"DATABASE_URL": database_url})
    yield app
    app.extensions["ledger.engine"].dispose()


def test_production_cookies_are_also_secure(production_app, case):
    """Production as configured from the environment: CSRF on, HTTPS (its Referer check included)."""
    client, site = production_app.test_client(), "https://ledger.example"
    page = client.get("/login", base_url=site)
    assert "Strict-Transport-Security" in page.headers
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/login", base_url=site, headers={"Referer": f"{site}/login"}, data={
        "email": "alpha@example.org", "password": PASSWORD, "remember": "y", "csrf_token": csrf})
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        cookie = cookie_header(response, name)
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, database_url):
    monkeypatch.setenv("LEDGER_ENV", "production")
    monkeypatch.delenv("LEDGER_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="LEDGER_SECRET_KEY"):
        create_app({"DATABASE_URL": database_url})
