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
