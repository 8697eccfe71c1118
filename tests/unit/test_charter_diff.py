"""What changed between two charter versions, in words (plain data, no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.charter import CharterData, CommitmentData, TargetData, changes, in_force

BASE = CharterData(
    cause="Masks for front-line workers", objective="2 million masks a month", term_end=date(2022, 3, 31),
    commitments={1: CommitmentData("Alpha", "returns", "a production line"),
                 2: CommitmentData("Beta", "returns", "raw material")},
    targets={10: TargetData("masks produced", Decimal(2000000), "masks", "per month")})


def test_the_first_version_says_so():
    assert changes(None, BASE) == ["first version"]


def test_no_change_is_an_empty_list_even_with_different_whitespace():
    assert changes(BASE, replace(BASE, cause=" Masks for front-line workers ")) == []


def test_term_end_and_texts():
    new = replace(BASE, term_end=date(2022, 9, 30), cause="Masks", objective="More")
    assert changes(BASE, new) == ["cause changed", "objective changed", "term end 2022-03-31 -> 2022-09-30"]


def test_commitments_added_changed_and_removed():
    new = replace(BASE, commitments={
        1: CommitmentData("Alpha", "returns", "two production lines"),
        3: CommitmentData("Gamma", "fees", ""),
        2: CommitmentData("Beta", "", ""),  # emptied: the same as no commitment
    })
    assert changes(BASE, new) == ["Alpha's commitment changed (what it brings)", "Gamma's commitment added",
                                  "Beta's commitment removed"]
    both = replace(BASE, commitments={**BASE.commitments, 2: CommitmentData("Beta", "fees", "nothing")})
    assert changes(BASE, both) == ["Beta's commitment changed (what it expects and brings)"]


def test_targets_value_added_and_removed():
    new = replace(BASE, targets={
        10: TargetData("masks produced", Decimal(2500000), "masks", "per month"),
        11: TargetData("cost per mask", Decimal("0.25"), "EUR", "per quarter"),
    })
    assert changes(BASE, new) == ["target 'masks produced' 2,000,000 -> 2,500,000",
                                  "target 'cost per mask' added (0.25 EUR per quarter)"]
    assert changes(BASE, replace(BASE, targets={})) == ["target 'masks produced' removed"]


def test_a_value_written_differently_is_not_a_change():
    same = replace(BASE, targets={10: TargetData("masks produced", Decimal("2000000.0000"), "masks", "per month")})
    assert changes(BASE, same) == []


texts = st.text(max_size=5)
charters = st.builds(
    CharterData, cause=texts, objective=texts, term_end=st.dates(date(2020, 1, 1), date(2030, 1, 1)),
    commitments=st.dictionaries(st.integers(1, 4), st.builds(CommitmentData, st.just("P"), texts, texts),
                                max_size=3),
    targets=st.dictionaries(st.integers(1, 4), st.builds(TargetData, st.just("t"),
                                                         st.decimals(0, 100, places=2)), max_size=3))


@given(charters, charters)
def test_a_charter_compared_with_itself_has_no_changes_and_a_difference_is_always_named(a, b):
    assert changes(a, a) == []
    same_content = (a.cause.strip() == b.cause.strip() and a.objective.strip() == b.objective.strip()
                    and a.term_end == b.term_end
                    and {k: (c.expects.strip(), c.brings.strip()) for k, c in a.commitments.items() if not c.empty}
                    == {k: (c.expects.strip(), c.brings.strip()) for k, c in b.commitments.items() if not c.empty}
                    and {k: t.value for k, t in a.targets.items()} == {k: t.value for k, t in b.targets.items()})
    assert (changes(a, b) == []) == same_content


class V:
    def __init__(self, number: int, effective_from: date) -> None:
        self.number, self.effective_from = number, effective_from


def test_the_version_in_force_is_the_latest_date_then_the_highest_number():
    versions = [V(1, date(2020, 4, 1)), V(2, date(2020, 7, 1)), V(3, date(2020, 7, 1)), V(4, date(2021, 1, 1))]
    assert in_force(versions, date(2020, 3, 31)) is None
    assert in_force(versions, date(2020, 6, 30)).number == 1
    assert in_force(versions, date(2020, 7, 1)).number == 3
    assert in_force(versions, date(2022, 1, 1)).number == 4
