"""Reading the request: query parameters for lists and balances (the JSON body: ``ledger.api.bodies``).

Query parameters that cannot filter anything are a 400 that names the parameter.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date

from flask import request
from sqlalchemy.orm import Session

from ledger.api.errors import BadRequest
from ledger.db import MAX_ID
from ledger.domain.errors import FieldErrors, InvalidInput
from ledger.domain.text import parse_date, parse_whole_number, whole_number
from ledger.domain.vocabulary import EntryKind
from ledger.models import Alliance
from ledger.queries import LedgerFilter
from ledger.services.alliances import parse_choice
from ledger.services.lookups import category_of, partner_of

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def _query(name: str) -> str | None:
    """The parameter's value; an empty one (``?from=``) is left out, as documented (allowEmptyValue).

    Only empty: a blank but non-empty value (``?from=%20``) is a filter the caller meant, and a 400
    at the parameter tells them it is not one, where ignoring it would answer a question not asked.
    """
    value = request.args.get(name)
    return None if value is None or value == "" else value


def date_range(errors: FieldErrors | None = None) -> tuple[date | None, date | None]:
    """``from`` and ``to`` query parameters, both optional, in order.

    Given the caller's ``errors``, problems join its other field errors (one 400 naming them all);
    without, they are a 400 at once.
    """
    collected = errors if errors is not None else FieldErrors()
    start = collected.check("from", parse_date, _query("from"), "from") if _query("from") else None
    end = collected.check("to", parse_date, _query("to"), "to") if _query("to") else None
    if start and end and end < start:
        collected.add("to", "The end of the range must be on or after its start.")
    if errors is None:
        _raise_bad(collected)
    return start, end


@dataclass(frozen=True)
class PageRequest:
    filters: LedgerFilter
    before: tuple[date, int] | None
    limit: int


def ledger_query(session: Session, alliance: Alliance) -> PageRequest:
    """Filters, cursor and page size of a ``GET .../entries``; unknown ids are a 400 at their parameter."""
    errors = FieldErrors()
    partner = category = kind = None
    if _query("partner_id"):
        partner = errors.check("partner_id", partner_of, session, alliance, _query("partner_id"))
    if _query("category_id"):
        category = errors.check("category_id", category_of, session, alliance, _query("category_id"))
    if _query("kind"):
        kind = errors.check("kind", parse_choice, EntryKind, _query("kind"), "kind", "kind of entry")
    start, end = date_range(errors)
    before, limit = page_position(errors)
    _raise_bad(errors)
    filters = LedgerFilter(partner_id=partner.id if partner else None, kind=kind,
                           category_id=category.id if category else None, date_from=start, date_to=end)
    return PageRequest(filters, before, limit)


def page_position(errors: FieldErrors | None = None) -> tuple[tuple[date, int] | None, int]:
    """The ``cursor`` and ``limit`` query parameters of any keyset-paged list (see ``errors`` in date_range)."""
    collected = errors if errors is not None else FieldErrors()
    limit = collected.check("limit", parse_limit, _query("limit"))
    before = collected.check("cursor", decode_cursor, _query("cursor")) if _query("cursor") else None
    if errors is None:
        _raise_bad(collected)
    return before, limit


def parse_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    return parse_whole_number(value, "limit", MAX_LIMIT, f"The limit is a whole number from 1 to {MAX_LIMIT}.")


def encode_cursor(position: tuple[date, int] | None) -> str | None:
    """Opaque to clients, so the keyset it carries (date, id) can change without breaking them."""
    if position is None:
        return None
    day, entry_id = position
    return base64.urlsafe_b64encode(f"{day.isoformat()}|{entry_id}".encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[date, int]:
    invalid = InvalidInput.at("cursor", "That cursor is not one this API handed out; start from the first page.")
    try:
        text = base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4)).decode()
        day, _, entry_id = text.partition("|")
        number = whole_number(entry_id, MAX_ID)
        if number is None:
            raise invalid
        return date.fromisoformat(day), number
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None


def _raise_bad(errors: FieldErrors) -> None:
    if errors:
        raise BadRequest("Some query parameters are not valid.", errors.errors)
