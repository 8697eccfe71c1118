"""Security headers on every kind of response, pages free of inline script and style, and 413 answered clearly.

The browser side of the Content-Security-Policy (no violation on the main pages, the scripts still
work) is tests/browser/test_csp_browser.py; here the policy is read from the responses and the
rendered HTML is searched for anything the policy would block.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from ledger.models import Entry, User
from ledger.services.users import create_token
from ledger.web.security import CONTENT_SECURITY_POLICY

EXPECTED = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
                                "object-src 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

#: What the policy blocks: a script element without src, an on...= handler, a style attribute or element.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b", re.I)


def assert_security_headers(response):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # development: plain HTTP


def test_the_policy_is_the_documented_one():
    assert EXPECTED["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_every_kind_of_response_carries_the_headers(client, auth, session, case):
    _, token = create_token(session, session.get(User, case.users["alpha"].id), "t")
    session.commit()
    a = case.alliance.id
    anonymous = [client.get("/login"), client.get("/"), client.get("/static/style.css"),
                 client.get("/api/v1/openapi.json"), client.get("/api/v1/alliances")]
    assert [r.status_code for r in anonymous] == [200, 302, 200, 200, 401]
    auth.login("alpha")
    bearer = {"Authorization": f"Bearer {token}"}
    logged_in = [client.get(f"/a/{a}/"), client.get("/no/such/page"), client.get(f"/a/{case.other.id}/"),
                 client.get(f"/api/v1/alliances/{a}/balance", headers=bearer), client.get("/logout")]
    assert [r.status_code for r in logged_in] == [200, 404, 404, 200, 405]
    for response in anonymous + logged_in:
        assert_security_headers(response)


def test_the_live_stream_carries_them_too(app, client, auth, case):
    app.config["LIVE_STREAM_SECONDS"] = 0.1
    auth.login("alpha")
    response = client.get(f"/a/{case.alliance.id}/events", buffered=False)
    try:
        assert response.mimetype == "text/event-stream"
        assert_security_headers(response)
    finally:
        response.close()


def test_the_main_pages_have_no_inline_script_or_style(client, auth, case):
    a = case.alliance.id
    auth.login("coordinator")
    pages = ["/", f"/a/{a}/", f"/a/{a}/ledger", f"/a/{a}/balance", f"/a/{a}/entries/new", f"/a/{a}/activity",
             f"/a/{a}/checkpoints", f"/a/{a}/charter", f"/a/{a}/indicators", f"/a/{a}/targets", f"/a/{a}/periods",
             f"/a/{a}/members", f"/a/{a}/partners", f"/a/{a}/agreement", f"/a/{a}/import", f"/a/{a}/export",
             "/account"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        found = INLINE.findall(response.get_data(as_text=True))
        assert not found, f"{url}: {found}"
    auth.logout()
    assert not INLINE.findall(client.get("/login").get_data(as_text=True))


# ---- 413 --------------------------------------------------------------------------------------------------

BIG = "x" * (2 * 1024 * 1024 + 1)


def entry_count(session) -> int:
    session.rollback()
    return session.scalar(select(func.count(Entry.id)))


def test_an_oversized_form_is_a_413_page_not_a_500(client, auth, session, case):
    auth.login("alpha")
    response = client.post(f"/a/{case.alliance.id}/entries/new", data={"date": "2020-05-04", "description": BIG})
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "larger than this server accepts (at most 2 MB in all" in page
    assert "nothing was saved" in page
    assert_security_headers(response)
    assert entry_count(session) == 0


def test_an_oversized_log_in_is_a_413_page(client, case):
    response = client.post("/login", data={"email": "alpha@example.org", "password": BIG})
    assert response.status_code == 413
    assert "larger than this server accepts" in response.get_data(as_text=True)


def test_a_form_field_over_the_form_limit_says_so(client, auth, case):
    auth.login("alpha")
    response = client.post(f"/a/{case.alliance.id}/entries/new", data={"description": "x" * 600_000},
                           content_type="multipart/form-data")  # Werkzeug limits a field of a multipart form
    assert response.status_code == 413
    assert "500 KB in one form field" in response.get_data(as_text=True)


def test_an_oversized_api_body_is_a_json_413(client, session, case):
    _, token = create_token(session, session.get(User, case.users["alpha"].id), "t")
    session.commit()
    response = client.post(f"/api/v1/alliances/{case.alliance.id}/entries", data=b'{"description": "' +
                           BIG.encode() + b'"}', headers={"Authorization": f"Bearer {token}"},
                           content_type="application/json")
    assert response.status_code == 413
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == 413
    assert error["message"] == ("The request is larger than this server accepts (at most 2 MB in all); "
                                "nothing was saved.")
    assert entry_count(session) == 0


@pytest.mark.slow
def test_an_import_over_its_own_limit_is_a_413_message_at_the_upload(app, client, auth, session, case, tmp_path):
    """The import route takes 64 MB (its own limit, here lowered to 4 MB), not 2 MB; past it, a message."""
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    app.config["IMPORT_MAX_BYTES"] = 4 * 1024 * 1024
    auth.login("coordinator")
    url = f"/a/{case.alliance.id}/import"
    header = b"date,partner,kind,category,amount,description\n"
    three_mb = header + b"2020-05-04,Alpha,cost,production,1,x\n" * (3 * 1024 * 1024 // 40)
    response = client.post(url, data={"file": (io.BytesIO(three_mb), "three-mb.csv")},
                           content_type="multipart/form-data")
    assert response.status_code != 413  # over the app-wide 2 MB, under the import's own limit: read, not refused
    too_big = header + b"x" * (4 * 1024 * 1024)
    response = client.post(url, data={"file": (io.BytesIO(too_big), "too-big.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "The file is larger than 4 MB" in page
    assert 'type="file"' in page  # the upload form again, to choose a smaller file
    assert entry_count(session) == 0
