"""The Verify page of a chain longer than a segment, in a real browser: verify.js walks it and gives the verdict.

The segment is set to 2 links, so the case's seven-record chain takes four requests and the last step, as a
million-record chain takes fifty and the last step. Tampering is raw SQL, as in tests/integration/test_chain.py.
"""

from __future__ import annotations

from playwright.sync_api import expect

from ledger.domain.chain import UNSEEN_WITHOUT_A_HEAD
from tests.browser.conftest import screenshot
from tests.integration.test_chain import booked, sql  # noqa: F401 - the booked case, as a fixture


def test_a_long_chain_is_walked_by_the_page_and_a_tampered_record_is_named(app, live, people, case, booked,  # noqa: F811
                                                                           database_url):
    app.config["VERIFY_SEGMENT"] = 2
    page = people("accountant")
    page.goto(f"{live.url}/a/{case.alliance.id}/verify")
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-intact", "true")
    expect(verdict).to_have_text("Intact: 7 records chained, every one as it was recorded; the running totals add up "
                                 f"to the entries. {UNSEEN_WITHOUT_A_HEAD}")
    expect(page.locator("#verify-bar")).to_have_js_property("value", 7)  # every segment walked
    expect(page.locator("#verify-bar")).to_be_hidden()
    expect(page.locator("#totals-check")).to_have_attribute("data-agree", "true")
    expect(page.locator("#verify-problems")).to_be_hidden()

    sql(database_url, "UPDATE entries SET amount = amount + 1 WHERE id = :id", id=booked["waste"])
    page.reload()
    expect(verdict).to_have_attribute("data-intact", "false")
    waste = f"entry #{booked['waste']}"
    expect(verdict).to_contain_text(f"The chain is broken. The first record that does not match: {waste} "
                                    f"(position 4): {waste} does not match its hash")
    rows = page.locator("#verify-problems tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-kind", "changed")
    expect(page.locator("#problems-more")).to_be_hidden()
    screenshot(page, "verify-long-chain-broken")


def test_the_walk_gives_the_verdict_of_every_other_channel_when_the_newest_entry_is_gone(
        app, live, people, case, booked, database_url):  # noqa: F811
    """Issue 16, item 15: the newest entry and its link deleted leave a chain that holds together on its own;
    the walk's verdict is the whole check's, in words (partner, figure, money), never "Intact"."""
    sql(database_url, "DELETE FROM chain_links WHERE alliance_id = :a AND record_type = 'entry' AND record_id = :id",
        "DELETE FROM activity WHERE entry_id = :id", "DELETE FROM entries WHERE id = :id",
        a=case.alliance.id, id=booked["reversal"])
    page = people("accountant")
    page.goto(f"{live.url}/a/{case.alliance.id}/verify")
    whole = " ".join(page.locator("#verdict").inner_text().split())
    assert "EUR 99.99 less in the totals" in whole

    app.config["VERIFY_SEGMENT"] = 2
    page.reload()
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-intact", "false")
    expect(verdict).to_have_text(whole)
    expect(page.locator("#totals-check")).to_have_attribute("data-agree", "false")
    expect(page.locator("#totals-check")).to_contain_text("Alpha's cost entries")
    screenshot(page, "verify-long-chain-newest-entry-deleted")
