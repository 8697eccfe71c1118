"""Renewal checkpoints through the pages: schedule, open, assess, vote, decide, and the review pack.

The steering group of the case: one steering member sitting for each protagonist (Alpha, Beta), so the
default quorum ("a steering member for every protagonist partner") is met once both have voted.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from ledger.models import Alliance, Checkpoint, Membership, User
from ledger.services import alliances
from ledger.services import checkpoints as service
from ledger.snapshots import load
from tests.builders import TODAY, Case, acting, make_user, record
from tests.e2e.test_web_entries import error_at

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:openpyxl")


@pytest.fixture(autouse=True)
def fixed_today(case_day):
    """Today is the builders' TODAY (2020-06-30), inside the case's term: case_day stops the app's clock."""


# ---- arranging (shared with the API and browser tests) --------------------------------------------------

def add_steering(session, case: Case) -> None:
    """Steering members sitting for Alpha and Beta: ``steer_alpha``/``steer_beta`` in ``case.users``."""
    coordinator = session.get(User, case.users["coordinator"].id)
    coord_m = session.get(Membership, case.memberships["coordinator"].id)
    for key, partner in (("steer_alpha", "Alpha"), ("steer_beta", "Beta")):
        user = make_user(session, key, f"{partner} Steering")
        case.users[key] = user
        case.memberships[key] = alliances.add_member(session, coordinator, coord_m, {
            "email": user.email, "role": "steering_member", "partner_id": case.pid(partner)})
    session.commit()


def scheduled(session, case: Case, due: str = "2020-07-01", label: str = "") -> Checkpoint:
    user, membership = acting(session, case, "coordinator")
    row = service.schedule_checkpoint(session, user, membership, {"due_date": due, "label": label}, TODAY)
    session.commit()
    return row


def opened(session, case: Case, due: str = "2020-07-01") -> Checkpoint:
    row = scheduled(session, case, due)
    user, membership = acting(session, case, "coordinator")
    service.open_checkpoint(session, user, membership, row, TODAY)
    session.commit()
    return row


def voted(session, case: Case, checkpoint: Checkpoint, *voters: tuple[str, str]) -> None:
    for who, choice in voters:
        user, membership = acting(session, case, who)
        service.vote(session, user, membership, session.get(Checkpoint, checkpoint.id),
                     {"choice": choice, "reason": f"{who} thinks we should {choice}"})
    session.commit()


def some_entries(session, case: Case) -> None:
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="2000",
           date="2020-05-04")
    record(session, case, "beta", partner="Beta", kind="revenue", category="production", amount="500.01",
           date="2020-05-20")
    session.commit()


@pytest.fixture
def steering(session, case) -> Case:
    add_steering(session, case)
    return case


def url(case: Case, rest: str = "") -> str:
    return f"/a/{case.alliance.id}/checkpoints{rest}"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def hidden(page: str, element_id: str) -> bool:
    tag = re.search(rf'<[^>]*id="{element_id}"[^>]*>', page, re.S)
    assert tag, f"#{element_id} is not on the page"
    return re.search(r"\shidden[\s>]", tag.group(0) + ">") is not None


# ---- the schedule ---------------------------------------------------------------------------------------

def test_the_coordinator_schedules_the_cases_three_reviews(client, auth, case, session):
    auth.login("coordinator")
    page = text_of(client.get(url(case)))
    assert "No checkpoint is scheduled yet" in page
    for day in ("2020-07-01", "2021-01-01", "2022-03-31"):
        assert day in page
    assert client.post(url(case, "/suggested")).status_code == 302
    session.rollback()
    session.expire_all()  # the request wrote through its own session: read afresh
    rows = session.scalars(select(Checkpoint).order_by(Checkpoint.due_date)).all()
    assert [(r.due_date, r.label) for r in rows] == [
        (date(2020, 7, 1), "3-month review"), (date(2021, 1, 1), "9-month review"),
        (date(2022, 3, 31), "End-of-term review")]
    page = text_of(client.get(url(case)))
    assert page.count('data-state="scheduled"') >= 3
    assert "suggested-form" not in page  # only offered while the schedule is empty


def test_the_schedule_form_reports_bad_dates_at_the_field(client, auth, case, session):
    auth.login("coordinator")
    response = client.post(url(case), data={"due_date": "2020-02-30", "label": ""})
    assert response.status_code == 422
    assert error_at(text_of(response), "due_date")
    response = client.post(url(case), data={"due_date": "2023-01-01", "label": ""})
    assert response.status_code == 422
    assert "2022-03-31" in error_at(text_of(response), "due_date")
    assert client.post(url(case), data={"due_date": "2020-10-01", "label": "Autumn review"}).status_code == 302
    response = client.post(url(case), data={"due_date": "2020-10-01", "label": ""})
    assert response.status_code == 422
    assert "already a checkpoint" in error_at(text_of(response), "due_date")
    session.rollback()
    session.expire_all()  # the request wrote through its own session: read afresh
    assert session.scalars(select(Checkpoint.label)).all() == ["Autumn review"]


def test_only_the_coordinator_plans_and_sets_the_rules(client, auth, case, session):
    auth.login("alpha")
    page = text_of(client.get(url(case)))
    assert "schedule-form" not in page
    assert "settings-form" not in page
    assert client.post(url(case), data={"due_date": "2020-10-01"}).status_code == 403
    assert client.post(url(case, "/settings"), data={"quorum": "all_steering", "hhi_threshold": "0.4"}
                       ).status_code == 403
    row = scheduled(session, case)
    assert client.post(url(case, f"/{row.id}/open")).status_code == 403
    assert client.post(url(case, f"/{row.id}/remove")).status_code == 403


def test_review_settings_are_saved_or_refused_at_the_field(client, auth, case, session):
    auth.login("coordinator")
    response = client.post(url(case, "/settings"), data={"quorum": "all_steering", "hhi_threshold": "2"})
    assert response.status_code == 422
    assert "between 0 and 1" in error_at(text_of(response), "hhi_threshold")
    response = client.post(url(case, "/settings"), data={"quorum": "all_steering", "hhi_threshold": "0,4"})
    assert response.status_code == 302
    session.rollback()
    session.expire_all()  # the request wrote through its own session: read afresh
    alliance = session.get(Alliance, case.alliance.id)
    assert (alliance.quorum.value, str(alliance.hhi_threshold.normalize())) == ("all_steering", "0.4")


def test_open_now_freezes_the_figures_and_an_open_checkpoint_stays_on_the_schedule(client, auth, case, session):
    some_entries(session, case)
    row = scheduled(session, case)
    auth.login("coordinator")
    response = client.post(url(case, f"/{row.id}/open"))
    assert response.status_code == 302
    session.expire_all()
    row = session.get(Checkpoint, row.id)
    assert row.as_of == TODAY  # opened early: frozen as of today, not its date
    assert client.post(url(case, f"/{row.id}/open")).status_code == 409
    assert client.post(url(case, f"/{row.id}/remove")).status_code == 409
    later = scheduled(session, case, "2021-01-01")
    assert client.post(url(case, f"/{later.id}/remove")).status_code == 302
    session.rollback()
    session.expire_all()  # the request wrote through its own session: read afresh
    assert session.scalars(select(Checkpoint.id)).all() == [row.id]


def test_a_checkpoint_opens_by_itself_when_its_date_has_come(client, auth, case, session):
    row = scheduled(session, case, "2020-06-15")
    auth.login("alpha")
    page = text_of(client.get(url(case)))
    assert f'data-checkpoint="{row.id}" data-state="open"' in page
    session.rollback()
    session.expire_all()  # the request wrote through its own session: read afresh
    row = session.get(Checkpoint, row.id)
    assert row.opened_by_id is None
    assert row.as_of == date(2020, 6, 15)


def test_a_passed_date_without_a_decision_is_marked_overdue(client, auth, case, session):
    opened(session, case, "2020-06-15")
    auth.login("accountant")
    assert 'data-overdue="1"' in text_of(client.get(url(case)))


# ---- one checkpoint: the frozen figures -----------------------------------------------------------------

def test_the_page_shows_the_frozen_figures_not_todays(client, auth, steering, session):
    case = steering
    some_entries(session, case)
    row = opened(session, case)
    frozen = load(session.get(Checkpoint, row.id).snapshot)
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="999",
           date="2020-06-10")
    session.commit()
    auth.login("beta")
    page = text_of(client.get(url(case, f"/{row.id}")))
    for r in frozen["balance"]["rows"]:
        net = re.search(rf'<tr data-partner="{r["name"]}">.*?data-cents="(-?\d+)" data-figure="net"', page, re.S)
        assert int(net.group(1)) == r["net"]
    # Alpha bore 2,000 (its half is 1,000) and received nothing of the 500.01 revenue whose half (the odd cent
    # by the largest remainder) is 250.01: net (2,000 - 1,000) - (0 - 250.01) = 1,250.01, before the later 999.
    assert frozen["balance"]["rows"][0]["net"] == 125001
    assert 'data-transfer="Beta-Alpha"' in page
    assert 'id="snapshot-as-of">2020-06-30<' in page
    assert "snapshot-tampered" not in page


def test_a_changed_snapshot_is_pointed_out(client, auth, case, session):
    row = opened(session, case)
    text = session.get(Checkpoint, row.id).snapshot.replace('"entry_count":0', '"entry_count":7')
    session.execute(update(Checkpoint).where(Checkpoint.id == row.id).values(snapshot=text))
    session.commit()
    auth.login("alpha")
    assert "snapshot-tampered" in text_of(client.get(url(case, f"/{row.id}")))


# ---- assessments and votes: who may do what -------------------------------------------------------------

def test_only_steering_members_see_and_submit_the_vote_form(client, auth, steering, session):
    case = steering
    row = opened(session, case)
    page_url = url(case, f"/{row.id}")
    for who in ("alpha", "accountant", "coordinator"):
        auth.login(who)
        assert 'id="vote-form"' not in text_of(client.get(page_url)), who
        response = client.post(page_url + "/votes", data={"choice": "renew", "reason": "good year"})
        assert response.status_code == 403, who
        auth.logout()
    auth.login("steer_alpha")
    page = text_of(client.get(page_url))
    assert 'id="vote-form"' in page
    assert not hidden(page, "vote-form")
    response = client.post(page_url + "/votes", data={"choice": "renew", "reason": "Masks sell; keep going"})
    assert response.status_code == 302
    page = text_of(client.get(page_url))
    assert 'data-voter="Alpha Steering" data-vote="renew"' in page
    assert "Masks sell; keep going" in page
    assert "still missing a vote for Beta" in page


def test_a_partners_own_members_assess_for_it(client, auth, steering, session):
    case = steering
    row = opened(session, case)
    page_url = url(case, f"/{row.id}")
    auth.login("accountant")
    assert 'id="assessment-form"' not in text_of(client.get(page_url))
    auth.logout()
    auth.login("beta")
    page = text_of(client.get(page_url))
    assert "Give Beta&#39;s assessment" in page or "Give Beta's assessment" in page
    form = {"satisfaction": "4", "fairness": "3", "commitment": "5", "trust": "4",
            "challenges": ["delays", "value_distribution"], "comments": "Raw material late in May"}
    assert client.post(page_url + "/assessments", data={**form, "partner_id": str(case.pid("Alpha"))}
                       ).status_code == 403
    unknown = client.post(page_url + "/assessments", data={**form, "partner_id": "99999"})
    assert unknown.status_code == 422
    assert error_at(text_of(unknown), "partner_id")  # shown, though the field itself is hidden
    assert client.post(page_url + "/assessments", data=form).status_code == 302
    auth.logout()
    auth.login("steer_alpha")  # sits for Alpha, so assesses for Alpha
    assert client.post(page_url + "/assessments", data={**form, "fairness": "2"}).status_code == 302
    assert client.post(page_url + "/assessments", data={**form, "fairness": "1"}).status_code == 302
    page = text_of(client.get(page_url))
    assert re.search(r'data-partner="Alpha" data-assessment="\d+">.*?data-score="fairness">1<', page, re.S)
    assert re.search(r'data-partner="Beta" data-assessment="\d+">.*?data-score="fairness">3<', page, re.S)
    assert 'data-average="fairness">2.0<' in page
    assert "(superseded)" in page  # Alpha's first assessment stays in the history


def test_bad_scores_and_missing_comments_are_422_at_their_fields(client, auth, steering, session):
    case = steering
    row = opened(session, case)
    auth.login("alpha")
    response = client.post(url(case, f"/{row.id}/assessments"), data={
        "satisfaction": "7", "fairness": "", "commitment": "3", "trust": "x", "challenges": ["other"],
        "comments": ""})
    assert response.status_code == 422
    page = text_of(response)
    for name in ("satisfaction", "fairness", "trust", "comments"):
        assert error_at(page, name), name
    assert error_at(page, "commitment") is None


def test_a_vote_needs_a_choice_and_a_reason(client, auth, steering, session):
    case = steering
    row = opened(session, case)
    auth.login("steer_beta")
    response = client.post(url(case, f"/{row.id}/votes"), data={"choice": "extend", "reason": ""})
    assert response.status_code == 422
    page = text_of(response)
    assert error_at(page, "choice")
    assert error_at(page, "reason")


def test_nothing_is_assessed_or_voted_before_the_checkpoint_opens(client, auth, steering, session):
    case = steering
    row = scheduled(session, case, "2021-01-01")
    auth.login("steer_alpha")
    page = text_of(client.get(url(case, f"/{row.id}")))
    assert hidden(page, "vote-form")
    assert client.post(url(case, f"/{row.id}/votes"), data={"choice": "renew", "reason": "x"}).status_code == 409


# ---- the decision ---------------------------------------------------------------------------------------

def test_only_the_coordinator_decides_and_only_once_the_quorum_has_voted(client, auth, steering, session):
    case = steering
    row = opened(session, case)
    page_url = url(case, f"/{row.id}")
    decision = {"decision": "renew", "rationale": "Both protagonists want to go on", "new_term_end": "2023-03-31"}
    auth.login("coordinator")
    page = text_of(client.get(page_url))
    assert hidden(page, "decision-form")
    assert "not met yet" in page
    assert "a vote for Alpha, a vote for Beta" in page
    assert client.post(page_url + "/decision", data=decision).status_code == 409
    voted(session, case, row, ("steer_alpha", "renew"), ("steer_beta", "renew"))
    page = text_of(client.get(page_url))
    assert not hidden(page, "decision-form")
    assert 'data-quorum-met="yes"' in page
    auth.logout()
    for who in ("steer_alpha", "alpha"):
        auth.login(who)
        assert 'id="decision-form"' not in text_of(client.get(page_url))
        assert client.post(page_url + "/decision", data=decision).status_code == 403
        auth.logout()
    auth.login("coordinator")
    response = client.post(page_url + "/decision", data={**decision, "new_term_end": "2021-12-31"})
    assert response.status_code == 422
    assert "after its current end" in error_at(text_of(response), "new_term_end")
    response = client.post(page_url + "/decision", data={**decision, "rationale": "", "new_term_end": ""})
    assert response.status_code == 422
    assert error_at(text_of(response), "rationale")
    assert error_at(text_of(response), "new_term_end")
    # All three dates are in the form (no JavaScript); only the one that goes with the choice counts.
    response = client.post(page_url + "/decision", data={**decision, "end_date": "not a date",
                                                          "effective_from": "2020-02-30"})
    assert response.status_code == 302
    session.rollback()
    session.expire_all()  # the request wrote through its own session: read afresh
    assert session.get(Alliance, case.alliance.id).term_end == date(2023, 3, 31)
    page = text_of(client.get(page_url))
    assert 'data-decision="renew"' in page
    assert 'id="term-end">2023-03-31<' in page
    assert "The term was extended to <strong>2023-03-31</strong>" in page
    assert client.post(page_url + "/decision", data=decision).status_code == 409
    auth.logout()
    auth.login("steer_beta")
    assert client.post(page_url + "/votes", data={"choice": "terminate", "reason": "late"}).status_code == 409


def test_terminate_ends_the_alliance_and_shows_the_final_settle_up(client, auth, steering, session):
    case = steering
    some_entries(session, case)
    row = opened(session, case)
    voted(session, case, row, ("steer_alpha", "terminate"), ("steer_beta", "terminate"))
    auth.login("coordinator")
    page_url = url(case, f"/{row.id}")
    response = client.post(page_url + "/decision", data={"decision": "terminate", "rationale": "The crisis is over",
                                                         "end_date": "2020-05-01"})
    assert response.status_code == 422
    assert "2020-05-20" in error_at(text_of(response), "end_date")  # entries run to that day
    response = client.post(page_url + "/decision", data={"decision": "terminate", "rationale": "The crisis is over",
                                                         "end_date": "2020-06-30"})
    assert response.status_code == 302
    session.rollback()
    session.expire_all()  # the request wrote through its own session: read afresh
    assert session.get(Alliance, case.alliance.id).ended_on == date(2020, 6, 30)
    page = text_of(client.get(page_url))
    assert 'id="final-settle-up"' in page
    assert 'data-transfer="Beta-Alpha"' in page
    assert f'href="/a/{case.alliance.id}/balance"' in page


def test_renegotiate_opens_new_versions_from_the_chosen_day(client, auth, steering, session):
    case = steering
    row = opened(session, case)
    voted(session, case, row, ("steer_alpha", "renegotiate"), ("steer_beta", "renew"))
    auth.login("coordinator")
    response = client.post(url(case, f"/{row.id}/decision"), data={
        "decision": "renegotiate", "rationale": "Beta bears more risk", "effective_from": "2020-09-01"})
    assert response.status_code == 302
    session.rollback()
    session.expire_all()  # the request wrote through its own session: read afresh
    assert session.get(Alliance, case.alliance.id).renegotiate_from == date(2020, 9, 1)
    page = text_of(client.get(url(case, f"/{row.id}")))
    assert "split agreement effective from 2020-09-01 is" in page


# ---- the review pack ------------------------------------------------------------------------------------

def decided_with_risky_text(session, case: Case) -> Checkpoint:
    some_entries(session, case)
    row = opened(session, case)
    user, membership = acting(session, case, "alpha")
    service.assess(session, user, membership, session.get(Checkpoint, row.id), {
        "satisfaction": 4, "fairness": 2, "commitment": 5, "trust": 3, "challenges": ["other"],
        "comments": '=HYPERLINK("http://evil.example","click")'})
    session.commit()
    for who, reason in (("steer_alpha", "+1 renew, we sell"), ("steer_beta", "-the split is fair")):
        user, membership = acting(session, case, who)
        service.vote(session, user, membership, session.get(Checkpoint, row.id),
                     {"choice": "renew", "reason": reason})
    session.commit()
    user, membership = acting(session, case, "coordinator")
    service.decide(session, user, membership, session.get(Checkpoint, row.id),
                   {"decision": "renew", "rationale": "@both want to go on", "new_term_end": "2023-03-31"}, TODAY)
    session.commit()
    return session.get(Checkpoint, row.id)


def test_the_printable_pack_has_the_snapshot_assessments_votes_and_decision(client, auth, steering, session):
    case = steering
    row = decided_with_risky_text(session, case)
    auth.login("omega")
    page = text_of(client.get(url(case, f"/{row.id}/pack")))
    assert "review pack, 3-month review" in page
    assert 'id="snapshot-balance"' in page
    assert 'data-transfer="Beta-Alpha"' in page
    assert 'data-score="fairness">2<' in page
    assert 'data-voter="Beta Steering" data-vote="renew"' in page
    assert 'data-decision="renew"' in page
    assert "@both want to go on" in page
    assert "/static/style.css" in page  # its print rules hide the navigation (checked in a browser)
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;click&#34;)" in page  # escaped, never markup


def test_the_xlsx_pack_has_the_frozen_figures_and_keeps_text_as_text(client, auth, steering, session):
    case = steering
    row = decided_with_risky_text(session, case)
    snapshot = load(row.snapshot)
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="999",
           date="2020-06-10")  # after the freeze: must not show
    session.commit()
    auth.login("accountant")
    response = client.get(url(case, f"/{row.id}/pack.xlsx"))
    assert response.status_code == 200
    assert "ppe-masks-2020-3-month-review-review-pack.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Summary", "Balance", "Settle-up", "Targets", "Indicators", "Assessments", "Votes"]

    balance = list(book["Balance"].iter_rows(values_only=True))
    assert balance[0] == ("Partner", "Borne", "Cost share", "Received", "Return share", "Net")
    for cells, frozen in zip(balance[1:-1], snapshot["balance"]["rows"], strict=True):
        assert cells[0] == frozen["name"]
        assert [round(v * 100) for v in cells[1:]] == [frozen[f] for f in
                                                       ("borne", "cost_share", "received", "return_share", "net")]
    assert balance[-1][0] == "Total"
    assert round(balance[-1][1] * 100) == snapshot["balance"]["totals"]["borne"]
    assert "EUR" in book["Balance"]["B2"].number_format
    settle = list(book["Settle-up"].iter_rows(values_only=True))
    assert [(p, q, round(a * 100)) for p, q, a in settle[1:]] == [
        (t["payer"], t["payee"], t["amount"]) for t in snapshot["settle_up"]]

    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True)}
    assert summary["Decision"] == "renew"
    assert summary["Rationale"] == "@both want to go on"
    assert summary["Figures as of"].date() == TODAY

    comment = next(c for c in book["Assessments"]["H"] if c.row > 1)
    assert comment.value == '=HYPERLINK("http://evil.example","click")'
    assert comment.data_type == "s"
    reasons = {c.value: c.data_type for c in book["Votes"]["E"] if c.row > 1}
    assert reasons == {"+1 renew, we sell": "s", "-the split is fair": "s"}
    rationale = next(c for c in book["Summary"]["B"] if c.value == "@both want to go on")
    assert rationale.data_type == "s"


def test_a_checkpoint_not_yet_open_has_no_pack_file(client, auth, case, session):
    row = scheduled(session, case, "2021-01-01")
    auth.login("alpha")
    assert client.get(url(case, f"/{row.id}/pack.xlsx")).status_code == 409
    assert client.get(url(case, f"/{row.id}/pack")).status_code == 200
    assert client.get(url(case, "/99999")).status_code == 404
    assert client.get(f"/a/{case.other.id}/checkpoints").status_code == 404
