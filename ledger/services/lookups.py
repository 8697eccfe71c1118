"""Turning ids from forms and API bodies into rows of *this* alliance, or a field error.

An id that exists in another alliance is reported exactly like one that
does not exist, so nothing leaks across alliances.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.db import MAX_ID
from ledger.domain.errors import InvalidInput
from ledger.domain.text import check_in_term, parse_date, whole_number
from ledger.models import Alliance, Category, Partner


def parse_id(value: object, field: str, label: str) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidInput.at(field, f"Choose a {label}.")
    if isinstance(value, str) and (number := whole_number(value, 10**18 - 1, smallest=0)) is not None:
        value = number
    if isinstance(value, int):
        # A JSON integer can be any size; SQLite raises OverflowError past 64 bits, and PostgreSQL
        # "integer out of range" past 2**31 (ids are INTEGER columns): both would be a 500, not a message.
        if not 0 < value <= MAX_ID:
            raise InvalidInput.at(field, f"Unknown {label}.")
        return value
    raise InvalidInput.at(field, f"Unknown {label}.")


def partner_of(session: Session, alliance: Alliance, value: object, field: str = "partner_id",
               label: str = "partner") -> Partner:
    partner_id = parse_id(value, field, label)
    partner = session.get(Partner, partner_id)
    if partner is None or partner.alliance_id != alliance.id:
        raise InvalidInput.at(field, f"Unknown {label}: no partner #{partner_id} in {alliance.name}.")
    return partner


def category_of(session: Session, alliance: Alliance, value: object,
                field: str = "category_id") -> Category:
    category_id = parse_id(value, field, "category")
    category = session.get(Category, category_id)
    if category is None or category.alliance_id != alliance.id:
        raise unknown_category(alliance, category_id, field)
    return category


def unknown_category(alliance: Alliance, category_id: int, field: str = "category_id") -> InvalidInput:
    return InvalidInput.at(field, f"Unknown category: no category #{category_id} in {alliance.name}.")


def date_in_term(alliance: Alliance, value: object, field: str = "date") -> date:
    return check_in_term(parse_date(value, field), alliance.start_date, alliance.term_end, field)


def default_day(alliance: Alliance, today: date) -> date:
    """Today, pulled into the alliance's term (the natural date for a correction or settle-up)."""
    return min(max(today, alliance.start_date), alliance.term_end)


def partner_by_name(session: Session, alliance: Alliance, name: str) -> Partner | None:
    return session.scalar(select(Partner).where(Partner.alliance_id == alliance.id, Partner.name == name))
