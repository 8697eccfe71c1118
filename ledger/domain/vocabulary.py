"""The closed vocabularies of the case: entry kinds, pool sides, partner and member roles.

``StrEnum`` values are what the database, the API and the forms store and
exchange, so they are short, stable, lower-case words.
"""

from __future__ import annotations

from enum import StrEnum


class EntryKind(StrEnum):
    COST = "cost"
    CONTRIBUTION = "contribution"
    SERVICE_FEE = "service_fee"
    REVENUE = "revenue"
    SETTLEMENT = "settlement"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


#: Kinds whose amount a partner *bears* (puts into the alliance).
BORNE_KINDS = frozenset({EntryKind.COST, EntryKind.CONTRIBUTION, EntryKind.SERVICE_FEE})
#: Kinds whose amount a partner *receives* on the alliance's behalf.
RECEIVED_KINDS = frozenset({EntryKind.REVENUE})


class PoolSide(StrEnum):
    """A cost pool shares what partners bear; a returns pool shares what they receive."""

    COSTS = "costs"
    RETURNS = "returns"

    @property
    def kinds(self) -> frozenset[EntryKind]:
        return BORNE_KINDS if self is PoolSide.COSTS else RECEIVED_KINDS


class PartnerRole(StrEnum):
    PROTAGONIST = "protagonist"
    SECONDARY = "secondary"
    SUPPLIER = "supplier"
    OTHER = "other"


class PartnerType(StrEnum):
    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    COMPETITOR = "competitor"
    RESEARCH_INSTITUTE = "research_institute"
    COMMERCIAL_LABORATORY = "commercial_laboratory"
    UNIVERSITY = "university"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class MemberRole(StrEnum):
    PARTNER_MEMBER = "partner_member"
    ACCOUNTANT = "accountant"
    STEERING_MEMBER = "steering_member"
    COORDINATOR = "coordinator"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class SignOffStatus(StrEnum):
    """A partner's answer to its statement for a closed period."""

    SIGNED = "signed"
    DISPUTED = "disputed"


#: The case's categories, created with every new alliance.
DEFAULT_CATEGORIES = (
    "production",
    "trading",
    "waste",
    "raw materials",
    "machinery",
    "certification",
    "sales",
    "distribution",
    "grants",
)


# ---- the value lifecycle: charter targets, checkpoints, assessments, votes and decisions ----------------

class TargetPeriod(StrEnum):
    """The span a target's value is measured over (masks *per month*)."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    TERM = "term"

    @property
    def label(self) -> str:
        return {"month": "per month", "quarter": "per quarter", "year": "per year", "term": "over the term"}[self.value]


class TargetDirection(StrEnum):
    """Whether reaching a target means getting up to it (masks made) or staying under it (cost per mask)."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"

    @property
    def label(self) -> str:
        return "at least" if self is TargetDirection.AT_LEAST else "at most"


class TargetCombine(StrEnum):
    """How partners' measurements of one period make the period's actual.

    SUM: each partner reports its own part (masks it delivered); LATEST: one
    figure for the whole alliance (cost per mask), the newest one counts.
    """

    SUM = "sum"
    LATEST = "latest"

    @property
    def label(self) -> str:
        return "sum of partners' figures" if self is TargetCombine.SUM else "latest figure"


class QuorumRule(StrEnum):
    """Who must have voted before the coordinator may record a checkpoint's decision."""

    PROTAGONISTS = "protagonists"
    ALL_PARTNERS = "all_partners"
    ALL_STEERING = "all_steering"
    STEERING_MAJORITY = "steering_majority"

    @property
    def label(self) -> str:
        return {
            "protagonists": "a steering member for every protagonist partner",
            "all_partners": "a steering member for every partner",
            "all_steering": "every steering member",
            "steering_majority": "more than half of the steering members",
        }[self.value]


class Decision(StrEnum):
    """What a steering group decides at a renewal checkpoint."""

    RENEW = "renew"
    RENEGOTIATE = "renegotiate"
    TERMINATE = "terminate"

    @property
    def label(self) -> str:
        return self.value


class Challenge(StrEnum):
    """The difficulties the case names; partners tick the ones they met in an assessment."""

    DELAYS = "delays"
    DEPENDENCY = "dependency"
    MISSING_INCENTIVES = "missing_incentives"
    VALUE_DISTRIBUTION = "value_distribution"
    UNKNOWN_COSTS_OR_PRICES = "unknown_costs_or_prices"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "delays": "delays (e.g. raw-material suppliers)",
            "dependency": "dependency on some partners",
            "missing_incentives": "missing incentives (e.g. a promised grant)",
            "value_distribution": "distribution of value between risks and rewards",
            "unknown_costs_or_prices": "costs or prices unknown at the start",
            "other": "other (see comments)",
        }[self.value]


#: The four scores of an assessment, each 1 (poor) to 5 (excellent).
ASSESSMENT_SCORES = ("satisfaction", "fairness", "commitment", "trust")
