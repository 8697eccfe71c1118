"""Log-in in a real browser: the first thing every partner does."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.builders import PASSWORD


def test_partner_logs_in_with_the_keyboard_and_sees_their_alliance(live_server, page):
    page.goto(live_server.url + "/")
    assert page.url.startswith(live_server.url + "/login")
    page.wait_for_function("document.activeElement && document.activeElement.name === 'email'")
    page.keyboard.type("alpha@example.org")  # the email field has focus on arrival
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    assert "PPE masks 2020" in page.content()
    # Figures line up on the right, as in any account book: the table's own left alignment must not win.
    aligned = page.eval_on_selector_all("table.data td.num, table.data th.num",
                                        "cells => cells.map(c => getComputedStyle(c).textAlign)")
    assert aligned
    assert set(aligned) == {"right"}
    screenshot(page, "home")


def test_wrong_password_keeps_the_user_out_with_a_message(live_server, page):
    page.goto(live_server.url + "/login")
    page.fill("input[name=email]", "alpha@example.org")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "do not match an account" in page.content()
    page.goto(live_server.url + "/")
    assert "/login" in page.url
