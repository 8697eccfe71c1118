"""Split agreements: each entry falls into exactly one pool of the version in force, and bad pools are refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.domain.agreements import (
    PoolRule,
    check_pools,
    parse_weight,
    pool_for,
    share_percent,
    version_in_force,
    weight_text,
)
from ledger.domain.errors import InvalidInput
from ledger.domain.vocabulary import BORNE_KINDS, EntryKind, PoolSide

FIFTY = {"alpha": Decimal(1), "beta": Decimal(1)}


def rule(name, side, kinds, categories=None, weights=None, key=None):
    return PoolRule(name=name, side=side, kinds=frozenset(kinds),
                    categories=None if categories is None else frozenset(categories),
                    weights=FIFTY if weights is None else weights, key=key or name)


CASE = [
    rule("Shared costs", PoolSide.COSTS, BORNE_KINDS),
    rule("Returns", PoolSide.RETURNS, [EntryKind.REVENUE]),
]


class TestPoolFor:
    @pytest.mark.parametrize("kind", sorted(BORNE_KINDS))
    def test_costs_of_any_category_fall_into_the_cost_pool(self, kind):
        assert pool_for(CASE, kind, "machinery").name == "Shared costs"
        assert pool_for(CASE, kind, "a category added later").name == "Shared costs"

    def test_revenue_falls_into_returns(self):
        assert pool_for(CASE, EntryKind.REVENUE, "sales").name == "Returns"

    def test_settlements_fall_into_no_pool(self):
        everything = [rule("All", PoolSide.COSTS, list(EntryKind))]
        assert pool_for(CASE, EntryKind.SETTLEMENT, "sales") is None
        assert pool_for(everything, EntryKind.SETTLEMENT, None) is None

    def test_category_pools(self):
        pools = [
            rule("Machinery", PoolSide.COSTS, [EntryKind.COST], ["machinery"]),
            rule("Other costs", PoolSide.COSTS, [EntryKind.COST], ["waste", "trading"]),
        ]
        assert pool_for(pools, EntryKind.COST, "machinery").name == "Machinery"
        assert pool_for(pools, EntryKind.COST, "waste").name == "Other costs"
        assert pool_for(pools, EntryKind.COST, "grants") is None
        assert pool_for(pools, EntryKind.SERVICE_FEE, "machinery") is None

    def test_nothing_covers(self):
        assert pool_for([], EntryKind.COST, "x") is None


class TestCheckPools:
    def test_the_case_agreement_is_fine(self):
        check_pools(CASE)

    def _errors(self, pools):
        with pytest.raises(InvalidInput) as exc:
            check_pools(pools)
        return exc.value.errors

    def test_no_pools(self):
        assert "pools" in self._errors([])

    def test_overlap_is_refused_on_the_later_pool(self):
        errors = self._errors([
            rule("Costs", PoolSide.COSTS, [EntryKind.COST]),
            rule("Machinery", PoolSide.COSTS, [EntryKind.COST, EntryKind.CONTRIBUTION], ["machinery"]),
        ])
        assert list(errors) == ["pools-1-kinds"]
        assert "cost" in errors["pools-1-kinds"]
        assert "Costs" in errors["pools-1-kinds"]

    def test_same_kind_in_disjoint_categories_is_fine(self):
        check_pools([
            rule("Machinery", PoolSide.COSTS, [EntryKind.COST], ["machinery"]),
            rule("Waste", PoolSide.COSTS, [EntryKind.COST], ["waste"]),
        ])

    def test_overlapping_categories_are_refused(self):
        errors = self._errors([
            rule("A", PoolSide.COSTS, [EntryKind.COST], ["machinery", "waste"]),
            rule("B", PoolSide.COSTS, [EntryKind.COST], ["waste"]),
        ])
        assert "pools-1-kinds" in errors

    def test_empty_kinds(self):
        assert "pools-0-kinds" in self._errors([rule("Empty", PoolSide.COSTS, [])])

    def test_settlement_in_a_pool(self):
        errors = self._errors([rule("Bad", PoolSide.COSTS, [EntryKind.COST, EntryKind.SETTLEMENT])])
        assert "Settlements" in errors["pools-0-kinds"]

    def test_returns_pool_covering_costs(self):
        errors = self._errors([rule("Bad", PoolSide.RETURNS, [EntryKind.REVENUE, EntryKind.COST])])
        assert "cost" in errors["pools-0-kinds"]

    def test_costs_pool_covering_revenue(self):
        errors = self._errors([rule("Bad", PoolSide.COSTS, [EntryKind.REVENUE])])
        assert "revenue" in errors["pools-0-kinds"]

    @pytest.mark.parametrize("weights", [{"alpha": Decimal(0), "beta": Decimal(1)},
                                         {"alpha": Decimal(-1), "beta": Decimal(2)}, {}])
    def test_zero_negative_or_no_weights(self, weights):
        assert "pools-0-weights" in self._errors([rule("W", PoolSide.COSTS, [EntryKind.COST], weights=weights)])

    def test_empty_category_set(self):
        assert "pools-0-categories" in self._errors([rule("C", PoolSide.COSTS, [EntryKind.COST], [])])

    def test_names(self):
        errors = self._errors([rule(" ", PoolSide.COSTS, [EntryKind.COST]),
                               rule("Costs", PoolSide.RETURNS, [EntryKind.REVENUE]),
                               rule("costs ", PoolSide.COSTS, [EntryKind.SERVICE_FEE])])
        assert set(errors) == {"pools-0-name", "pools-2-name"}

    def test_reports_every_pool_at_once(self):
        errors = self._errors([rule("A", PoolSide.COSTS, []),
                               rule("B", PoolSide.RETURNS, [EntryKind.REVENUE], weights={})])
        assert set(errors) == {"pools-0-kinds", "pools-1-weights"}


class TestParseWeight:
    @pytest.mark.parametrize(("text", "weight"), [
        ("1", Decimal(1)), ("2.5", Decimal("2.5")), ("50%", Decimal(50)), (" 50 % ", Decimal(50)),
        ("33.3333", Decimal("33.3333")), ("0.0001", Decimal("0.0001")), ("1.50000", Decimal("1.5")),
        ("1000000", Decimal(1_000_000)), (3, Decimal(3)),
    ])
    def test_accepted(self, text, weight):
        assert parse_weight(text) == weight

    @pytest.mark.parametrize("text", ["50", "50%", "1.0", "100"])
    def test_whole_weights_print_plainly(self, text):
        """Decimal("50").normalize() prints 5E+1; a page or the API must show 50."""
        assert "E" not in str(parse_weight(text))
        assert str(parse_weight("2.50")) == "2.5"

    @pytest.mark.parametrize(("text", "words"), [
        ("0", "greater than zero"), ("0%", "greater than zero"), ("0.0000", "greater than zero"),
        ("-1", "positive number"), ("abc", "positive number"), ("1e3", "positive number"),
        ("50%%", "positive number"), ("", "Enter a weight"), ("%", "Enter a weight"), (None, "Enter a weight"),
        (True, "Enter a weight"), ("1.23456", "at most 4 decimals"), ("1000001", "over 1,000,000"),
    ])
    def test_refused(self, text, words):
        with pytest.raises(InvalidInput) as exc:
            parse_weight(text, field_name="pools-0-shares")
        assert list(exc.value.errors) == ["pools-0-shares"]
        assert words in exc.value.errors["pools-0-shares"]


class TestVersionInForce:
    VERSIONS = [("v1", date(2020, 4, 1)), ("v3", date(2021, 1, 1)), ("v2", date(2020, 10, 1))]

    @pytest.mark.parametrize(("day", "key"), [
        (date(2020, 3, 31), None), (date(2020, 4, 1), "v1"), (date(2020, 9, 30), "v1"),
        (date(2020, 10, 1), "v2"), (date(2020, 12, 31), "v2"), (date(2021, 1, 1), "v3"), (date(2030, 1, 1), "v3"),
    ])
    def test_latest_effective_date_not_after_the_day(self, day, key):
        assert version_in_force(self.VERSIONS, day) == key

    def test_no_versions(self):
        assert version_in_force([], date(2020, 1, 1)) is None


@pytest.mark.parametrize(("weight", "text"), [
    ("50", "50"), ("5E+1", "50"), ("50.0000", "50"), ("1", "1"), ("1000000", "1000000"), ("2.50", "2.5"),
    ("33.3333", "33.3333"), ("0.0001", "0.0001"),
])
def test_a_weight_is_shown_as_people_type_it(weight, text):
    assert weight_text(Decimal(weight)) == text
    assert parse_weight(weight_text(Decimal(weight))) == Decimal(weight)  # the form takes it back as it was


def test_a_share_in_percent_is_exact_to_two_decimals():
    thirds = [Decimal("33.3333"), Decimal("33.3333"), Decimal("33.3334")]
    assert [share_percent(w, thirds) for w in thirds] == ["33.33", "33.33", "33.33"]
    assert share_percent(Decimal(1), [Decimal(1), Decimal(1)]) == "50.00"
    assert share_percent(Decimal(1), [Decimal(1), Decimal(2)]) == "33.33"
