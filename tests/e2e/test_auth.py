"""Log-in, log-out, and that nothing but the log-in page is reachable without it."""

from __future__ import annotations

import pytest

from ledger import create_app
from tests.builders import PASSWORD


def test_anonymous_home_redirects_to_login_with_next(client, case):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_page_is_public(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b'name="password"' in response.data


def test_login_with_right_password_lands_on_home(client, case):
    response = client.post("/login", data={"email": "alpha@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert b"PPE masks 2020" in client.get("/").data


def test_email_is_case_insensitive(client, case):
    response = client.post("/login", data={"email": "ALPHA@Example.org", "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize(("email", "password"), [
    ("alpha@example.org", "wrong password"),
    ("nobody@example.org", PASSWORD),
    ("", ""),
])
def test_bad_credentials_are_refused_with_a_message(client, case, email, password):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 200
    assert client.get("/").status_code == 302  # still logged out
    if email:
        assert b"do not match an account" in response.data


@pytest.mark.parametrize("target", ["/a/1/ledger", "/account?tab=tokens"])
def test_next_on_this_site_is_followed(client, case, target):
    response = client.post(f"/login?next={target}", data={"email": "alpha@example.org", "password": PASSWORD})
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "evil.example",
    "\\\\evil.example",
])
def test_next_elsewhere_is_ignored(client, case, target):
    response = client.post("/login", query_string={"next": target},
                           data={"email": "alpha@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_logout_needs_post_and_ends_the_session(client, auth, case):
    auth.login("alpha")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_unknown_url_is_404_not_a_redirect_or_500(client, auth, case):
    auth.login("alpha")
    assert client.get("/no/such/page").status_code == 404


def test_session_cookie_is_httponly_and_samesite(client, case):
    response = client.post("/login", data={"email": "alpha@example.org", "password": PASSWORD})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_form_requires_csrf_token_when_enabled(database_url, case):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t",
                      "WTF_CSRF_ENABLED": True})
    try:
        client = app.test_client()
        response = client.post("/login", data={"email": "alpha@example.org", "password": PASSWORD})
        assert response.status_code == 400
        assert client.get("/").status_code == 302  # not logged in
    finally:
        app.extensions["ledger.engine"].dispose()


UNSAFE_NEXT = ["/%0D%0ASet-Cookie:x=1", "/a/1/ledger%0ALocation:https://evil.example", "/%09/evil.example",
               "/ a"]


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_next_with_a_line_break_or_space_is_ignored_on_log_in(client, case, target):
    """A line break in next would split the Location header: Werkzeug refused it with a 500."""
    response = client.post(f"/login?next={target}", data={"email": "alpha@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "x=1" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_next_with_a_line_break_is_ignored_when_already_logged_in(client, auth, case, target):
    auth.login("alpha")
    response = client.get(f"/login?next={target}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("page", ["\u00b2", "\u2460", "\u0663", "9" * 5000, "-1", "0"])
def test_a_page_number_that_is_not_one_shows_the_first_page(client, auth, case, page):
    """``"\u00b2".isdigit()`` is true and ``int("\u00b2")`` raises: the home page was a 500."""
    auth.login("alpha")
    assert client.get("/", query_string={"page": page}).status_code == 200
