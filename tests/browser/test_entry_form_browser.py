"""Recording an entry in a real browser, with the keyboard only, as a partner does all day."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.builders import PASSWORD


def _login(page, server, who: str) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=email]", f"{who}@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")


def _focused(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.name")


def test_partner_records_a_cost_with_the_keyboard_and_sees_the_balance(live_server, page, case):
    alliance = case.alliance.id
    _login(page, live_server, "beta")
    page.goto(f"{live_server.url}/a/{alliance}/entries/new")
    page.fill("input[name=date]", "2020-05-04")
    # A partner member acts for one partner: it is chosen for them.
    assert page.eval_on_selector("select[name=partner_id]", "s => s.options[s.selectedIndex].text") == "Beta"
    # The counterparty only matters for settlements, so it is out of the way for a cost ...
    assert not page.is_visible("select[name=counterparty_id]")
    page.focus("select[name=kind]")
    page.select_option("select[name=kind]", "cost")
    page.keyboard.press("Tab")
    assert _focused(page) == "category_id"
    page.select_option("select[name=category_id]", label="waste")
    page.keyboard.press("Tab")
    assert _focused(page) == "amount"
    page.keyboard.type("1.243,57")
    page.keyboard.press("Tab")
    assert _focused(page) == "description"
    page.keyboard.type("Rejected masks, week 18")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(f"{live_server.url}/a/{alliance}/ledger")
    assert "Rejected masks, week 18" in page.content()

    page.goto(f"{live_server.url}/a/{alliance}/")
    beta_net = page.get_attribute("tr[data-partner=Beta] [data-figure=net]", "data-cents")
    alpha_net = page.get_attribute("tr[data-partner=Alpha] [data-figure=net]", "data-cents")
    # Beta bore 1,243.57 of a cost shared 50/50; the odd cent falls to Alpha's share, so Alpha owes 621.79.
    assert (beta_net, alpha_net) == ("62179", "-62179")
    assert "€621.79" in page.inner_text("tr[data-partner=Beta] [data-figure=net]")
    screenshot(page, "dashboard-after-cost")


def test_settlement_shows_the_counterparty_and_hides_the_category(live_server, page, case):
    _login(page, live_server, "coordinator")
    page.goto(f"{live_server.url}/a/{case.alliance.id}/entries/new")
    page.select_option("select[name=kind]", "settlement")
    assert page.is_visible("select[name=counterparty_id]")
    assert not page.is_visible("select[name=category_id]")


def test_bad_amount_is_reported_at_the_field_and_nothing_is_recorded(live_server, page, case):
    _login(page, live_server, "alpha")
    page.goto(f"{live_server.url}/a/{case.alliance.id}/entries/new")
    page.fill("input[name=date]", "2020-05-04")
    page.select_option("select[name=kind]", "cost")
    page.select_option("select[name=category_id]", label="production")
    page.fill("input[name=amount]", "1,234")
    page.fill("input[name=description]", "Ambiguous amount")
    with page.expect_navigation():
        page.click("form.entry-form [name=save]")
    error = page.inner_text("#amount-error")
    assert "ambiguous" in error
    # What the partner typed is still there to correct.
    assert page.input_value("input[name=description]") == "Ambiguous amount"
    page.goto(f"{live_server.url}/a/{case.alliance.id}/ledger")
    assert "Ambiguous amount" not in page.content()
