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


#: The roles that keep the books of every partner.
BOOKKEEPERS = (MemberRole.COORDINATOR, MemberRole.ACCOUNTANT)


def can_view_statement(role: MemberRole, own_partner_id: int | None, partner_id: int) -> bool:
    """A partner's statement for a closed period: its own members, and every role but a partner member.

    Partner members see only their own partner's (the figures are on the balance page for everyone anyway);
    accountants, steering members and the coordinator see each partner's.
    """
    if role is MemberRole.PARTNER_MEMBER:
        return own_partner_id == partner_id
    return True


def can_read_signoff_comments(role: MemberRole, own_partner_id: int | None, partner_id: int) -> bool:
    """The comments a partner gives with its sign-offs and disputes: the partner's own members, the
    coordinator and accountants; nobody else, in any page, API answer, export or activity record.

    A comment (a dispute says what is wrong with the partner's statement) is between the partner, who alone
    may write it, and the roles that keep the books and must answer it. Steering members, including one who
    sits for a partner, and other partners' members see the status (signed, disputed, pending), who
    answered and when; not the comment.
    """
    if role in BOOKKEEPERS:
        return True
    return role is MemberRole.PARTNER_MEMBER and own_partner_id == partner_id
