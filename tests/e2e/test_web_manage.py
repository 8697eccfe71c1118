"""Partners, categories and members, managed by the coordinator through the pages."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from ledger.models import Category, Membership, Partner, User


def error_at(page: str, field: str) -> str | None:
    match = re.search(rf'id="{re.escape(field)}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else None


def count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def test_partners_page_lists_partners_and_categories(client, auth, case):
    auth.login("omega")
    page = client.get(f"/a/{case.alliance.id}/partners").get_data(as_text=True)
    assert "<th scope=\"row\">Gamma</th><td>supplier</td><td>supplier</td>" in page
    assert "raw materials" in page
    assert "Add a partner" not in page


def test_coordinator_adds_a_partner_and_a_category(client, auth, session, case):
    auth.login("coordinator")
    url = f"/a/{case.alliance.id}/partners"
    partners = count(session, Partner)
    response = client.post(url, data={"action": "partner", "name": "Delta Lab", "role": "other",
                                      "type": "commercial_laboratory"})
    assert response.status_code == 302
    assert count(session, Partner) == partners + 1
    assert "Delta Lab" in client.get(url).get_data(as_text=True)

    duplicate = client.post(url, data={"action": "partner", "name": "alpha", "role": "other", "type": "other"})
    assert duplicate.status_code == 422
    assert "already has a partner called alpha" in error_at(duplicate.get_data(as_text=True), "name")
    bad_type = client.post(url, data={"action": "partner", "name": "Zeta", "role": "boss", "type": "alien"})
    assert bad_type.status_code == 422
    page = bad_type.get_data(as_text=True)
    assert "Choose a role" in error_at(page, "role")
    assert "Choose a type" in error_at(page, "type")
    assert count(session, Partner) == partners + 1

    categories = count(session, Category)
    assert client.post(url, data={"action": "category", "name": "Logistics"}).status_code == 302
    assert count(session, Category) == categories + 1
    again = client.post(url, data={"action": "category", "name": "logistics"})
    assert again.status_code == 422
    assert "already a category" in error_at(again.get_data(as_text=True), "name")
    too_long = client.post(url, data={"action": "category", "name": "c" * 121})
    assert too_long.status_code == 422
    assert count(session, Category) == categories + 1
    assert client.post(url, data={"action": "nonsense"}).status_code == 400


def test_members_page_lists_members_for_everyone(client, auth, case):
    auth.login("alpha")
    page = client.get(f"/a/{case.alliance.id}/members").get_data(as_text=True)
    assert "beta@example.org" in page
    assert "partner member for Beta" in page
    assert "Add a member" not in page


def test_coordinator_adds_an_existing_user_and_a_new_person(client, auth, session, case):
    auth.login("coordinator")
    url = f"/a/{case.alliance.id}/members"
    members = count(session, Membership)
    existing = client.post(url, data={"action": "add", "email": "outsider@example.org", "role": "accountant",
                                      "partner_id": ""})
    assert existing.status_code == 302
    new_person = client.post(url, data={"action": "add", "email": "dora@example.org", "role": "partner_member",
                                        "partner_id": str(case.pid("Gamma")), "name": "Dora Gamma",
                                        "password": "a long enough password"})
    assert new_person.status_code == 302
    assert count(session, Membership) == members + 2
    assert session.scalar(select(User).where(User.email == "dora@example.org")).name == "Dora Gamma"
    page = client.get(url).get_data(as_text=True)
    assert "Dora Gamma" in page
    assert "Olga Outsider" in page


def test_adding_a_member_with_bad_input(client, auth, session, case):
    auth.login("coordinator")
    url = f"/a/{case.alliance.id}/members"
    members, users = count(session, Membership), count(session, User)
    cases = [
        ({"email": "not-an-email", "role": "accountant"}, "email", "is not an email address"),
        ({"email": "alpha@example.org", "role": "accountant"}, "email", "already a member"),
        ({"email": "x@example.org", "role": "king"}, "role", "Choose a role"),
        ({"email": "outsider@example.org", "role": "partner_member", "partner_id": ""}, "partner_id",
         "Choose a partner"),
        ({"email": "outsider@example.org", "role": "partner_member", "partner_id": "99999"}, "partner_id",
         "Unknown partner"),
        ({"email": "outsider@example.org", "role": "accountant", "partner_id": str(case.pid("Beta"))}, "partner_id",
         "leave the partner empty"),
        ({"email": "new@example.org", "role": "accountant", "name": "", "password": "long enough pw"}, "name",
         "give their name"),
        ({"email": "new@example.org", "role": "accountant", "name": "New", "password": "short"}, "password",
         "at least 10 characters"),
    ]
    for data, field, message in cases:
        response = client.post(url, data={"action": "add", **data})
        assert response.status_code == 422, data
        assert message in (error_at(response.get_data(as_text=True), field) or ""), data
    assert count(session, Membership) == members
    assert count(session, User) == users


def test_coordinator_changes_a_role_and_removes_a_member(client, auth, session, case):
    auth.login("coordinator")
    url = f"/a/{case.alliance.id}/members"
    gamma = case.memberships["gamma"].id
    changed = client.post(url, data={"action": "change", "member_id": str(gamma), "role": "steering_member",
                                     "partner_id": ""})
    assert changed.status_code == 302
    session.rollback()
    assert session.get(Membership, gamma).role.value == "steering_member"
    bad = client.post(url, data={"action": "change", "member_id": str(gamma), "role": "partner_member",
                                 "partner_id": ""})
    assert bad.status_code == 422
    assert "Choose a partner" in error_at(bad.get_data(as_text=True), "partner_id")
    assert client.post(url, data={"action": "change", "member_id": "999999", "role": "accountant"}).status_code == 404
    other_alliance_member = session.scalar(select(Membership.id).where(Membership.alliance_id == case.other.id))
    assert client.post(url, data={"action": "remove", "member_id": str(other_alliance_member)}).status_code == 404

    members = count(session, Membership)
    assert client.post(url, data={"action": "remove", "member_id": str(gamma)}).status_code == 302
    assert count(session, Membership) == members - 1
    # The last coordinator cannot leave: a 409, not a 500, and nothing changes. The answer is the members
    # page itself saying why and what to do, with its forms, not an error page with no way on.
    me = case.memberships["coordinator"].id
    for data in ({"action": "remove", "member_id": str(me)},
                 {"action": "change", "member_id": str(me), "role": "accountant", "partner_id": ""}):
        refused = client.post(url, data=data)
        assert refused.status_code == 409
        page = html.unescape(refused.get_data(as_text=True))
        assert "You are the alliance's only coordinator" in page
        assert "make another member coordinator first" in page
        assert 'id="add-member-h"' in page  # the page to do it on
        assert f'id="member-{me}"' in page
    assert count(session, Membership) == members - 1
    session.rollback()
    assert session.get(Membership, me).role.value == "coordinator"


def test_creating_an_alliance_through_the_page(client, auth, session, case):
    auth.login("outsider")
    bad = client.post("/alliances/new", data={"name": "", "currency": "EURO", "start_date": "2021-01-01",
                                              "term_end": "2020-01-01"})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert error_at(page, "name")
    assert "ISO 4217" in error_at(page, "currency")
    assert "on or after its start" in error_at(page, "term_end")
    response = client.post("/alliances/new", data={"name": "Gowns 2021", "cause": "Hospital gowns",
                                                   "currency": "eur", "start_date": "2021-01-01",
                                                   "term_end": "2022-12-31"})
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Gowns 2021" in home
    assert "coordinator" in home
    new_id = int(re.search(r'href="/a/(\d+)/">Gowns 2021', home).group(1))
    # A fresh alliance (no partners, no agreement yet) still renders every page.
    for path in ("", "ledger", "entries/new", "agreement", "agreement/new", "partners", "members"):
        assert client.get(f"/a/{new_id}/{path}").status_code == 200, path
    refused = client.post(f"/a/{new_id}/entries/new", data={"date": "2021-02-01", "kind": "cost", "amount": "5",
                                                           "description": "x"})
    assert refused.status_code == 422
    assert error_at(refused.get_data(as_text=True), "partner_id")
