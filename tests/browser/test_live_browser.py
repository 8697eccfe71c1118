"""Live pages in a real browser: what one partner records appears on another partner's open pages.

Two (or three) browser contexts are separate people with separate sessions.
Every check waits with Playwright's own polling, bounded by LIVE_MS, so a
regression shows as a timeout rather than a slow pass.
"""

from __future__ import annotations

from playwright.sync_api import expect

from ledger.models import Activity, Alliance, Membership, User
from ledger.services.alliances import remove_member
from ledger.services.users import create_token
from tests.browser.conftest import open_live, screenshot

LIVE_MS = 2_000


def token_for(session, case, who: str) -> str:
    _, plain = create_token(session, session.get(User, case.users[who].id), "live test")
    session.commit()
    return plain


def post_entry(page, live, case, token: str, **fields) -> dict:
    body = {"date": "2020-05-04", "kind": "cost", "category_id": case.cid("production"),
            "description": "posted through the API", **fields}
    response = page.context.request.post(f"{live.url}/api/v1/alliances/{case.alliance.id}/entries", data=body,
                                         headers={"Authorization": f"Bearer {token}"})
    assert response.status == 201, response.text()
    return response.json()


def summary_of(session, entry_id: int) -> str:
    session.rollback()
    return session.query(Activity).filter_by(entry_id=entry_id).one().summary


def last_seq(session, case) -> int:
    session.rollback()
    return session.get(Alliance, case.alliance.id).event_seq


def test_a_cost_recorded_by_alpha_appears_on_betas_dashboard_without_a_reload(live, people, session, case):
    a = case.alliance.id
    beta = people("beta")
    open_live(beta, f"{live.url}/a/{a}/")
    beta.evaluate("window.__marker = 42")
    beta.click("#notify_above")
    beta.keyboard.type("1234,5")  # typed, never submitted
    beta.fill("#from", "2020-04-01")  # the period chooser, also not submitted
    beta.focus("#notify_above")

    alpha = people("alpha")
    alpha.goto(f"{live.url}/a/{a}/entries/new")
    alpha.fill("input[name=date]", "2020-05-04")
    alpha.select_option("select[name=kind]", "cost")
    alpha.select_option("select[name=category_id]", label="waste")
    alpha.fill("input[name=amount]", "2.000,00")
    alpha.fill("input[name=description]", "Rejected rolls, week 19")
    with alpha.expect_navigation():
        alpha.click("form.entry-form [name=save]")

    row = beta.locator("[data-live-region=latest] tr[data-entry-id]", has_text="Rejected rolls, week 19")
    expect(row).to_be_visible(timeout=LIVE_MS)
    entry_id = int(row.get_attribute("data-entry-id"))
    summary = summary_of(session, entry_id)
    assert summary == f"Alpha (Alpha User) recorded a waste cost of EUR 2,000.00 (#{entry_id})"
    # The balance: Alpha bore 2,000.00 of a cost shared 50/50, so Beta owes Alpha 1,000.00.
    net = "[data-live-region=balance] tr[data-partner={}] [data-figure=net]"
    expect(beta.locator(net.format("Alpha"))).to_have_attribute("data-cents", "100000", timeout=LIVE_MS)
    expect(beta.locator(net.format("Beta"))).to_have_attribute("data-cents", "-100000")
    transfer = beta.locator("[data-live-region=settle-up] [data-transfer=Beta-Alpha]")
    expect(transfer).to_contain_text("Beta pays Alpha")
    expect(transfer.locator(".amount")).to_have_attribute("data-cents", "100000")
    expect(beta.locator("#live-toasts .live-toast")).to_have_text([summary])
    expect(beta.locator("[data-live-region=activity] li").first).to_contain_text(summary)
    expect(row).to_have_class("live-new")  # briefly highlighted
    # Nothing was reloaded and nothing the viewer typed or focused was touched.
    assert beta.evaluate("window.__marker") == 42
    assert beta.input_value("#notify_above") == "1234,5"
    assert beta.input_value("#from") == "2020-04-01"
    assert beta.evaluate("document.activeElement.id") == "notify_above"
    expect(beta.locator("#live-status")).to_have_text("Live")
    # Alpha's entry is nobody's concern for an alert: Beta has not set a threshold.
    expect(beta.locator("#live-alerts [role=alert]")).to_have_count(0)
    screenshot(beta, "live-dashboard")


def test_ledger_balance_and_activity_pages_follow_an_entry_posted_through_the_api(live, people, session, case):
    a = case.alliance.id
    token = token_for(session, case, "alpha")
    beta = people("beta")
    pages = {}
    for path in ("ledger", "balance", "activity"):
        pages[path] = beta.context.new_page()
        open_live(pages[path], f"{live.url}/a/{a}/{path}")
        pages[path].evaluate("window.__marker = 'still here'")
    seq_before = last_seq(session, case)

    entry = post_entry(beta, live, case, token, partner_id=case.pid("Alpha"), amount="300.01",
                       description="Certification, batch 3")
    summary = summary_of(session, entry["id"])

    ledger = pages["ledger"]
    expect(ledger.locator(f"[data-live-region=ledger] tr[data-entry-id='{entry['id']}']")).to_contain_text(
        "Certification, batch 3", timeout=LIVE_MS)
    expect(ledger.locator("[data-live-region=ledger] tr[data-kind=cost] [data-cents]")).to_have_attribute(
        "data-cents", "30001")
    expect(ledger.locator(".totals")).to_contain_text("1 entry")

    balance = pages["balance"]
    expect(balance.locator("tr[data-partner=Alpha] [data-figure=net]")).to_have_attribute(
        "data-cents", "15000", timeout=LIVE_MS)  # the odd cent of the share falls to Alpha
    expect(balance.locator("[data-transfer=Beta-Alpha] .amount")).to_have_attribute("data-cents", "15000")
    expect(balance.locator("#settle-form")).to_have_count(0)  # a partner member cannot settle

    feed = pages["activity"]
    newest = feed.locator("[data-live-region=activity-feed] li").first
    expect(newest).to_have_attribute("data-seq", str(seq_before + 1), timeout=LIVE_MS)
    expect(newest).to_contain_text(summary)
    expect(feed.locator("#live-toasts .live-toast")).to_have_text([summary])
    for page in pages.values():
        assert page.evaluate("window.__marker") == "still here"
        expect(page.locator("#alliance-nav")).to_have_attribute("data-last-seq", str(seq_before + 1))


def test_alert_for_large_entries_by_other_partners_only(live, people, session, case):
    a = case.alliance.id
    alpha_token, beta_token = token_for(session, case, "alpha"), token_for(session, case, "beta")
    beta = people("beta")
    beta.goto(f"{live.url}/a/{a}/")
    beta.fill("#notify_above", "1.000,00")
    with beta.expect_navigation():
        beta.click("#notify-form button[type=submit]")
    expect(beta.locator("#alliance-nav")).to_have_attribute("data-notify-above", "100000")
    expect(beta.locator("#live-status")).to_have_text("Live")
    toasts = beta.locator("#live-toasts .live-toast")
    alerts = beta.locator("#live-alerts [role=alert]")

    below = post_entry(beta, live, case, alpha_token, partner_id=case.pid("Alpha"), amount="999.99")
    expect(toasts.last).to_have_text(summary_of(session, below["id"]), timeout=LIVE_MS)
    own = post_entry(beta, live, case, beta_token, partner_id=case.pid("Beta"), amount="50000")
    expect(toasts.last).to_have_text(summary_of(session, own["id"]), timeout=LIVE_MS)
    expect(alerts).to_have_count(0)  # neither below the threshold nor by Beta itself

    above = post_entry(beta, live, case, alpha_token, partner_id=case.pid("Alpha"), amount="1000")
    summary = summary_of(session, above["id"])
    expect(alerts).to_have_count(1, timeout=LIVE_MS)
    expect(alerts.first).to_contain_text(summary)
    expect(alerts.first).to_contain_text("Entry by Alpha")
    expect(toasts.last).to_have_text(summary)
    beta.wait_for_timeout(200)  # it stays until dismissed (the toasts go away on their own)
    expect(alerts).to_have_count(1)
    alerts.first.get_by_role("button", name="Dismiss").click()
    expect(alerts).to_have_count(0)


def test_a_member_of_another_alliance_receives_nothing(live, people, session, case):
    a = case.alliance.id
    token = token_for(session, case, "alpha")
    outsider = people("outsider")
    open_live(outsider, f"{live.url}/a/{case.other.id}/")
    outsider_seq = outsider.get_attribute("#alliance-nav", "data-last-seq")
    refused = outsider.context.request.get(f"{live.url}/a/{a}/events?after=0")
    assert refused.status == 404
    beta = people("beta")
    open_live(beta, f"{live.url}/a/{a}/")

    entry = post_entry(beta, live, case, token, partner_id=case.pid("Alpha"), amount="42")
    expect(beta.locator("#live-toasts .live-toast")).to_have_text([summary_of(session, entry["id"])],
                                                                   timeout=LIVE_MS)
    beta.wait_for_timeout(300)  # give a misrouted event every chance to arrive at the outsider
    expect(outsider.locator("#live-toasts .live-toast")).to_have_count(0)
    expect(outsider.locator("#alliance-nav")).to_have_attribute("data-last-seq", outsider_seq)
    assert "42.00" not in outsider.inner_text("main")
    expect(outsider.locator("#live-status")).to_have_text("Live")


def test_a_removed_member_stops_receiving_and_is_told_so(live, people, session, case):
    a = case.alliance.id
    beta = people("beta")
    open_live(beta, f"{live.url}/a/{a}/")
    seq = beta.get_attribute("#alliance-nav", "data-last-seq")
    remove_member(session, session.get(User, case.users["coordinator"].id),
                  session.get(Membership, case.memberships["coordinator"].id),
                  session.get(Membership, case.memberships["beta"].id))
    session.commit()
    status = beta.locator("#live-status")
    expect(status).to_have_attribute("data-state", "stopped", timeout=LIVE_MS)
    expect(status).to_contain_text("Stopped")
    # The removal itself is not shown to the removed member, and the page does not try again.
    expect(beta.locator("#alliance-nav")).to_have_attribute("data-last-seq", seq)
    beta.wait_for_timeout(1_200)
    expect(status).to_have_attribute("data-state", "stopped")


def test_when_the_browser_gives_up_the_page_reconnects_itself_and_catches_up(live, people, session, case):
    a = case.alliance.id
    token = token_for(session, case, "alpha")
    beta = people("beta")
    opened = []

    def refuse_the_first(route):
        opened.append(route.request.url)
        if len(opened) == 1:
            route.fulfill(status=503, body="restarting")  # EventSource does not retry an HTTP error
        else:
            route.continue_()

    beta.route("**/events?*", refuse_the_first)
    seq = last_seq(session, case)
    beta.goto(f"{live.url}/a/{a}/")
    status = beta.locator("#live-status")
    expect(status).to_have_attribute("data-state", "offline")
    entry = post_entry(beta, live, case, token, partner_id=case.pid("Alpha"), amount="77", description="While away")
    expect(status).to_have_text("Live", timeout=3_000)
    row = beta.locator(f"[data-live-region=latest] tr[data-entry-id='{entry['id']}']")
    expect(row).to_have_count(1, timeout=LIVE_MS)
    expect(beta.locator("#live-toasts .live-toast")).to_have_count(1)
    assert [url.split("?")[1] for url in opened] == [f"after={seq}", f"after={seq}"]


# ---- a refresh that fails, a network that goes and comes back ------------------------------------------

def record_states(page) -> None:
    """From now on, every state the indicator takes is kept in ``window.__states``, in order."""
    page.evaluate("""() => {
        const status = document.getElementById("live-status");
        window.__states = [status.dataset.state];
        new MutationObserver(() => {
            const state = status.dataset.state;
            if (window.__states[window.__states.length - 1] !== state) window.__states.push(state);
        }).observe(status, {attributes: true, attributeFilter: ["data-state"]});
    }""")


def fail_refreshes(page, url: str, failures) -> list[str]:
    """Each of the page's own refreshes of ``url`` is answered by the next of ``failures`` (a status to
    answer with, "abort" to drop the request, None to let it through); the rest go through."""
    refreshes: list[str] = []
    plan = list(failures)

    def handle(route):
        if route.request.headers.get("x-live-refresh") != "1":
            route.continue_()
            return
        refreshes.append(route.request.url)
        outcome = plan.pop(0) if plan else None
        if outcome == "abort":
            route.abort("connectionreset")
        elif outcome is not None:
            route.fulfill(status=outcome, body="bad gateway")
        else:
            route.continue_()

    page.route(url, handle)
    return refreshes


def test_a_refresh_that_fails_is_tried_again_and_the_page_is_not_live_meanwhile(live, people, session, case):
    a = case.alliance.id
    token = token_for(session, case, "alpha")
    beta = people("beta")
    url = f"{live.url}/a/{a}/"
    refreshes = fail_refreshes(beta, url, [502, "abort"])
    open_live(beta, url)
    record_states(beta)
    entry = post_entry(beta, live, case, token, partner_id=case.pid("Alpha"), amount="41.5", description="Retried")
    status = beta.locator("#live-status")
    expect(status).to_have_attribute("data-state", "behind", timeout=LIVE_MS)
    expect(status).to_have_text("Catching up\u2026")
    row = beta.locator(f"[data-live-region=latest] tr[data-entry-id='{entry['id']}']")
    expect(row).to_have_count(1, timeout=5_000)  # two failures: tried again after 1 s, then after 2 s more
    expect(status).to_have_text("Live")
    assert len(refreshes) == 3
    assert beta.evaluate("window.__states") == ["live", "behind", "live"]  # never "Live" while behind
    expect(beta.locator("#live-toasts .live-toast")).to_have_count(1)  # told once, when it is shown


def test_a_refresh_that_fails_while_offline_is_made_when_the_network_returns(live, people, session, case):
    """The stream stays open (a local proxy, a flaky Wi-Fi): the refresh fails offline, and is made again as
    soon as the browser is back online, without waiting for the next event."""
    a = case.alliance.id
    token = token_for(session, case, "alpha")
    beta = people("beta")
    url = f"{live.url}/a/{a}/"
    refreshes = fail_refreshes(beta, url, ["abort"])  # what a fetch does offline
    open_live(beta, url)
    beta.context.set_offline(True)
    status = beta.locator("#live-status")
    expect(status).to_have_attribute("data-state", "offline", timeout=LIVE_MS)
    entry = post_entry(people("alpha"), live, case, token, partner_id=case.pid("Alpha"), amount="12",
                       description="Sent while Beta was offline")
    row = beta.locator(f"[data-live-region=latest] tr[data-entry-id='{entry['id']}']")
    beta.wait_for_timeout(1_500)
    beta.context.set_offline(False)
    expect(row).to_have_count(1, timeout=LIVE_MS)
    expect(status).to_have_text("Live")
    assert len(refreshes) >= 1


def test_the_indicator_is_live_again_when_the_network_returns_and_the_stream_survived(live, people, session, case):
    a = case.alliance.id
    beta = people("beta")
    opened = []
    beta.on("request", lambda request: opened.append(request.url) if "/events?" in request.url else None)
    open_live(beta, f"{live.url}/a/{a}/")
    streams = len(opened)
    beta.context.set_offline(True)
    status = beta.locator("#live-status")
    expect(status).to_have_attribute("data-state", "offline", timeout=LIVE_MS)
    beta.context.set_offline(False)
    expect(status).to_have_attribute("data-state", "live", timeout=3_000)
    expect(status).to_have_text("Live")
    assert len(opened) == streams  # the same stream: nothing was reopened


def test_logging_out_in_another_tab_stops_the_page_and_says_so(live, people, case):
    beta = people("beta")
    open_live(beta, f"{live.url}/a/{case.alliance.id}/")
    assert beta.context.request.post(f"{live.url}/logout", max_redirects=0).status == 302  # the same cookies
    status = beta.locator("#live-status")
    expect(status).to_have_attribute("data-state", "stopped", timeout=LIVE_MS)
    expect(status).to_have_text("Stopped: you are logged out")
