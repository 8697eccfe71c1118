"""Steering members may sit for a partner (their checkpoint vote then counts as that partner's), on the page
and through the API; other roles than partner and steering members still take no partner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger.domain.vocabulary import MemberRole
from ledger.models import Membership, User
from tests.e2e.api_support import Api, error_fields, make_tokens, row_counts
from tests.e2e.test_web_manage import count, error_at


def membership_of(session, case, email: str) -> Membership:
    session.rollback()
    session.expire_all()  # the request wrote through its own session: read afresh
    return session.scalar(select(Membership).join(User).where(Membership.alliance_id == case.alliance.id,
                                                              User.email == email))


def test_the_form_offers_the_partner_to_partner_and_steering_members(client, auth, case):
    auth.login("coordinator")
    page = client.get(f"/a/{case.alliance.id}/members").get_data(as_text=True)
    assert "Required for a partner member" in page
    assert "optional for a steering member (the partner they sit for" in page
    assert f'<option value="{case.pid("Alpha")}">Alpha</option>' in page


def test_a_steering_member_for_alpha_via_the_page(client, auth, session, case):
    auth.login("coordinator")
    url = f"/a/{case.alliance.id}/members"
    response = client.post(url, data={"action": "add", "email": "sam@example.org", "role": "steering_member",
                                      "partner_id": str(case.pid("Alpha")), "name": "Sam Steer",
                                      "password": "long enough password"}, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Added Sam Steer as steering member for Alpha." in page
    member = membership_of(session, case, "sam@example.org")
    assert (member.role, member.partner.name) == (MemberRole.STEERING_MEMBER, "Alpha")
    row = page[page.index(f'id="member-{member.id}"'):]
    assert "<td>steering member for Alpha</td>" in row[:row.index("</tr>")]
    # Everyone reads who sits for whom, not only the coordinator.
    auth.logout()
    auth.login("beta")
    assert "steering member for Alpha" in client.get(url).get_data(as_text=True)


def test_a_steering_member_may_sit_for_nobody_and_change_seat(client, auth, session, case):
    auth.login("coordinator")
    url = f"/a/{case.alliance.id}/members"
    steering = case.memberships["steering"].id
    assert membership_of(session, case, "steering@example.org").partner_id is None
    changed = client.post(url, data={"action": "change", "member_id": str(steering), "role": "steering_member",
                                     "partner_id": str(case.pid("Beta"))}, follow_redirects=True)
    assert "Steering User is now steering member for Beta." in changed.get_data(as_text=True)
    assert membership_of(session, case, "steering@example.org").partner.name == "Beta"
    client.post(url, data={"action": "change", "member_id": str(steering), "role": "steering_member",
                           "partner_id": ""})
    assert membership_of(session, case, "steering@example.org").partner_id is None


@pytest.mark.parametrize("role", ["accountant", "coordinator"])
def test_other_roles_with_a_partner_are_refused_at_the_field_on_the_page(client, auth, session, case, role):
    auth.login("coordinator")
    members = count(session, Membership)
    response = client.post(f"/a/{case.alliance.id}/members", data={
        "action": "add", "email": "outsider@example.org", "role": role, "partner_id": str(case.pid("Alpha"))})
    assert response.status_code == 422
    message = error_at(response.get_data(as_text=True), "partner_id") or ""
    assert "Only partner members and steering members act for a partner" in message
    assert "leave the partner empty" in message
    assert count(session, Membership) == members


def test_an_unknown_partner_for_a_steering_member_is_refused(client, auth, session, case):
    auth.login("coordinator")
    members = count(session, Membership)
    response = client.post(f"/a/{case.alliance.id}/members", data={
        "action": "add", "email": "outsider@example.org", "role": "steering_member", "partner_id": "999999"})
    assert response.status_code == 422
    assert "Unknown partner" in (error_at(response.get_data(as_text=True), "partner_id") or "")
    assert count(session, Membership) == members


@pytest.fixture
def api(app, client, session, case) -> Api:
    return Api(app, client, make_tokens(session, case))


def test_a_steering_member_for_alpha_via_the_api(api, case, session):
    path = f"/alliances/{case.alliance.id}/members"
    response = api.post(path, "coordinator", json={"email": "outsider@example.org", "role": "steering_member",
                                                   "partner_id": case.pid("Alpha")})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["role"], body["partner_id"], body["partner"]) == ("steering_member", case.pid("Alpha"), "Alpha")
    assert api.get(f"{path}/{body['id']}", "beta").get_json() == body
    mine = api.get(f"/alliances/{case.alliance.id}", "outsider").get_json()
    assert (mine["role"], mine["partner_id"]) == ("steering_member", case.pid("Alpha"))
    # Without a partner a steering member is independent; that is still allowed.
    plain = api.post(path, "coordinator", json={"email": "new@example.org", "role": "steering_member",
                                                "name": "Ned Neutral", "password": "long enough password"})
    assert plain.status_code == 201
    assert plain.get_json()["partner_id"] is None


def test_an_accountant_with_a_partner_is_refused_at_the_field_via_the_api(api, case, session):
    before = row_counts(session)
    response = api.post(f"/alliances/{case.alliance.id}/members", "coordinator", json={
        "email": "outsider@example.org", "role": "accountant", "partner_id": case.pid("Alpha")})
    assert response.status_code == 422
    assert "leave the partner empty" in error_fields(response)["partner_id"]
    assert row_counts(session) == before


def test_the_api_document_says_who_takes_a_partner(api):
    described = api.contract.doc["components"]["schemas"]["MemberInput"]["properties"]["partner_id"]["description"]
    assert "Required for a partner member" in described
    assert "optional for a steering member" in described
