"""Failed log-ins are kept: the account owner sees who tried their email, and when, on the Account page.

A failed attempt at the form and a request with an unknown API token are both
recorded; a successful log-in is not, and nobody else sees an account's attempts.
"""

from __future__ import annotations

from sqlalchemy import select

from ledger.models import LoginFailure
from tests.builders import PASSWORD


def failures(session) -> list[tuple[str, int | None, str]]:
    session.rollback()
    session.expire_all()
    rows = session.scalars(select(LoginFailure).order_by(LoginFailure.id))
    return [(row.email, row.user_id, row.via) for row in rows]


def test_a_wrong_password_is_recorded_against_the_account(client, auth, case, session):
    assert auth.login("alpha", "not the password at all").status_code == 200
    assert client.post("/login", data={"email": "Nobody@Example.org ", "password": "whatever-123"}).status_code == 200
    assert auth.login("alpha", PASSWORD).status_code == 302  # success: not a failure
    assert failures(session) == [("alpha@example.org", case.users["alpha"].id, "web"),
                                 ("nobody@example.org", None, "web")]


def test_the_owner_sees_the_attempts_and_no_one_else_does(client, auth, case, session):
    auth.login("alpha", "wrong password here")
    auth.login("alpha", PASSWORD)
    page = client.get("/account").get_data(as_text=True)
    assert page.count("data-failed-login=") == 1
    assert "127.0.0.1" in page
    auth.logout()
    auth.login("beta", PASSWORD)
    page = client.get("/account").get_data(as_text=True)
    assert "data-failed-login=" not in page
    assert 'id="failed-logins">None recorded.' in page


def test_an_unknown_api_token_is_recorded(client, case, session):
    response = client.get("/api/v1/alliances", headers={"Authorization": "Bearer not-a-token-anyone-issued"})
    assert response.status_code == 401
    assert client.get("/api/v1/alliances").status_code == 401  # no token at all guesses nothing: not kept
    assert failures(session) == [("", None, "api")]
