"""Who may call what: bearer tokens only, members only (404 otherwise), and roles as the services allow."""

from __future__ import annotations

import pytest

from ledger.models import ApiToken, User
from ledger.services.users import access_for_token, create_token, revoke_token
from tests.builders import record
from tests.e2e.api_support import Api, error_fields, make_tokens, row_counts


@pytest.fixture
def api(app, client, session, case) -> Api:
    return Api(app, client, make_tokens(session, case))


def alliance_routes(case, entry_id: int) -> list[tuple[str, str]]:
    a = case.alliance.id
    return [
        ("GET", f"/alliances/{a}"),
        ("GET", f"/alliances/{a}/partners"), ("POST", f"/alliances/{a}/partners"),
        ("GET", f"/alliances/{a}/partners/{case.pid('Alpha')}"),
        ("GET", f"/alliances/{a}/categories"), ("POST", f"/alliances/{a}/categories"),
        ("GET", f"/alliances/{a}/categories/{case.cid('production')}"),
        ("GET", f"/alliances/{a}/members"), ("POST", f"/alliances/{a}/members"),
        ("GET", f"/alliances/{a}/members/{case.memberships['alpha'].id}"),
        ("GET", f"/alliances/{a}/agreement/versions"), ("POST", f"/alliances/{a}/agreement/versions"),
        ("GET", f"/alliances/{a}/entries"), ("POST", f"/alliances/{a}/entries"),
        ("GET", f"/alliances/{a}/entries/{entry_id}"), ("POST", f"/alliances/{a}/entries/{entry_id}/reversal"),
        ("GET", f"/alliances/{a}/balance"), ("GET", f"/alliances/{a}/settle-up"),
        ("POST", f"/alliances/{a}/settle-up"),
    ]


@pytest.fixture
def entry_id(session, case) -> int:
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="100.00")
    session.commit()
    return entry.id


def test_no_token_is_401_with_a_bearer_challenge(api):
    response = api.get("/alliances")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert response.get_json()["error"]["status"] == 401


@pytest.mark.parametrize("header", ["Basic YWxwaGE6cGFzcw==", "Bearer", "Bearer ", "al_xyz", "Token al_x"])
def test_a_header_that_is_not_a_bearer_token_is_401(api, header):
    response = api.get("/alliances", headers={"Authorization": header})
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("token", ["al_not-a-real-token", "nope", "al_" + "x" * 200])
def test_an_unknown_token_is_401_invalid_token(api, token):
    response = api.get("/alliances", token=token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_revoked_token_is_401(api, session, case):
    user = session.get(User, case.users["alpha"].id)
    token, plain = create_token(session, user, "laptop")
    session.commit()
    assert api.get("/alliances", token=plain).status_code == 200
    revoke_token(session, user, token.id)
    session.commit()
    response = api.get("/alliances", token=plain)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_logged_in_browser_session_does_not_authenticate_the_api(api, auth):
    assert auth.login("coordinator").status_code == 302
    assert api.get("/alliances").status_code == 401


def test_a_successful_call_records_when_the_token_was_used(api, session, case):
    token, plain = create_token(session, session.get(User, case.users["beta"].id), "script")
    session.commit()
    assert token.last_used_at is None
    assert api.get("/alliances", token=plain).status_code == 200
    session.expire_all()
    assert session.get(ApiToken, token.id).last_used_at is not None


def test_post_needs_no_csrf_token(api, case):
    """The app's CSRF protection is on; the API is exempt because it never reads the cookie."""
    api.app.config["WTF_CSRF_ENABLED"] = True
    response = api.post(f"/alliances/{case.alliance.id}/categories", "coordinator", json={"name": "logistics"})
    assert response.status_code == 201


def test_an_outsider_gets_404_for_every_route_of_an_alliance(api, case, entry_id, session):
    before = row_counts(session)
    for method, path in alliance_routes(case, entry_id):
        response = api.call(method, path, "outsider", json={})
        assert response.status_code == 404, (method, path, response.get_json())
        assert "PPE" not in response.get_data(as_text=True)
    assert row_counts(session) == before


def test_an_alliance_that_does_not_exist_is_404_like_one_you_are_not_in(api, case):
    unknown = api.get("/alliances/999999", "alpha")
    foreign = api.get(f"/alliances/{case.other.id}", "alpha")
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.get_json() == foreign.get_json()


@pytest.mark.parametrize("path", ["/alliances/99999999999999999999999", "/alliances/0", "/alliances/-1",
                                  "/alliances/abc", "/nowhere"])
def test_ids_out_of_range_and_unknown_urls_are_json_404(api, path):
    response = api.get(path, "alpha")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


@pytest.mark.parametrize("alliance_id", ["0", "2147483648", "7563634957", "99999999999999999999999"])
def test_a_write_to_an_id_out_of_range_is_404_not_405(api, alliance_id):
    """Found by schemathesis: the GET rule of the same path matched first, so a POST was told its method is wrong."""
    response = api.post(f"/alliances/{alliance_id}/members", "coordinator", json={"email": "x@example.org",
                                                                                 "role": "accountant"})
    assert response.status_code == 404, response.get_json()
    assert api.post(f"/alliances/{alliance_id}/entries/1/reversal", "coordinator").status_code == 404


def test_objects_of_another_alliance_are_404_inside_mine(api, case, session):
    other_version_id = 999999
    a = case.alliance.id
    for path in (f"/alliances/{a}/entries/999999", f"/alliances/{a}/partners/999999",
                 f"/alliances/{a}/categories/999999", f"/alliances/{a}/members/999999",
                 f"/alliances/{a}/agreement/versions/{other_version_id}",
                 f"/alliances/{a}/members/{_outsider_membership(session, case)}"):
        assert api.get(path, "alpha").status_code == 404, path
    assert api.post(f"/alliances/{a}/entries/999999/reversal", "alpha").status_code == 404


def _outsider_membership(session, case) -> int:
    from ledger.queries import membership_in

    return membership_in(session, case.users["outsider"], case.other.id).id


def _write_bodies(case) -> dict[str, dict]:
    return {
        "partners": {"name": "Delta", "role": "other", "type": "university"},
        "categories": {"name": "logistics"},
        "members": {"email": "alpha@example.org", "role": "accountant"},
        "agreement/versions": {"effective_from": "2021-01-01", "pools": []},
    }


@pytest.mark.parametrize("who", ["accountant", "steering", "alpha"])
def test_only_the_coordinator_manages_partners_categories_members_and_agreements(api, case, session, who):
    before = row_counts(session)
    for collection, body in _write_bodies(case).items():
        response = api.post(f"/alliances/{case.alliance.id}/{collection}", who, json=body)
        assert response.status_code == 403, (who, collection, response.get_json())
    assert row_counts(session) == before


@pytest.mark.parametrize("who", ["accountant", "steering"])
def test_accountants_and_steering_members_read_but_record_nothing(api, case, session, entry_id, who):
    a = case.alliance.id
    before = row_counts(session)
    body = {"date": "2020-05-02", "partner_id": case.pid("Alpha"), "kind": "cost",
            "category_id": case.cid("production"), "amount": "1.00", "description": "x"}
    assert api.post(f"/alliances/{a}/entries", who, json=body).status_code == 403
    assert api.post(f"/alliances/{a}/entries/{entry_id}/reversal", who).status_code == 403
    assert api.post(f"/alliances/{a}/settle-up", who).status_code == 403
    assert row_counts(session) == before
    for method, path in alliance_routes(case, entry_id):
        if method == "GET":
            assert api.get(path, who).status_code == 200, path


def test_a_partner_member_records_only_for_their_own_partner(api, case, session):
    a = case.alliance.id
    body = {"date": "2020-05-02", "partner_id": case.pid("Beta"), "kind": "cost",
            "category_id": case.cid("production"), "amount": "10.00", "description": "fabric"}
    before = row_counts(session)
    response = api.post(f"/alliances/{a}/entries", "alpha", json=body)
    assert response.status_code == 422
    assert "partner_id" in error_fields(response)
    assert row_counts(session) == before
    assert api.post(f"/alliances/{a}/entries", "alpha", json={**body, "partner_id": case.pid("Alpha")}
                    ).status_code == 201


def test_a_partner_member_cannot_reverse_another_partners_entry(api, case, session, entry_id):
    response = api.post(f"/alliances/{case.alliance.id}/entries/{entry_id}/reversal", "beta")
    assert response.status_code == 403
    assert api.post(f"/alliances/{case.alliance.id}/entries/{entry_id}/reversal", "alpha").status_code == 201


def test_only_the_coordinator_records_a_settle_up(api, case, session, entry_id):
    for who in ("alpha", "beta", "accountant", "steering"):
        assert api.post(f"/alliances/{case.alliance.id}/settle-up", who).status_code == 403, who
    seen = api.get(f"/alliances/{case.alliance.id}/settle-up", "coordinator").get_json()["fingerprint"]
    assert api.post(f"/alliances/{case.alliance.id}/settle-up", "coordinator",
                    json={"expected": seen}).status_code == 201


def test_a_body_over_the_size_limit_is_a_json_413(api, case, session):
    before = row_counts(session)
    response = api.post(f"/alliances/{case.alliance.id}/categories", "coordinator",
                        data=b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}')
    assert response.status_code == 413
    assert response.get_json()["error"]["status"] == 413
    assert row_counts(session) == before


def test_a_method_the_route_does_not_have_is_a_json_405(api, case):
    response = api.call("DELETE", f"/alliances/{case.alliance.id}", "coordinator")
    assert response.status_code == 405
    assert response.get_json()["error"]["status"] == 405


def test_the_token_and_the_membership_of_the_named_alliance_are_read_together(session, case):
    """``access_for_token`` loads the membership as ``membership_in`` would, and nothing for other alliances."""
    _, plain = create_token(session, session.get(User, case.users["beta"].id), "script")
    session.commit()
    access = access_for_token(session, plain, case.alliance.id)
    assert access.user.id == case.users["beta"].id
    assert (access.membership.id, access.membership.alliance.id, access.membership.partner.name) == (
        case.memberships["beta"].id, case.alliance.id, "Beta")
    for elsewhere in (case.alliance.id + 1000, 0, 2**40, None):
        assert access_for_token(session, plain, elsewhere).membership is None
    assert access_for_token(session, plain + "x", case.alliance.id) is None


def test_a_revoked_token_is_refused_on_an_alliance_route_too(api, session, case):
    user = session.get(User, case.users["beta"].id)
    token, plain = create_token(session, user, "script")
    session.commit()
    assert api.get(f"/alliances/{case.alliance.id}/entries", token=plain).status_code == 200
    revoke_token(session, user, token.id)
    session.commit()
    assert api.get(f"/alliances/{case.alliance.id}/entries", token=plain).status_code == 401
