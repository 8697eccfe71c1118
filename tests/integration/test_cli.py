"""``flask --app wsgi ledger ...`` through Flask's CLI runner, against a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ledger.models import ApiToken, Entry, User
from ledger.services import users


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_init_db_is_safe_to_run_again(runner):
    for _ in range(2):
        result = runner.invoke(args=["ledger", "init-db"])
        assert result.exit_code == 0, result.output
        assert "latest migration" in result.output


def test_demo_loads_once_and_then_says_nothing_changed(runner, session):
    first = runner.invoke(args=["ledger", "demo"])
    assert first.exit_code == 0, first.output
    assert "Loaded the demo alliance." in first.output
    assert "alpha@ppe-masks.example" in first.output
    assert "demo-ledger-2020" in first.output
    count = session.scalar(select(func.count()).select_from(Entry))
    assert count > 250

    second = runner.invoke(args=["ledger", "demo"])
    assert second.exit_code == 0, second.output
    assert "nothing changed" in second.output
    assert "alpha@ppe-masks.example" in second.output
    assert session.scalar(select(func.count()).select_from(Entry)) == count


def test_user_create(runner, session):
    result = runner.invoke(args=["ledger", "user", "create", "Ada@Example.org", "--name", "Ada Lovelace",
                                 "--password", "analytical engine"])
    assert result.exit_code == 0, result.output
    assert "Created user ada@example.org" in result.output
    user = users.authenticate(session, "ada@example.org", "analytical engine")
    assert user is not None
    assert user.name == "Ada Lovelace"


@pytest.mark.parametrize(("args", "message"), [
    (["not-an-email", "--name", "X", "--password", "long enough"], "email: "),
    (["short@example.org", "--name", "X", "--password", "short"], "password: A password needs at least 10"),
    (["noname@example.org", "--name", " ", "--password", "long enough"], "name: Enter the name"),
])
def test_user_create_rejects_bad_input(runner, session, args, message):
    result = runner.invoke(args=["ledger", "user", "create", *args])
    assert result.exit_code != 0
    assert message in result.stderr
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_user_create_rejects_a_taken_email(runner, session):
    users.create_user(session, "taken@example.org", "First", "long enough")
    session.commit()
    result = runner.invoke(args=["ledger", "user", "create", "taken@example.org", "--name", "Second",
                                 "--password", "long enough"])
    assert result.exit_code != 0
    assert "already a user" in result.stderr


def test_token_create_prints_a_working_bearer_token(app, runner, session):
    users.create_user(session, "api@example.org", "Api User", "long enough")
    session.commit()
    result = runner.invoke(args=["ledger", "token", "create", "API@example.org", "--name", "scripts"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith(users.TOKEN_PREFIX)
    assert session.scalar(select(ApiToken.name)) == "scripts"
    assert users.access_for_token(session, token).user.email == "api@example.org"
    session.rollback()  # access_for_token notes the use; don't hold SQLite's write lock during the request
    if any(rule.rule == "/api/v1/alliances" for rule in app.url_map.iter_rules()):
        client = app.test_client()
        assert client.get("/api/v1/alliances", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert client.get("/api/v1/alliances", headers={"Authorization": "Bearer al_wrong"}).status_code == 401


def test_token_create_for_an_unknown_user_fails(runner, session):
    result = runner.invoke(args=["ledger", "token", "create", "nobody@example.org"])
    assert result.exit_code != 0
    assert "no user with email nobody@example.org" in result.stderr
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0
