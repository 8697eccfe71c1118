"""Every page through HTTP: who sees it, who is sent to log in, who gets 404 or 403."""

from __future__ import annotations

import pytest

from tests.builders import record

PAGES = [
    "/a/{a}/",
    "/a/{a}/ledger",
    "/a/{a}/entries/new",
    "/a/{a}/entries/{e}",
    "/a/{a}/agreement",
    "/a/{a}/agreement/new",
    "/a/{a}/partners",
    "/a/{a}/members",
]
READABLE = [p for p in PAGES if p not in ("/a/{a}/entries/new", "/a/{a}/agreement/new")]


@pytest.fixture
def entry_id(session, case) -> int:
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="100")
    session.commit()
    return entry.id


def urls(case, entry_id, pages=PAGES) -> list[str]:
    return [p.format(a=case.alliance.id, e=entry_id) for p in pages]


def test_every_page_renders_for_the_coordinator(client, auth, case, entry_id):
    auth.login("coordinator")
    for url in ["/", "/alliances/new", "/account", *urls(case, entry_id)]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "<main" in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["alpha", "accountant", "steering"])
def test_members_read_every_alliance_page(client, auth, case, entry_id, who):
    auth.login(who)
    for url in urls(case, entry_id, READABLE):
        assert client.get(url).status_code == 200, url
    home = client.get("/").get_data(as_text=True)
    assert "PPE masks 2020" in home


def test_anonymous_requests_go_to_the_login_page(client, case, entry_id):
    for url in ["/", "/account", "/alliances/new", *urls(case, entry_id)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]
    post = client.post(f"/a/{case.alliance.id}/entries/new", data={"amount": "1"})
    assert post.status_code == 302
    assert "/login" in post.headers["Location"]


def test_an_outsider_gets_404_on_every_alliance_page(client, auth, case, entry_id):
    auth.login("outsider")
    for url in urls(case, entry_id):
        assert client.get(url).status_code == 404, url
    a = case.alliance.id
    for url in [f"/a/{a}/entries/new", f"/a/{a}/entries/{entry_id}/reverse", f"/a/{a}/settle-up",
                f"/a/{a}/agreement/new", f"/a/{a}/partners", f"/a/{a}/members"]:
        assert client.post(url, data={}).status_code == 404, url
    assert "PPE masks 2020" not in client.get("/").get_data(as_text=True)


def test_unknown_alliance_and_entry_are_404(client, auth, case, entry_id):
    auth.login("coordinator")
    assert client.get("/a/999999/").status_code == 404
    assert client.get(f"/a/{case.alliance.id}/entries/999999").status_code == 404
    assert client.get(f"/a/{case.other.id}/entries/{entry_id}").status_code == 404


@pytest.mark.parametrize("who", ["accountant", "steering"])
def test_readers_cannot_record_or_manage(client, auth, session, case, entry_id, who):
    auth.login(who)
    a = case.alliance.id
    assert client.get(f"/a/{a}/entries/new").status_code == 403
    assert client.post(f"/a/{a}/entries/new", data={
        "date": "2020-05-02", "partner_id": str(case.pid("Alpha")), "kind": "cost",
        "category_id": str(case.cid("production")), "amount": "5", "description": "x"}).status_code == 403
    assert client.post(f"/a/{a}/entries/{entry_id}/reverse", data={}).status_code == 403
    assert client.post(f"/a/{a}/settle-up", data={}).status_code == 403
    assert client.get(f"/a/{a}/agreement/new").status_code == 403
    assert client.post(f"/a/{a}/partners", data={"action": "category", "name": "tools"}).status_code == 403
    assert client.post(f"/a/{a}/members", data={"action": "remove",
                                                "member_id": str(case.memberships["alpha"].id)}).status_code == 403
    page = client.get(f"/a/{a}/").get_data(as_text=True)
    assert "Record these transfers" not in page
    assert "New entry" not in page


def test_partner_members_do_not_manage(client, auth, case, entry_id):
    auth.login("beta")
    a = case.alliance.id
    assert client.get(f"/a/{a}/agreement/new").status_code == 403
    assert client.post(f"/a/{a}/partners", data={"action": "partner", "name": "Delta", "role": "other",
                                                 "type": "other"}).status_code == 403
    assert client.post(f"/a/{a}/settle-up", data={}).status_code == 403
    # Beta may not reverse Alpha's entry, and the page does not offer it.
    assert "Reverse this entry" not in client.get(f"/a/{a}/entries/{entry_id}").get_data(as_text=True)
    assert client.post(f"/a/{a}/entries/{entry_id}/reverse", data={}).status_code == 403


def test_header_links_to_the_account_and_alliance_navigation(client, auth, case):
    auth.login("alpha")
    page = client.get(f"/a/{case.alliance.id}/ledger").get_data(as_text=True)
    assert 'href="/account"' in page
    for label in ("Dashboard", "Ledger", "New entry", "Agreement", "Partners", "Members"):
        assert f">{label}</a>" in page
    assert 'aria-current="page">Ledger' in page
