"""The read side of closed periods: the periods, who signed what, and one partner's statement.

A statement's figures come from :func:`ledger.queries.balance_sheet` over the
period's dates, so they are by construction the numbers the balance page
shows for that range; its entries are the partner's own and those paid to it,
read as the ledger reads them (:func:`ledger.queries.ledger_page` with the
partner and the period as its filter): a page at a time, newest first, by a
keyset cursor. A quarter of a large alliance holds tens of thousands of a
partner's entries; listed whole, the page took 12 s and 23 MB at 1,000,000.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ledger.domain.balances import PartnerBalance
from ledger.domain.permissions import can_read_signoff_comments, can_view_statement
from ledger.domain.vocabulary import SignOffStatus
from ledger.models import Alliance, Membership, Partner, Period, SignOff
from ledger.queries import BalanceSheet, LedgerFilter, LedgerPage, balance_sheet, ledger_page, partners_of, row_in

PENDING = "pending"


def periods_of(session: Session, alliance: Alliance) -> list[Period]:
    return list(session.scalars(select(Period).where(Period.alliance_id == alliance.id)
                                .options(joinedload(Period.closed_by)).order_by(Period.end_date)))


def period_in(session: Session, alliance: Alliance, period_id: int) -> Period | None:
    return row_in(session, Period, alliance, period_id)


def signoff_history(session: Session, period: Period, partner: Partner | None = None) -> list[SignOff]:
    """Every answer given for the period (of one partner, if named), newest first."""
    stmt = (select(SignOff).where(SignOff.period_id == period.id)
            .options(joinedload(SignOff.user), joinedload(SignOff.partner)).order_by(SignOff.id.desc()))
    if partner is not None:
        stmt = stmt.where(SignOff.partner_id == partner.id)
    return list(session.scalars(stmt))


@dataclass
class SignOffGrid:
    """Periods x partners: the answer that counts (the newest) for each, or none yet."""

    periods: list[Period]
    partners: list[Partner]
    current: dict[tuple[int, int], SignOff]

    def answer(self, period: Period, partner: Partner) -> SignOff | None:
        return self.current.get((period.id, partner.id))

    def status(self, period: Period, partner: Partner) -> str:
        answer = self.answer(period, partner)
        return answer.status.value if answer else PENDING


def signoff_grid(session: Session, alliance: Alliance) -> SignOffGrid:
    periods = periods_of(session, alliance)
    current: dict[tuple[int, int], SignOff] = {}
    if periods:
        rows = session.scalars(
            select(SignOff).join(Period, Period.id == SignOff.period_id).where(Period.alliance_id == alliance.id)
            .options(joinedload(SignOff.user)).order_by(SignOff.id))
        for row in rows:  # ascending ids: the newest answer of each partner is the one left standing
            current[(row.period_id, row.partner_id)] = row
    return SignOffGrid(periods, partners_of(session, alliance), current)


def may_view_statement(membership: Membership, partner: Partner) -> bool:
    """:func:`ledger.domain.permissions.can_view_statement` for this member."""
    return can_view_statement(membership.role, membership.partner_id, partner.id)


#: Whether the reader may see a partner's sign-off comments, by partner id (:func:`comment_reader`).
CommentRule = Callable[[int], bool]


def comment_reader(membership: Membership) -> CommentRule:
    """Whether ``membership`` may read the sign-off comments of a partner (by id): the one rule,
    :func:`ledger.domain.permissions.can_read_signoff_comments`, for pages, API and exports alike."""
    return lambda partner_id: can_read_signoff_comments(membership.role, membership.partner_id, partner_id)


def every_comment(partner_id: int) -> bool:
    """The command line's export: run by whoever operates the server (and holds the database), like a bookkeeper."""
    return True


def no_comment(partner_id: int) -> bool:
    return False


@dataclass
class Statement:
    period: Period
    partner: Partner
    sheet: BalanceSheet
    #: One page of the partner's entries in the period (its ``count`` is all of them).
    entries: LedgerPage
    history: list[SignOff]

    @property
    def figures(self) -> PartnerBalance:
        return self.sheet.row(self.partner.id)

    @property
    def current(self) -> SignOff | None:
        return self.history[0] if self.history else None

    @property
    def status(self) -> str:
        return self.current.status.value if self.current else PENDING

    @property
    def signed(self) -> bool:
        return self.current is not None and self.current.status is SignOffStatus.SIGNED


def statement_filter(period: Period, partner: Partner) -> LedgerFilter:
    """The ledger filter of a statement's entries: the partner on either side, within the period."""
    return LedgerFilter(partner_id=partner.id, date_from=period.start_date, date_to=period.end_date)


def statement(session: Session, alliance: Alliance, period: Period, partner: Partner,
              before: tuple[date, int] | None = None, limit: int = 50) -> Statement:
    """The figures, the page of entries older than ``before`` (newest first) and the sign-off history."""
    sheet = balance_sheet(session, alliance, period.start_date, period.end_date)
    page = ledger_page(session, alliance, statement_filter(period, partner), before=before, limit=limit)
    return Statement(period, partner, sheet, page, signoff_history(session, period, partner))
