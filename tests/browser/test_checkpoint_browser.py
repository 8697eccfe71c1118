"""A steering group's meeting in real browsers: from a checkpoint on the dashboard to a recorded decision.

Three people in three browser contexts: the steering members sitting for
Alpha and for Beta, and the coordinator. Each sees the others' steps arrive
on the open checkpoint page without a reload, and the decision changes the
alliance for everyone. "Today" is pinned inside the case's term (the
builders' TODAY), so the checkpoint due today opens by itself on first look.
"""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from ledger.models import Alliance, CharterVersion, Checkpoint
from tests.browser.conftest import open_live, screenshot
from tests.builders import TODAY
from tests.e2e.test_checkpoint_pages import add_steering, scheduled, some_entries

LIVE_MS = 2_000


@pytest.fixture
def meeting(case_day, session, case, live):
    """The case with its two protagonists' steering members, some costs and a review due today."""
    add_steering(session, case)
    some_entries(session, case)
    return scheduled(session, case, TODAY.isoformat(), label="3-month review")


def vote_in(page, choice: str, reason: str) -> None:
    form = page.locator("#vote-form")
    form.locator(f"input[name=choice][value={choice}]").check()
    form.locator("textarea[name=reason]").fill(reason)
    form.get_by_role("button", name="Vote").click()
    expect(page.locator(".flash-success")).to_be_visible()


def test_steering_members_vote_and_the_coordinator_records_a_renewal(live, people, session, case, meeting):
    checkpoint_url = f"{live.url}/a/{case.alliance.id}/checkpoints/{meeting.id}"

    # The steering member for Alpha finds the review on the dashboard and follows it.
    alpha = people("steer_alpha")
    alpha.goto(f"{live.url}/a/{case.alliance.id}")
    reviews = alpha.locator("section.reviews-panel")
    expect(reviews).to_contain_text("3-month review")
    reviews.get_by_role("link", name="3-month review").click()
    alpha.wait_for_url(checkpoint_url)
    expect(alpha.locator("#live-status")).to_have_attribute("data-state", "live")

    # It opened on its date: the figures are frozen as of today, with the balance of the entries so far.
    expect(alpha.locator("#checkpoint-status [data-state]")).to_have_text("open")
    expect(alpha.locator("#checkpoint-status")).to_contain_text(f"figures as of {TODAY.isoformat()}")
    expect(alpha.locator("[data-live-region=snapshot]")).to_contain_text("Alpha")
    expect(alpha.locator("#quorum-state")).to_have_attribute("data-quorum-met", "no")

    # The coordinator has the page open too; the decision form waits for the quorum.
    coordinator = people("coordinator")
    open_live(coordinator, checkpoint_url)
    expect(coordinator.locator("#decision-form")).to_be_hidden()

    # Alpha's steering member assesses the alliance for Alpha, then votes.
    form = alpha.locator("#assessment-form")
    for score, value in (("satisfaction", "4"), ("fairness", "3"), ("commitment", "5"), ("trust", "4")):
        form.locator(f"input[name={score}][value='{value}']").check()
    form.locator("input[name=challenges][value=delays]").check()
    form.locator("textarea[name=comments]").fill("Fabric rolls arrived three weeks late.")
    form.get_by_role("button", name="Save the assessment").click()
    expect(alpha.locator(".flash-success")).to_be_visible()
    vote_in(alpha, "renew", "Production is on target; the grant is still pending.")

    # The coordinator sees both arrive without reloading; one vote is not the quorum.
    assessments = coordinator.locator("[data-live-region=assessments]")
    expect(assessments).to_contain_text("Fabric rolls arrived three weeks late.", timeout=LIVE_MS)
    expect(coordinator.locator("#votes tr[data-voter='Alpha Steering']")).to_have_attribute(
        "data-vote", "renew", timeout=LIVE_MS)
    expect(coordinator.locator("#decision-form")).to_be_hidden()

    # Beta's steering member votes; now the quorum (a steering member for each protagonist) has voted.
    beta = people("steer_beta")
    beta.goto(checkpoint_url)
    vote_in(beta, "renew", "Keep going for another year.")
    expect(coordinator.locator("#quorum-state")).to_have_attribute("data-quorum-met", "yes", timeout=LIVE_MS)
    decision_form = coordinator.locator("#decision-form")
    expect(decision_form).to_be_visible(timeout=LIVE_MS)
    expect(coordinator.locator("#decision-leaning")).to_have_text("The votes lean to renew.")

    # Only the date the chosen decision needs is shown.
    decision_form.locator("input[name=decision][value=renew]").check()
    expect(decision_form.locator("input[name=new_term_end]")).to_be_visible()
    expect(decision_form.locator("input[name=end_date]")).to_be_hidden()
    decision_form.locator("textarea[name=rationale]").fill("Both protagonists renew; targets are being met.")
    decision_form.locator("input[name=new_term_end]").fill("2023-03-31")
    decision_form.get_by_role("button", name="Record the decision").click()
    expect(coordinator.locator("#decision-status")).to_have_attribute("data-decision", "renew")

    # The steering member's open page follows: decided, term extended, no more voting.
    expect(alpha.locator("#decision-status")).to_have_attribute("data-decision", "renew", timeout=LIVE_MS)
    expect(alpha.locator("#term-end")).to_have_text("2023-03-31", timeout=LIVE_MS)
    expect(alpha.locator("#vote-form")).to_be_hidden(timeout=LIVE_MS)
    screenshot(alpha, "checkpoint-decided")

    # The printable review pack carries the frozen figures, the assessment, both votes and the decision.
    alpha.get_by_role("link", name="Review pack (printable)").click()
    expect(alpha.get_by_role("button", name="Print")).to_be_visible()
    pack = alpha.locator("body")
    for text in ("3-month review", "Fabric rolls arrived three weeks late.", "Keep going for another year.",
                 "Both protagonists renew; targets are being met."):
        expect(pack).to_contain_text(text)

    # Printed, it is the pack alone: no navigation, no buttons, no live notices.
    alpha.emulate_media(media="print")
    expect(alpha.locator("#alliance-nav")).to_be_hidden()
    expect(alpha.get_by_role("button", name="Print")).to_be_hidden()
    expect(alpha.locator("#review-pack")).to_be_visible()

    session.expire_all()
    assert session.get(Alliance, case.alliance.id).term_end == date(2023, 3, 31)
    decided = session.get(Checkpoint, meeting.id)
    assert (decided.decision.value, decided.decision_date) == ("renew", date(2023, 3, 31))
    newest = session.query(CharterVersion).filter_by(alliance_id=case.alliance.id).order_by(
        CharterVersion.number.desc()).first()
    assert newest.term_end == date(2023, 3, 31)


def test_a_partner_member_sees_the_meeting_but_has_no_vote(live, people, session, case, meeting):
    alpha = people("alpha")
    open_live(alpha, f"{live.url}/a/{case.alliance.id}/checkpoints/{meeting.id}")
    expect(alpha.locator("#assessment-form")).to_be_visible()
    expect(alpha.locator("#vote-form")).to_have_count(0)
    expect(alpha.locator("#decision-form")).to_have_count(0)
