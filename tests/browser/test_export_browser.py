"""The export form in Chromium: only the chosen period's inputs are shown, and what is shown is downloaded."""

from __future__ import annotations

from tests.browser.test_entry_form_browser import _login

INPUTS = {"month": "input[name=month]", "quarter": "input[name=quarter]", "range": "input[name=from]"}


def _shown(page) -> set[str]:
    return {period for period, selector in INPUTS.items() if page.is_visible(selector)}


def test_only_the_chosen_periods_inputs_are_shown_and_a_quarter_downloads_that_quarter(live_server, page, case):
    _login(page, live_server, "accountant")
    page.goto(f"{live_server.url}/a/{case.alliance.id}/export")
    assert page.is_checked("input[name=period][value=term]")
    assert _shown(page) == set(), "the whole term needs no input"
    for period in ("month", "quarter", "range"):
        page.check(f"input[name=period][value={period}]")
        assert _shown(page) == {period}, period
    assert page.is_visible("input[name=to]")

    # A quarter typed, then the whole term chosen again: the quarter goes out of view and is not sent.
    page.check("input[name=period][value=quarter]")
    page.fill("input[name=quarter]", "2020-Q2")
    page.check("input[name=period][value=term]")
    assert _shown(page) == set()
    with page.expect_download() as download:
        page.click("form.export-form button[type=submit]")
    assert f"_{case.alliance.start_date}_{case.alliance.term_end}_" in download.value.suggested_filename

    page.check("input[name=period][value=quarter]")
    assert page.input_value("input[name=quarter]") == "2020-Q2"
    with page.expect_download() as download:
        page.click("form.export-form button[type=submit]")
    assert "_2020-04-01_2020-06-30_" in download.value.suggested_filename
