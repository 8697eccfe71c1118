"""Renewal checkpoints through the services, on both engines: the schedule, the frozen snapshot, assessments,
votes, the quorum and what each decision does to the alliance.

The case's alliance runs 2020-04-01 to 2022-03-31; "today" is 2020-06-30 unless a test says otherwise. Two
steering members are added who sit for the protagonists (Sam for Alpha, Bea for Beta) next to the case's
independent steering member, so the default quorum (a steering member for every protagonist) can be met.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from ledger.domain.errors import Conflict, InvalidInput, NotAllowed
from ledger.domain.renewal import alliance_state
from ledger.domain.vocabulary import Decision, QuorumRule
from ledger.export.csv_export import write_csv
from ledger.export.period import ExportPeriod
from ledger.models import Activity, Alliance, Assessment, CharterVersion, Checkpoint, Entry, Membership, User, Vote
from ledger.progress import targets_progress
from ledger.queries import balance_sheet
from ledger.reviews import review_of
from ledger.services import agreements, alliances, charter, checkpoints, entries, measurements
from ledger.services.periods import close_period
from ledger.snapshots import FIGURES, build_snapshot, intact
from tests.builders import TODAY, Case, fifty_fifty_pools, make_user, record

GOOD_SCORES = {"satisfaction": "4", "fairness": "3", "commitment": "5", "trust": "4"}


# ---- helpers ----------------------------------------------------------------------------------------------

def who(session, case: Case, key: str) -> tuple[User, Membership]:
    return session.get(User, case.users[key].id), session.get(Membership, case.memberships[key].id)


@pytest.fixture
def seated(session, case) -> Case:
    """The case plus steering members sitting for Alpha (``sam``) and Beta (``bea``)."""
    coord, coord_m = who(session, case, "coordinator")
    for key, partner in (("sam", "Alpha"), ("bea", "Beta")):
        case.users[key] = make_user(session, key, f"{key.title()} Steer")
        case.memberships[key] = alliances.add_member(session, coord, coord_m, {
            "email": case.users[key].email, "role": "steering_member", "partner_id": case.pid(partner)})
    session.commit()
    return case


def schedule(session, case: Case, due: str, label: str | None = None, key: str = "coordinator",
             today: date = TODAY) -> Checkpoint:
    user, membership = who(session, case, key)
    raw = {"due_date": due} | ({"label": label} if label is not None else {})
    checkpoint = checkpoints.schedule_checkpoint(session, user, membership, raw, today)
    session.commit()
    return checkpoint


def opened(session, case: Case, due: str = "2020-06-15", today: date = TODAY) -> Checkpoint:
    """A checkpoint due on ``due`` that opened by itself (today is on or after its date)."""
    checkpoint = schedule(session, case, due)
    checkpoints.open_due(session, session.get(Alliance, case.alliance.id), today)
    session.commit()
    return session.get(Checkpoint, checkpoint.id)


def cp(session, checkpoint_id: int) -> Checkpoint:
    return session.get(Checkpoint, checkpoint_id)


def assess(session, case: Case, key: str, checkpoint_id: int, **raw):
    user, membership = who(session, case, key)
    row = checkpoints.assess(session, user, membership, cp(session, checkpoint_id), {**GOOD_SCORES, **raw})
    session.commit()
    return row


def vote(session, case: Case, key: str, checkpoint_id: int, choice: str = "renew", reason: str = "It works."):
    user, membership = who(session, case, key)
    row = checkpoints.vote(session, user, membership, cp(session, checkpoint_id), {"choice": choice, "reason": reason})
    session.commit()
    return row


def decide(session, case: Case, checkpoint_id: int, key: str = "coordinator", today: date = TODAY, **raw):
    user, membership = who(session, case, key)
    raw = {"rationale": "As the steering group voted.", **raw}
    done = checkpoints.decide(session, user, membership, cp(session, checkpoint_id), raw, today)
    session.commit()
    return done


def quorum_voted(session, case: Case, checkpoint_id: int, choice: str) -> None:
    for key in ("sam", "bea"):
        vote(session, case, key, checkpoint_id, choice)


def actions(session, case: Case) -> list[str]:
    return list(session.scalars(select(Activity.action).where(Activity.alliance_id == case.alliance.id)
                                .order_by(Activity.seq)))


def alliance_row(session, case: Case) -> Alliance:
    session.expire_all()
    return session.get(Alliance, case.alliance.id)


def refused(exc_type, call, *args, **kwargs):
    with pytest.raises(exc_type) as caught:
        call(*args, **kwargs)
    return caught.value


# ---- the schedule -----------------------------------------------------------------------------------------

def test_scheduling_labels_the_reviews_as_the_case_does(session, case):
    three = schedule(session, case, "2020-07-01")
    nine = schedule(session, case, "2021-01-01")
    end = schedule(session, case, "2022-03-31")
    named = schedule(session, case, "2020-09-15", label="  Board meeting  ")
    assert (three.label, nine.label, end.label, named.label) == (
        "3-month review", "9-month review", "End-of-term review", "Board meeting")
    assert all(c.opened_at is None and c.snapshot is None for c in (three, nine, end, named))
    assert actions(session, case).count("checkpoint.scheduled") == 4


@pytest.mark.parametrize(("due", "message"), [
    ("2020-04-01", "after the term's start"),   # the first day has nothing to review yet
    ("2022-04-01", "up to its end"),
    ("2019-12-31", "after the term's start"),
    ("30/06/2020", "YYYY-MM-DD"),
    ("", "Enter a date"),
])
def test_a_checkpoint_lies_in_the_term(session, case, due, message):
    error = refused(InvalidInput, schedule, session, case, due)
    assert message in error.errors["due_date"]


def test_one_checkpoint_per_day(session, case):
    schedule(session, case, "2020-07-01")
    error = refused(InvalidInput, schedule, session, case, "2020-07-01", label="Another")
    assert "already a checkpoint on 2020-07-01" in error.errors["due_date"]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Checkpoint)) == 1


@pytest.mark.parametrize("key", ["alpha", "accountant", "steering"])
def test_only_the_coordinator_schedules_and_removes(session, case, key):
    refused(NotAllowed, schedule, session, case, "2020-07-01", key=key)
    session.rollback()
    checkpoint = schedule(session, case, "2020-07-01")
    user, membership = who(session, case, key)
    refused(NotAllowed, checkpoints.remove_checkpoint, session, user, membership, cp(session, checkpoint.id))


def test_removing_a_scheduled_checkpoint_but_never_an_open_one(session, case):
    later = schedule(session, case, "2020-12-31")
    early = opened(session, case, "2020-06-15")
    user, membership = who(session, case, "coordinator")
    checkpoints.remove_checkpoint(session, user, membership, cp(session, later.id))
    session.commit()
    assert cp(session, later.id) is None
    error = refused(Conflict, checkpoints.remove_checkpoint, session, user, membership, cp(session, early.id))
    assert "already open" in str(error)
    session.rollback()
    assert cp(session, early.id) is not None
    assert "checkpoint.removed" in actions(session, case)


# ---- opening ----------------------------------------------------------------------------------------------

def test_open_due_opens_exactly_the_due_ones_once(session, case):
    first = schedule(session, case, "2020-06-01")
    second = schedule(session, case, "2020-06-30")
    later = schedule(session, case, "2020-07-01")
    alliance = session.get(Alliance, case.alliance.id)
    assert {c.id for c in checkpoints.open_due(session, alliance, TODAY)} == {first.id, second.id}
    session.commit()
    snapshots = {c: (cp(session, c).snapshot, cp(session, c).snapshot_sha256) for c in (first.id, second.id)}
    assert checkpoints.open_due(session, session.get(Alliance, case.alliance.id), TODAY) == []
    session.commit()
    assert {c: (cp(session, c).snapshot, cp(session, c).snapshot_sha256) for c in snapshots} == snapshots
    assert (cp(session, first.id).as_of, cp(session, second.id).as_of) == (date(2020, 6, 1), date(2020, 6, 30))
    assert cp(session, first.id).opened_by_id is None  # opened by itself on its date
    assert cp(session, later.id).opened_at is None
    assert cp(session, later.id).snapshot is None
    assert actions(session, case).count("checkpoint.opened") == 2


def test_the_coordinator_opens_early_and_figures_freeze_as_of_that_day(session, case):
    checkpoint = schedule(session, case, "2020-12-31")
    for key in ("alpha", "accountant", "steering"):
        user, membership = who(session, case, key)
        refused(NotAllowed, checkpoints.open_checkpoint, session, user, membership, cp(session, checkpoint.id), TODAY)
        session.rollback()
    user, membership = who(session, case, "coordinator")
    checkpoints.open_checkpoint(session, user, membership, cp(session, checkpoint.id), TODAY)
    session.commit()
    row = cp(session, checkpoint.id)
    assert (row.as_of, row.opened_by_id) == (TODAY, user.id)
    assert intact(row.snapshot, row.snapshot_sha256)
    error = refused(Conflict, checkpoints.open_checkpoint, session, user, membership, row, TODAY)
    assert "frozen as of 2020-06-30" in str(error)


def test_the_snapshot_never_changes_after_opening(session, case):
    coord, coord_m = who(session, case, "coordinator")
    charter.save_charter(session, coord, coord_m, {
        "cause": case.alliance.cause, "term_end": "2022-03-31", "effective_from": "2020-04-01",
        "targets": [{"name": "Masks delivered", "unit": "masks", "period": "month", "value": "2000000"}]}, TODAY)
    target_id = charter.newest_version(session, session.get(Alliance, case.alliance.id)).targets[0].target_id
    alpha, alpha_m = who(session, case, "alpha")
    measurements.record_measurement(session, alpha, alpha_m, {"target_id": target_id, "period": "2020-05",
                                                              "value": "1500000"}, TODAY)
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="6000.00",
           date="2020-04-10")
    doomed = record(session, case, "beta", partner="Beta", kind="contribution", category="production",
                    amount="2000.00", date="2020-05-05")
    record(session, case, "alpha", partner="Alpha", kind="revenue", category="sales", amount="4000.00",
           date="2020-06-01")
    session.commit()
    as_of = date(2020, 6, 15)
    before_sheet = balance_sheet(session, session.get(Alliance, case.alliance.id), date_to=as_of)
    checkpoint = opened(session, case, as_of.isoformat())
    text, digest = checkpoint.snapshot, checkpoint.snapshot_sha256
    snapshot = review_of(session, session.get(Alliance, case.alliance.id), checkpoint).snapshot

    # The frozen balance is the balance sheet up to as_of, at opening time.
    assert snapshot["as_of"] == "2020-06-15"
    assert {r["partner_id"]: {f: r[f] for f in FIGURES} for r in snapshot["balance"]["rows"]} == {
        r.partner_id: {f: getattr(r, f) for f in FIGURES} for r in before_sheet.rows}
    assert snapshot["balance"]["entry_count"] == before_sheet.entry_count == 3
    assert [(t["payer_id"], t["payee_id"], t["amount"]) for t in snapshot["settle_up"]] == [
        (t.payer_id, t.payee_id, t.amount) for t in before_sheet.transfers]

    # Afterwards: an entry and a reversal dated before as_of, and a newer figure for a measured month.
    record(session, case, "gamma", partner="Gamma", kind="service_fee", category="production", amount="999.99",
           date="2020-05-20")
    beta, beta_m = who(session, case, "beta")
    entries.reverse_entry(session, beta, beta_m, session.get(Entry, doomed.id), {"date": "2020-06-10"}, TODAY)
    measurements.record_measurement(session, alpha, alpha_m, {"target_id": target_id, "period": "2020-05",
                                                              "value": "1900000"}, TODAY)
    session.commit()

    alliance = alliance_row(session, case)
    row = cp(session, checkpoint.id)
    assert row.snapshot == text  # byte-identical
    assert row.snapshot_sha256 == digest
    review = review_of(session, alliance, row)
    assert review.snapshot == snapshot
    assert review.snapshot_intact
    after_sheet = balance_sheet(session, alliance, date_to=as_of)
    assert after_sheet.entry_count == 5
    assert [(r.partner_id, r.net) for r in after_sheet.rows] != [(r.partner_id, r.net) for r in before_sheet.rows]
    # What a fresh computation would show now differs in the balance and the targets: the snapshot did not follow.
    fresh = build_snapshot(session, alliance, as_of, datetime.fromisoformat(snapshot["taken_at"].replace("Z", "")))
    assert fresh["balance"] != snapshot["balance"]
    assert fresh["targets"] != snapshot["targets"]


def test_a_snapshot_counts_a_measurement_only_once_its_period_has_ended(session, case):
    """The 3-month checkpoint "as of 2020-07-01" judges June, not the first day of July's production."""
    coord, coord_m = who(session, case, "coordinator")
    charter.save_charter(session, coord, coord_m, {
        "cause": case.alliance.cause, "term_end": "2022-03-31", "effective_from": "2020-04-01",
        "targets": [{"name": "Masks delivered", "unit": "masks", "period": "month", "value": "2000000"},
                    {"name": "Hospitals reached", "unit": "hospitals", "period": "term", "value": "50"}]}, TODAY)
    masks, hospitals = (t.target_id for t in
                        charter.newest_version(session, session.get(Alliance, case.alliance.id)).targets)
    alpha, alpha_m = who(session, case, "alpha")
    july_2 = date(2020, 7, 2)
    for target_id, period, value in ((masks, "2020-06", "2100000"), (masks, "2020-07", "90000"),
                                     (hospitals, "2020-06", "12")):
        measurements.record_measurement(session, alpha, alpha_m, {"target_id": target_id, "period": period,
                                                                  "value": value}, july_2)
    session.commit()
    checkpoint = opened(session, case, "2020-07-01", today=july_2)
    snapshot = review_of(session, alliance_row(session, case), cp(session, checkpoint.id)).snapshot

    assert snapshot["as_of"] == "2020-07-01"
    by_name = {t["name"]: t for t in snapshot["targets"]}
    months = {p["label"]: (p["actual"], p["met"]) for p in by_name["Masks delivered"]["periods"]}
    assert months["June 2020"] == ("2100000", True)
    assert months["July 2020"] == (None, None)  # a day into July: its figure is not a month's production yet
    assert by_name["Masks delivered"]["periods_measured"] == 1
    assert by_name["Hospitals reached"]["periods"][0]["actual"] is None  # the whole term has not ended
    # The live targets, as of the same day, still show the running month's figure so far.
    live = {t["name"]: t for t in targets_progress(session, alliance_row(session, case), date(2020, 7, 1))}
    assert live["Masks delivered"]["periods"][-1]["actual"] == "90000"


# ---- assessments ------------------------------------------------------------------------------------------

def test_a_partners_members_assess_for_it_and_the_newest_counts(session, seated):
    case = seated
    checkpoint = opened(session, case)
    assess(session, case, "alpha", checkpoint.id, satisfaction="2", challenges=["delays"])
    assess(session, case, "sam", checkpoint.id, partner_id=case.pid("Alpha"), satisfaction="5")  # sits for Alpha
    assess(session, case, "beta", checkpoint.id, challenges=["other"], comments="The grant never came.")
    review = review_of(session, alliance_row(session, case), cp(session, checkpoint.id))
    assert review.assessments[case.pid("Alpha")].satisfaction == 5
    assert review.assessments[case.pid("Beta")].comments == "The grant never came."
    assert [a.satisfaction for a in review.assessment_history if a.partner_id == case.pid("Alpha")] == [5, 2]
    assert actions(session, case).count("checkpoint.assessed") == 3


@pytest.mark.parametrize(("key", "partner"), [("alpha", "Beta"), ("accountant", "Alpha"), ("coordinator", "Alpha"),
                                              ("steering", "Alpha"), ("bea", "Alpha")])
def test_only_that_partners_members_assess(session, seated, key, partner):
    checkpoint = opened(session, seated)
    error = refused(NotAllowed, assess, session, seated, key, checkpoint.id, partner_id=seated.pid(partner))
    assert f"Only {partner}'s own members" in str(error)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Assessment)) == 0


def test_scores_are_one_to_five_with_an_error_at_each_field(session, case):
    checkpoint = opened(session, case)
    error = refused(InvalidInput, assess, session, case, "alpha", checkpoint.id,
                    satisfaction="0", fairness="6", commitment="three", trust=None, challenges=["boredom"])
    assert set(error.errors) == {"satisfaction", "fairness", "commitment", "trust", "challenges"}
    assert "from 1 (poor) to 5 (excellent)" in error.errors["fairness"]
    session.rollback()
    for fine in ("1", "5", 3):
        assess(session, case, "alpha", checkpoint.id, trust=fine)


def test_other_challenge_needs_a_comment(session, case):
    checkpoint = opened(session, case)
    error = refused(InvalidInput, assess, session, case, "alpha", checkpoint.id, challenges=["delays", "other"])
    assert set(error.errors) == {"comments"}
    session.rollback()
    row = assess(session, case, "alpha", checkpoint.id, challenges=["other", "delays"], comments="Customs.")
    assert row.challenges == "delays,other"


def test_assessments_wait_for_opening_and_close_with_the_decision(session, seated):
    case = seated
    scheduled = schedule(session, case, "2020-12-31")
    assert "opens on 2020-12-31" in str(refused(Conflict, assess, session, case, "alpha", scheduled.id))
    session.rollback()
    checkpoint = opened(session, case)
    quorum_voted(session, case, checkpoint.id, "renew")
    decide(session, case, checkpoint.id, decision="renew", new_term_end="2023-03-31")
    assert "is decided" in str(refused(Conflict, assess, session, case, "alpha", checkpoint.id))


# ---- votes ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["alpha", "accountant", "coordinator"])
def test_only_steering_members_vote(session, case, key):
    checkpoint = opened(session, case)
    refused(NotAllowed, vote, session, case, key, checkpoint.id)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Vote)) == 0


def test_one_vote_each_a_second_vote_replaces_the_first(session, seated):
    case = seated
    checkpoint = opened(session, case)
    vote(session, case, "sam", checkpoint.id, "renew", "Targets met.")
    vote(session, case, "bea", checkpoint.id, "renew", "Fair split.")
    vote(session, case, "sam", checkpoint.id, "terminate", "Demand collapsed.")
    review = review_of(session, alliance_row(session, case), cp(session, checkpoint.id))
    assert sorted((v.user_id, v.choice) for v in review.votes) == sorted([
        (case.users["sam"].id, Decision.TERMINATE), (case.users["bea"].id, Decision.RENEW)])
    assert review.tally == {Decision.RENEW: 1, Decision.RENEGOTIATE: 0, Decision.TERMINATE: 1}
    assert review.leading is None  # a tie: the steering group must talk
    assert len(review.vote_history) == 3
    assert review.vote_of(case.users["sam"].id).partner_id == case.pid("Alpha")
    summaries = list(session.scalars(select(Activity.summary).where(Activity.action == "checkpoint.voted")))
    assert any("voted terminate (was renew)" in s for s in summaries)


def test_a_vote_needs_a_reason_and_a_known_choice(session, case):
    checkpoint = opened(session, case)
    error = refused(InvalidInput, vote, session, case, "steering", checkpoint.id, "abstain", "")
    assert set(error.errors) == {"choice", "reason"}
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Vote)) == 0


def test_votes_wait_for_opening_and_close_with_the_decision(session, seated):
    case = seated
    scheduled = schedule(session, case, "2020-12-31")
    refused(Conflict, vote, session, case, "sam", scheduled.id)
    session.rollback()
    checkpoint = opened(session, case)
    quorum_voted(session, case, checkpoint.id, "renew")
    decide(session, case, checkpoint.id, decision="renew", new_term_end="2023-03-31")
    assert "closed" in str(refused(Conflict, vote, session, case, "steering", checkpoint.id))


# ---- the quorum -------------------------------------------------------------------------------------------

def test_decide_waits_for_the_protagonists_and_names_what_is_missing(session, seated):
    case = seated
    checkpoint = opened(session, case)
    vote(session, case, "steering", checkpoint.id)  # independent: covers no partner
    error = refused(Conflict, decide, session, case, checkpoint.id, decision="renew", new_term_end="2023-03-31")
    assert "a vote for Alpha" in str(error)
    assert "a vote for Beta" in str(error)
    session.rollback()
    vote(session, case, "sam", checkpoint.id)
    error = refused(Conflict, decide, session, case, checkpoint.id, decision="renew", new_term_end="2023-03-31")
    assert "a vote for Beta" in str(error)
    assert "Alpha" not in str(error)
    session.rollback()
    vote(session, case, "bea", checkpoint.id)
    assert checkpoints.quorum_state(session, alliance_row(session, case), cp(session, checkpoint.id)).met
    decide(session, case, checkpoint.id, decision="renew", new_term_end="2023-03-31")
    assert cp(session, checkpoint.id).decision is Decision.RENEW


def test_a_partner_members_vote_never_counts_even_if_stored(session, seated):
    """Someone who stops being a steering member: their earlier vote no longer makes the quorum."""
    case = seated
    checkpoint = opened(session, case)
    quorum_voted(session, case, checkpoint.id, "renew")
    coord, coord_m = who(session, case, "coordinator")
    alliances.change_member(session, coord, coord_m, session.get(Membership, case.memberships["bea"].id),
                            {"role": "partner_member", "partner_id": case.pid("Beta")})
    session.commit()
    state = checkpoints.quorum_state(session, alliance_row(session, case), cp(session, checkpoint.id))
    assert not state.met
    assert state.missing == ("a vote for Beta",)
    assert state.unrepresented == (case.pid("Beta"),)


def set_rule(session, case: Case, rule: QuorumRule, key: str = "coordinator") -> None:
    user, membership = who(session, case, key)
    checkpoints.update_settings(session, user, membership, {"quorum": rule.value, "hhi_threshold": "0.5"})
    session.commit()


@pytest.mark.parametrize(("rule", "voters", "missing"), [
    (QuorumRule.PROTAGONISTS, ["sam", "bea"], ["steering"]),
    (QuorumRule.ALL_STEERING, ["sam", "bea", "steering"], []),
    (QuorumRule.STEERING_MAJORITY, ["sam", "steering"], []),
])
def test_each_rule_is_met_by_the_right_votes(session, seated, rule, voters, missing):
    case = seated
    if rule is not QuorumRule.PROTAGONISTS:
        set_rule(session, case, rule)
    assert alliance_row(session, case).quorum is rule
    checkpoint = opened(session, case)
    for key in voters[:-1]:
        vote(session, case, key, checkpoint.id)
    assert not checkpoints.quorum_state(session, alliance_row(session, case), cp(session, checkpoint.id)).met
    vote(session, case, voters[-1], checkpoint.id)
    assert checkpoints.quorum_state(session, alliance_row(session, case), cp(session, checkpoint.id)).met
    decide(session, case, checkpoint.id, decision="renew", new_term_end="2023-03-31")


def test_all_partners_needs_a_steering_member_for_every_partner(session, seated):
    case = seated
    set_rule(session, case, QuorumRule.ALL_PARTNERS)
    checkpoint = opened(session, case)
    quorum_voted(session, case, checkpoint.id, "renew")
    vote(session, case, "steering", checkpoint.id)
    state = checkpoints.quorum_state(session, alliance_row(session, case), cp(session, checkpoint.id))
    assert state.missing == ("a vote for Gamma", "a vote for Omega")
    assert set(state.unrepresented) == {case.pid("Gamma"), case.pid("Omega")}
    error = refused(Conflict, decide, session, case, checkpoint.id, decision="renew", new_term_end="2023-03-31")
    assert "a steering member for every partner" in str(error)
    session.rollback()
    coord, coord_m = who(session, case, "coordinator")
    for key, partner in (("gil", "Gamma"), ("oli", "Omega")):
        case.users[key] = make_user(session, key)
        case.memberships[key] = alliances.add_member(session, coord, coord_m, {
            "email": case.users[key].email, "role": "steering_member", "partner_id": case.pid(partner)})
    session.commit()
    vote(session, case, "gil", checkpoint.id)
    vote(session, case, "oli", checkpoint.id, "renegotiate")
    decide(session, case, checkpoint.id, decision="renew", new_term_end="2023-03-31")


def test_review_settings_are_the_coordinators(session, case):
    for key in ("alpha", "steering", "accountant"):
        refused(NotAllowed, set_rule, session, case, QuorumRule.ALL_STEERING, key)
        session.rollback()
    user, membership = who(session, case, "coordinator")
    error = refused(InvalidInput, checkpoints.update_settings, session, user, membership,
                    {"quorum": "protagonists", "hhi_threshold": "0.5"})
    assert "Nothing changed" in error.errors["quorum"]
    error = refused(InvalidInput, checkpoints.update_settings, session, user, membership,
                    {"quorum": "everyone", "hhi_threshold": "1.5"})
    assert set(error.errors) == {"quorum", "hhi_threshold"}
    session.rollback()
    set_rule(session, case, QuorumRule.STEERING_MAJORITY)
    assert "alliance.review_settings" in actions(session, case)


# ---- the decision and its effects -------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["sam", "steering", "alpha", "accountant"])
def test_only_the_coordinator_decides(session, seated, key):
    checkpoint = opened(session, seated)
    quorum_voted(session, seated, checkpoint.id, "renew")
    refused(NotAllowed, decide, session, seated, checkpoint.id, key=key, decision="renew", new_term_end="2023-03-31")
    session.rollback()
    assert cp(session, checkpoint.id).decision is None


def test_a_decision_needs_an_open_checkpoint_a_known_choice_and_a_rationale(session, seated):
    case = seated
    scheduled = schedule(session, case, "2020-12-31")
    assert "not open yet" in str(refused(Conflict, decide, session, case, scheduled.id, decision="renew"))
    session.rollback()
    checkpoint = opened(session, case)
    quorum_voted(session, case, checkpoint.id, "renew")
    error = refused(InvalidInput, decide, session, case, checkpoint.id, decision="continue", rationale="")
    assert set(error.errors) == {"decision", "rationale"}


def test_renew_extends_the_term(session, seated):
    case = seated
    checkpoint = opened(session, case)
    quorum_voted(session, case, checkpoint.id, "renew")
    versions = session.scalar(select(func.count()).select_from(CharterVersion))
    for too_early in ("2022-03-31", "2021-12-31"):
        error = refused(InvalidInput, decide, session, case, checkpoint.id, decision="renew", new_term_end=too_early)
        assert "after its current end, 2022-03-31" in error.errors["new_term_end"]
        session.rollback()
    decide(session, case, checkpoint.id, decision="renew", new_term_end="2023-03-31", rationale="Targets met.")
    alliance = alliance_row(session, case)
    assert alliance.term_end == date(2023, 3, 31)
    assert (alliance.ended_on, alliance.renegotiate_from) == (None, None)
    assert alliance_state(TODAY, alliance.term_end, alliance.ended_on, alliance.renegotiate_from) == "active"
    assert alliance_state(date(2022, 6, 1), alliance.term_end, None, None) == "active"
    assert session.scalar(select(func.count()).select_from(CharterVersion)) == versions + 1
    newest = charter.newest_version(session, alliance)
    assert newest.term_end == date(2023, 3, 31)
    assert "Targets met." in newest.change_note
    row = cp(session, checkpoint.id)
    assert (row.decision, row.decision_date, row.rationale) == (Decision.RENEW, date(2023, 3, 31), "Targets met.")
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="10",
                   date="2022-06-01")  # in the extension
    assert entry.entry_date == date(2022, 6, 1)
    session.commit()
    assert [a for a in actions(session, case) if a == "checkpoint.decided"] == ["checkpoint.decided"]
    assert "charter.version" in actions(session, case)


def test_renegotiate_awaits_a_new_split_agreement_from_its_date(session, seated):
    case = seated
    checkpoint = opened(session, case)
    quorum_voted(session, case, checkpoint.id, "renegotiate")
    decide(session, case, checkpoint.id, decision="renegotiate", effective_from="2020-09-01")
    alliance = alliance_row(session, case)
    assert alliance.renegotiate_from == date(2020, 9, 1)
    assert alliance.term_end == date(2022, 3, 31)
    assert alliance_state(TODAY, alliance.term_end, alliance.ended_on, alliance.renegotiate_from) == "renegotiating"
    newest = charter.newest_version(session, alliance)
    assert newest.effective_from == date(2020, 9, 1)
    coord, coord_m = who(session, case, "coordinator")
    agreements.create_version(session, coord, coord_m, {"effective_from": "2020-09-01", "note": "Renegotiated",
                                                        "pools": fifty_fifty_pools(case.partners)})
    session.commit()
    assert alliance_row(session, case).renegotiate_from is None
    assert "alliance.renegotiated" in actions(session, case)


def test_a_version_before_the_renegotiation_date_does_not_complete_it(session, seated):
    case = seated
    checkpoint = opened(session, case)
    quorum_voted(session, case, checkpoint.id, "renegotiate")
    decide(session, case, checkpoint.id, decision="renegotiate", effective_from="2020-09-01")
    coord, coord_m = who(session, case, "coordinator")
    agreements.create_version(session, coord, coord_m, {"effective_from": "2020-08-01",
                                                        "pools": fifty_fifty_pools(case.partners)})
    session.commit()
    assert alliance_row(session, case).renegotiate_from == date(2020, 9, 1)


def test_renegotiation_cannot_start_in_a_closed_period(session, seated):
    case = seated
    accountant, accountant_m = who(session, case, "accountant")
    close_period(session, accountant, accountant_m, {"end_date": "2020-05-31"}, today=TODAY)
    session.commit()
    checkpoint = opened(session, case)
    quorum_voted(session, case, checkpoint.id, "renegotiate")
    error = refused(InvalidInput, decide, session, case, checkpoint.id, decision="renegotiate",
                    effective_from="2020-05-15")
    assert "closed" in error.errors["effective_from"]
    session.rollback()
    for outside in ("2020-04-01", "2022-04-01"):
        error = refused(InvalidInput, decide, session, case, checkpoint.id, decision="renegotiate",
                        effective_from=outside)
        assert "effective_from" in error.errors
        session.rollback()
    assert cp(session, checkpoint.id).decision is None
    assert alliance_row(session, case).renegotiate_from is None


def test_terminate_makes_the_alliance_read_only_after_its_last_day(session, seated):
    case = seated
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="6000",
                   date="2020-05-01")
    record(session, case, "beta", partner="Beta", kind="revenue", category="sales", amount="1000",
           date="2020-06-20")
    session.commit()
    later = [schedule(session, case, d) for d in ("2020-12-31", "2021-06-30")]
    kept = schedule(session, case, "2020-08-31")
    checkpoint = opened(session, case)
    quorum_voted(session, case, checkpoint.id, "terminate")
    error = refused(InvalidInput, decide, session, case, checkpoint.id, decision="terminate", end_date="2020-06-10")
    assert "Entries are recorded up to 2020-06-20" in error.errors["end_date"]
    session.rollback()
    decide(session, case, checkpoint.id, decision="terminate", end_date="2020-09-30", rationale="Demand fell.")

    alliance = alliance_row(session, case)
    assert alliance.ended_on == date(2020, 9, 30)
    assert alliance.term_end == date(2020, 9, 30)
    assert alliance_state(date(2020, 9, 30), alliance.term_end, alliance.ended_on, None) == "ending"
    assert alliance_state(date.today(), alliance.term_end, alliance.ended_on, None) == "ended"  # noqa: DTZ011
    assert [cp(session, c.id) for c in later] == [None, None]
    assert cp(session, kept.id) is not None  # on or before the last day: still held
    assert actions(session, case).count("checkpoint.removed") == 2

    # Today is long after 2020-09-30: no new entries, reversals or agreement versions.
    error = refused(InvalidInput, record, session, case, "alpha", partner="Alpha", kind="cost",
                    category="production", amount="1", date="2020-08-01")
    assert "ended on 2020-09-30" in error.errors["date"]
    assert "read-only" in error.errors["date"]
    session.rollback()
    alpha, alpha_m = who(session, case, "alpha")
    refused(InvalidInput, entries.reverse_entry, session, alpha, alpha_m, session.get(Entry, entry.id),
            {"date": "2020-08-01"}, TODAY)
    session.rollback()
    coord, coord_m = who(session, case, "coordinator")
    error = refused(InvalidInput, agreements.create_version, session, coord, coord_m, {
        "effective_from": "2020-08-01", "pools": fifty_fifty_pools(case.partners)})
    assert "read-only" in error.errors["effective_from"]
    session.rollback()

    # Reads stay available: the balance with its final settle-up, the review, the export.
    alliance = alliance_row(session, case)
    sheet = balance_sheet(session, alliance)
    assert sheet.entry_count == 2
    assert sum(r.net for r in sheet.rows) == 0
    assert sheet.transfers  # the final settle-up is still shown
    review = review_of(session, alliance, cp(session, checkpoint.id))
    assert review.state == "decided"
    assert review.snapshot_intact
    out = io.StringIO()
    assert write_csv(session, alliance, ExportPeriod(alliance.start_date, alliance.term_end), out) == 2
    assert "checkpoint.decided" in actions(session, case)


def test_terminate_defaults_to_today_and_stays_in_the_term(session, seated):
    case = seated
    checkpoint = opened(session, case)
    quorum_voted(session, case, checkpoint.id, "terminate")
    error = refused(InvalidInput, decide, session, case, checkpoint.id, decision="terminate", end_date="2022-04-01")
    assert "within the term" in error.errors["end_date"]
    session.rollback()
    decide(session, case, checkpoint.id, decision="terminate")
    assert alliance_row(session, case).ended_on == TODAY


def test_a_decision_is_recorded_only_once(session, seated):
    case = seated
    checkpoint = opened(session, case)
    quorum_voted(session, case, checkpoint.id, "renew")
    decide(session, case, checkpoint.id, decision="renew", new_term_end="2023-03-31")
    error = refused(Conflict, decide, session, case, checkpoint.id, decision="terminate", end_date="2020-09-30")
    assert "already decided: renew" in str(error)
    session.rollback()
    assert alliance_row(session, case).ended_on is None


def test_every_step_leaves_an_activity_row(session, seated):
    case = seated
    checkpoint = opened(session, case)
    assess(session, case, "alpha", checkpoint.id)
    quorum_voted(session, case, checkpoint.id, "renew")
    decide(session, case, checkpoint.id, decision="renew", new_term_end="2023-03-31")
    seen = actions(session, case)
    for action in ("checkpoint.scheduled", "checkpoint.opened", "checkpoint.assessed", "checkpoint.voted",
                   "checkpoint.decided", "charter.version"):
        assert action in seen, action
    decided = session.scalar(select(Activity.summary).where(Activity.action == "checkpoint.decided"))
    assert "renew; the term now ends on 2023-03-31" in decided
