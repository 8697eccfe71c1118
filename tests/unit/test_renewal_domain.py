"""Renewal rules as plain functions: who makes a checkpoint's quorum, the tally of votes, the alliance's state.

A decision may be recorded only once the quorum has voted, so these rules
decide whether a steering group can move on; the messages name what is missing.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.renewal import QuorumState, Voter, alliance_state, is_read_only, leading, quorum, tally
from ledger.domain.vocabulary import Decision, QuorumRule

NAMES = {"A": "Alpha", "B": "Beta", "G": "Gamma", "O": "Omega"}
PROTAGONISTS = ["A", "B"]
PARTNERS = ["A", "B", "G", "O"]


def q(rule: QuorumRule, steering: list[Voter], voted, protagonists=PROTAGONISTS, partners=PARTNERS) -> QuorumState:
    return quorum(rule, steering, voted, protagonists, partners, NAMES)


# ---- protagonists / all partners ---------------------------------------------------------------------

SEATED = [Voter("sa", "A"), Voter("sb", "B"), Voter("free", None)]


def test_protagonists_needs_a_vote_for_each_protagonist():
    assert q(QuorumRule.PROTAGONISTS, SEATED, []) == QuorumState(False, ("a vote for Alpha", "a vote for Beta"))
    assert q(QuorumRule.PROTAGONISTS, SEATED, ["sa"]) == QuorumState(False, ("a vote for Beta",))
    assert q(QuorumRule.PROTAGONISTS, SEATED, ["sa", "sb"]).met
    assert q(QuorumRule.PROTAGONISTS, SEATED, ["sb", "sa"]) == QuorumState(True, ())


def test_protagonists_an_independent_members_vote_covers_no_partner():
    state = q(QuorumRule.PROTAGONISTS, SEATED, ["free", "sa"])
    assert not state.met
    assert state.missing == ("a vote for Beta",)


def test_protagonists_without_a_steering_member_for_a_partner_names_it_unrepresented():
    steering = [Voter("sa", "A"), Voter("free", None)]
    state = q(QuorumRule.PROTAGONISTS, steering, ["sa", "free"])
    assert not state.met
    assert state.missing == ("a vote for Beta",)
    assert state.unrepresented == ("B",)
    # A seated but silent member is missing, not unrepresented.
    assert q(QuorumRule.PROTAGONISTS, SEATED, ["sa"]).unrepresented == ()


def test_protagonists_with_no_steering_member_sitting_for_anyone():
    state = q(QuorumRule.PROTAGONISTS, [Voter("free", None)], ["free"])
    assert not state.met
    assert state.unrepresented == ("A", "B")


def test_two_members_sitting_for_one_partner_either_vote_covers_it():
    steering = [Voter("sa1", "A"), Voter("sa2", "A"), Voter("sb", "B")]
    assert q(QuorumRule.PROTAGONISTS, steering, ["sa2", "sb"]).met
    assert q(QuorumRule.PROTAGONISTS, steering, ["sa1", "sa2"]).missing == ("a vote for Beta",)


def test_votes_of_people_who_are_not_steering_members_do_not_count():
    # A partner member or a former steering member sitting for Beta (no longer in ``steering``).
    for rule in QuorumRule:
        state = q(rule, SEATED, ["sa", "alpha-partner-member", "former-steering-for-beta"])
        assert not state.met, rule
    assert q(QuorumRule.STEERING_MAJORITY, SEATED, ["sa", "nobody"]).missing == ("1 more vote of steering members",)


def test_all_partners_needs_a_vote_for_every_partner():
    steering = [Voter("sa", "A"), Voter("sb", "B"), Voter("sg", "G")]
    state = q(QuorumRule.ALL_PARTNERS, steering, ["sa", "sb", "sg"])
    assert state == QuorumState(False, ("a vote for Omega",), ("O",))
    assert q(QuorumRule.ALL_PARTNERS, [*steering, Voter("so", "O")], ["sa", "sb", "sg", "so"]).met


@pytest.mark.parametrize(("rule", "words"), [(QuorumRule.PROTAGONISTS, "protagonist partners"),
                                         (QuorumRule.ALL_PARTNERS, "partners")])
def test_no_partners_to_vote_for_is_never_a_quorum(rule, words):
    state = q(rule, SEATED, ["sa", "sb", "free"], protagonists=[], partners=[])
    assert state == QuorumState(False, (f"the alliance has no {words} yet",))


# ---- every steering member / a majority --------------------------------------------------------------

def test_all_steering_needs_every_member():
    assert q(QuorumRule.ALL_STEERING, SEATED, ["sa", "sb"]) == QuorumState(
        False, ("1 more vote of steering members",))
    assert q(QuorumRule.ALL_STEERING, SEATED, []).missing == ("3 more votes of steering members",)
    assert q(QuorumRule.ALL_STEERING, SEATED, ["sa", "sb", "free"]) == QuorumState(True, ())


@pytest.mark.parametrize(("n", "needed"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4), (7, 4)])
def test_majority_arithmetic_for_one_to_seven_members(n, needed):
    steering = [Voter(i) for i in range(n)]
    assert not q(QuorumRule.STEERING_MAJORITY, steering, range(needed - 1)).met
    assert q(QuorumRule.STEERING_MAJORITY, steering, range(needed)).met
    assert q(QuorumRule.STEERING_MAJORITY, steering, range(needed - 1)).missing == (
        "1 more vote of steering members",)
    if needed >= 2:
        assert q(QuorumRule.STEERING_MAJORITY, steering, []).missing == (
            f"{needed} more votes of steering members",)


@pytest.mark.parametrize("rule", [QuorumRule.ALL_STEERING, QuorumRule.STEERING_MAJORITY])
def test_no_steering_members_is_never_a_quorum(rule):
    assert q(rule, [], ["someone"]) == QuorumState(False, ("the alliance has no steering members yet",))


def test_protagonists_with_no_steering_members_names_every_protagonist():
    state = q(QuorumRule.PROTAGONISTS, [], [])
    assert state == QuorumState(False, ("a vote for Alpha", "a vote for Beta"), ("A", "B"))


def test_voting_twice_counts_once():
    steering = [Voter(i) for i in range(4)]
    assert not q(QuorumRule.STEERING_MAJORITY, steering, [0, 0, 0, 1]).met  # 2 of 4 is not more than half
    assert q(QuorumRule.STEERING_MAJORITY, steering, [0, 0, 1, 2]).met


# ---- properties --------------------------------------------------------------------------------------

@st.composite
def quorum_cases(draw):
    """A steering group of 0..7 members (some sitting for a partner) and who voted, steering or not."""
    n = draw(st.integers(min_value=0, max_value=7))
    seats = draw(st.lists(st.sampled_from([*PARTNERS, None]), min_size=n, max_size=n))
    steering = [Voter(f"s{i}", seat) for i, seat in enumerate(seats)]
    candidates = [v.user_id for v in steering] + ["outsider1", "outsider2"]
    voted = draw(st.lists(st.sampled_from(candidates), max_size=10))
    return steering, voted, candidates


@given(quorum_cases(), st.sampled_from(list(QuorumRule)), st.data())
def test_adding_a_vote_never_unmeets_a_quorum(case, rule, data):
    steering, voted, candidates = case
    extra = data.draw(st.sampled_from(candidates))
    if q(rule, steering, voted).met:
        assert q(rule, steering, [*voted, extra]).met


@given(quorum_cases(), st.sampled_from(list(QuorumRule)))
def test_a_quorum_met_has_nothing_missing_and_one_not_met_says_why(case, rule):
    steering, voted, _ = case
    state = q(rule, steering, voted)
    assert state.met == (state.missing == ())
    assert set(state.unrepresented) <= set(PARTNERS)


@given(quorum_cases())
def test_majority_met_iff_counted_votes_exceed_half(case):
    steering, voted, _ = case
    counted = len({u for u in voted if u in {v.user_id for v in steering}})
    assert q(QuorumRule.STEERING_MAJORITY, steering, voted).met == (bool(steering) and counted > len(steering) / 2)


@given(quorum_cases())
def test_all_steering_met_iff_every_member_voted(case):
    steering, voted, _ = case
    met = bool(steering) and {v.user_id for v in steering} <= set(voted)
    assert q(QuorumRule.ALL_STEERING, steering, voted).met == met


@given(quorum_cases())
def test_votes_of_non_steering_users_never_change_the_answer(case):
    steering, voted, _ = case
    only_steering = [u for u in voted if not u.startswith("outsider")]
    for rule in QuorumRule:
        assert q(rule, steering, voted) == q(rule, steering, only_steering)


@given(quorum_cases())
def test_protagonists_met_iff_each_protagonist_has_a_voter_sitting_for_it(case):
    steering, voted, _ = case
    covered = {v.partner_id for v in steering if v.user_id in voted}
    assert q(QuorumRule.PROTAGONISTS, steering, voted).met == ({"A", "B"} <= covered)


# ---- tally and leading -------------------------------------------------------------------------------

def test_tally_lists_every_choice_in_order_with_zeros():
    assert tally([]) == {Decision.RENEW: 0, Decision.RENEGOTIATE: 0, Decision.TERMINATE: 0}
    counts = tally([Decision.TERMINATE, Decision.RENEW, Decision.TERMINATE])
    assert list(counts) == [Decision.RENEW, Decision.RENEGOTIATE, Decision.TERMINATE]
    assert counts == {Decision.RENEW: 1, Decision.RENEGOTIATE: 0, Decision.TERMINATE: 2}


def test_leading_is_the_choice_with_most_votes():
    assert leading(tally([Decision.RENEW, Decision.RENEW, Decision.TERMINATE])) is Decision.RENEW
    assert leading(tally([Decision.RENEGOTIATE])) is Decision.RENEGOTIATE


def test_no_leader_on_a_tie_or_without_votes():
    assert leading(tally([])) is None
    assert leading({}) is None
    assert leading(tally([Decision.RENEW, Decision.TERMINATE])) is None
    assert leading(tally([Decision.RENEW, Decision.TERMINATE, Decision.RENEGOTIATE])) is None
    # A tie at the top matters even when a third choice trails.
    assert leading(tally([Decision.RENEW, Decision.RENEW, Decision.TERMINATE, Decision.TERMINATE,
                          Decision.RENEGOTIATE])) is None


@given(st.lists(st.sampled_from(list(Decision)), max_size=20))
def test_tally_counts_every_vote_and_the_leader_has_strictly_most(choices):
    counts = tally(choices)
    assert sum(counts.values()) == len(choices)
    winner = leading(counts)
    if winner is None:
        top = max(counts.values())
        assert top == 0 or sum(1 for c in counts.values() if c == top) > 1
    else:
        assert all(counts[winner] > c for d, c in counts.items() if d is not winner)


# ---- the alliance's state ----------------------------------------------------------------------------

END = date(2022, 3, 31)


@pytest.mark.parametrize(("today", "ended_on", "renegotiate_from", "state"), [
    (date(2021, 1, 1), None, None, "active"),
    (END, None, None, "active"),
    (END + timedelta(days=1), None, None, "expired"),
    (date(2021, 1, 1), None, date(2021, 2, 1), "renegotiating"),
    (date(2021, 1, 1), date(2021, 6, 30), None, "ending"),
    (date(2021, 6, 30), date(2021, 6, 30), None, "ending"),
    (date(2021, 7, 1), date(2021, 6, 30), None, "ended"),
    # Termination wins over a pending renegotiation and over the term's end.
    (date(2023, 1, 1), date(2021, 6, 30), date(2021, 2, 1), "ended"),
])
def test_alliance_state(today, ended_on, renegotiate_from, state):
    assert alliance_state(today, END, ended_on, renegotiate_from) == state


def test_read_only_only_after_the_last_day_of_a_terminated_alliance():
    last = date(2021, 6, 30)
    assert not is_read_only(date(2030, 1, 1), None)  # an expired term is not read-only by itself
    assert not is_read_only(last - timedelta(days=1), last)
    assert not is_read_only(last, last)
    assert is_read_only(last + timedelta(days=1), last)


@given(st.dates(), st.one_of(st.none(), st.dates()), st.one_of(st.none(), st.dates()))
def test_read_only_exactly_when_the_state_is_ended(today, ended_on, renegotiate_from):
    assert is_read_only(today, ended_on) == (alliance_state(today, END, ended_on, renegotiate_from) == "ended")
