"""Who may do what in an alliance, by member role.

One table of rules so the pages, the API and the tests ask the same
question the same way instead of sprinkling role checks through views.
"""

from __future__ import annotations

from ledger.domain.vocabulary import MemberRole


def can_manage(role: MemberRole) -> bool:
    """Partners, members, categories and split agreements are the coordinator's."""
    return role is MemberRole.COORDINATOR


def can_record(role: MemberRole) -> bool:
    """Partner members record for their partner, coordinators for anyone."""
    return role in (MemberRole.PARTNER_MEMBER, MemberRole.COORDINATOR)


def can_record_for(role: MemberRole, own_partner_id: int | None, partner_id: int) -> bool:
    if role is MemberRole.COORDINATOR:
        return True
    return role is MemberRole.PARTNER_MEMBER and own_partner_id == partner_id
