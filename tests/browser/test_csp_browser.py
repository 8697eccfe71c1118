"""The Content-Security-Policy in a real browser: the main pages break none of it, and their scripts still work.

Chromium reports every blocked inline script, handler or style on the console ("... violates the
following Content Security Policy directive ...") and fires ``securitypolicyviolation``; both are
collected for every page. A control proves the policy is enforced and the collection sees it.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_live
from tests.builders import PASSWORD
from tests.e2e.test_checkpoint_pages import add_steering, opened, some_entries

#: Registered before any page script runs (Playwright injects it outside the page's policy).
COLLECT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(page):
    """The page, and the list of CSP violations its console reports."""
    reported: list[str] = []
    page.on("console", lambda message: reported.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: reported.append(f"page error: {error}"))
    page.add_init_script(COLLECT)
    return page, reported


def violations(page, reported: list[str]) -> list[str]:
    return reported + page.evaluate("window.__csp || []")


def log_in(page, url: str, who: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=email]", f"{who}@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def test_the_main_pages_keep_the_policy_and_their_scripts_work(case_day, live, watched, session, case):
    page, reported = watched
    add_steering(session, case)
    some_entries(session, case)
    checkpoint = opened(session, case)
    a = f"{live.url}/a/{case.alliance.id}"
    log_in(page, live.url, "coordinator")
    assert violations(page, reported) == []

    for url in (f"{a}/", f"{a}/ledger", f"{a}/balance"):  # the live pages: their stream still connects
        open_live(page, url)
        assert violations(page, reported) == [], url

    page.goto(f"{a}/entries/new")  # entry-form.js: the counterparty shows only for a settlement
    expect(page.locator("select[name=counterparty_id]")).to_be_hidden()
    page.select_option("select[name=kind]", "settlement")
    expect(page.locator("select[name=counterparty_id]")).to_be_visible()
    expect(page.locator("select[name=category_id]")).to_be_hidden()

    for path in ("/checkpoints", f"/checkpoints/{checkpoint.id}", "/charter", "/indicators", "/targets",
                 "/activity", "/periods", "/members", "/partners", "/agreement", "/import", "/export"):
        response = page.goto(a + path)
        assert response.status == 200, path
        page.wait_for_load_state("load")
        assert violations(page, reported) == [], path

    page.goto(f"{a}/checkpoints/{checkpoint.id}/pack")  # checkpoint.js shows the Print button
    expect(page.locator("button[data-print]")).to_be_visible()
    page.goto(f"{live.url}/account")
    assert violations(page, reported) == []


def test_an_inline_script_is_blocked_and_reported(live, watched, case):
    """The control: what the policy forbids does not run, and the test above would have seen it."""
    page, reported = watched
    log_in(page, live.url, "alpha")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__ran = true";
        document.body.appendChild(script);
        document.body.insertAdjacentHTML("beforeend", '<img src="x.png" onerror="window.__ran = true">');
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran === undefined")
    found = violations(page, reported)
    assert any("script-src" in v for v in found), found
