"""Rate limits: failed log-ins per address and per email, bad API tokens per address (ledger/ratelimit.py).

Each test lowers the limit for its own app only (the counters live in that app's memory storage), so
the rest of the suite runs with the defaults and never meets a limit.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger import create_app
from ledger.models import User
from ledger.services.users import create_token
from tests.builders import PASSWORD

WRONG = "not the password at all"


def log_in(client, who: str = "alpha", password: str = WRONG, address: str = "10.0.0.1"):
    return client.post("/login", data={"email": f"{who}@example.org", "password": password},
                       environ_base={"REMOTE_ADDR": address})


def assert_limited_page(response):
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    retry = int(response.headers["Retry-After"])
    assert 1 <= retry <= 60
    page = response.get_data(as_text=True)
    assert "Too many failed log-ins" in page
    assert 'name="password"' in page  # the log-in form again, with the message at the password


def test_failed_log_ins_from_one_address_are_limited_even_the_right_password(app, client, case):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    for who in ("alpha", "beta", "gamma"):  # three accounts: the address is what is counted
        assert log_in(client, who).status_code == 200
    assert_limited_page(log_in(client, "omega"))
    assert_limited_page(log_in(client, "alpha", PASSWORD))  # a right guess must not stand out
    assert client.get("/").status_code == 302  # still logged out
    assert log_in(client, "alpha", PASSWORD, address="10.0.0.2").status_code == 302  # another address: fine


def test_failed_log_ins_for_one_email_are_limited_from_any_address(app, client, case):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    for n in range(3):
        assert log_in(client, "alpha", address=f"10.0.1.{n}").status_code == 200
    # Case and spaces make no new budget: the email is compared as log-in compares it.
    response = client.post("/login", data={"email": "  ALPHA@example.org ", "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.1.99"})
    assert_limited_page(response)
    assert log_in(client, "beta", PASSWORD, address="10.0.1.98").status_code == 302  # another account: fine


def test_successful_log_ins_cost_nothing(app, client, case):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    for _ in range(5):
        assert log_in(client, "alpha", PASSWORD).status_code == 302
        assert client.post("/logout").status_code == 302


def test_the_default_limit_is_ten_failures_a_minute(client, case):
    for _ in range(10):
        assert log_in(client).status_code == 200
    assert_limited_page(log_in(client))


def test_every_app_counts_for_itself(app, client, database_url, case):
    """Why the suite never meets a limit: each test's app has its own in-memory counters."""
    app.config["LOGIN_RATE_LIMIT"] = "1 per minute"
    log_in(client)
    assert log_in(client).status_code == 429
    other = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "tests",
                        "WTF_CSRF_ENABLED": False, "LOGIN_RATE_LIMIT": "1 per minute"})
    try:
        assert log_in(other.test_client(), "alpha", PASSWORD).status_code == 302
    finally:
        other.extensions["ledger.engine"].dispose()


def test_limits_can_be_turned_off(database_url, case):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "tests",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "LOGIN_RATE_LIMIT": "1 per minute"})
    try:
        client = app.test_client()
        assert [log_in(client).status_code for _ in range(3)] == [200, 200, 200]
    finally:
        app.extensions["ledger.engine"].dispose()


def test_behind_a_proxy_the_forwarded_address_is_the_client(database_url, case):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "tests",
                      "WTF_CSRF_ENABLED": False, "PROXY_COUNT": 1, "LOGIN_RATE_LIMIT": "1 per minute"})
    try:
        client = app.test_client()

        def via_proxy(client_address: str, who: str):
            return client.post("/login", data={"email": f"{who}@example.org", "password": WRONG},
                               headers={"X-Forwarded-For": client_address}, environ_base={"REMOTE_ADDR": "10.9.9.9"})

        assert via_proxy("192.0.2.1", "alpha").status_code == 200
        assert via_proxy("192.0.2.1", "beta").status_code == 429
        assert via_proxy("192.0.2.2", "gamma").status_code == 200  # same proxy, another client
    finally:
        app.extensions["ledger.engine"].dispose()


# ---- the API ---------------------------------------------------------------------------------------------

@pytest.fixture
def token(session, case) -> str:
    _, plain = create_token(session, session.scalar(select(User).where(User.email == "alpha@example.org")), "t")
    session.commit()
    return plain


def api_get(client, token: str | None, address: str = "10.0.2.1"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/api/v1/alliances", headers=headers, environ_base={"REMOTE_ADDR": address})


def test_bad_tokens_from_one_address_are_limited_then_any_token_is_refused(app, client, token):
    app.config["API_TOKEN_RATE_LIMIT"] = "3 per minute"
    for n in range(3):
        assert api_get(client, f"al_guess{n}").status_code == 401
    for attempt in ("al_guess-again", token):
        response = api_get(client, attempt)
        assert response.status_code == 429
        body = response.get_json()
        assert body["error"]["status"] == 429
        assert "Too many requests without a valid API token" in body["error"]["message"]
        assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert api_get(client, token, address="10.0.2.2").status_code == 200  # another address: fine
    assert client.get("/api/v1/openapi.json", environ_base={"REMOTE_ADDR": "10.0.2.1"}).status_code == 200


def test_valid_tokens_and_missing_tokens_cost_nothing(app, client, token):
    app.config["API_TOKEN_RATE_LIMIT"] = "2 per minute"
    for _ in range(5):
        assert api_get(client, token).status_code == 200
        assert api_get(client, None).status_code == 401  # no token: guesses nothing
    assert api_get(client, "al_wrong").status_code == 401


def test_the_openapi_document_lists_429_with_retry_after(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "Retry-After" in document["components"]["responses"]["TooManyRequests"]["headers"]
    for path in document["paths"].values():
        for method in {"get", "post", "put", "patch", "delete"} & set(path):
            responses = path[method]["responses"]
            assert ("429" in responses) == ("401" in responses)  # every operation that takes a token
