"""Reading the GET parameters of the ledger and dashboard filters into typed values.

A bad value (a date that is not a date, a partner of another alliance, a
mangled cursor) becomes a message at that filter, never a 500.
"""

from __future__ import annotations

from datetime import date

from ledger.db import MAX_ID
from ledger.domain.errors import InvalidInput
from ledger.domain.text import parse_date, whole_number
from ledger.domain.vocabulary import EntryKind
from ledger.services.lookups import parse_id


def optional_date(value: str | None, field: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return parse_date(value, field)
    except InvalidInput as exc:
        errors[field] = exc.errors[field]
        return None


def optional_id(value: str | None, known: set[int], field: str, label: str, errors: dict[str, str]) -> int | None:
    if not value:
        return None
    try:
        chosen = parse_id(value, field, label)
    except InvalidInput:
        chosen = None
    if chosen not in known:
        errors[field] = f"Unknown {label}: choose one from the list."
        return None
    return chosen


def optional_kind(value: str | None, errors: dict[str, str]) -> EntryKind | None:
    if not value:
        return None
    try:
        return EntryKind(value)
    except ValueError:
        errors["kind"] = "Unknown kind: choose " + ", ".join(k.value for k in EntryKind) + "."
        return None


def period(date_from: date | None, date_to: date | None, errors: dict[str, str]) -> None:
    if date_from and date_to and date_to < date_from:
        errors["to"] = "The end of the period is before its start."


def parse_cursor(value: str | None, errors: dict[str, str]) -> tuple[date, int] | None:
    """``2020-05-01.123``: the date and id of the last entry of the previous page."""
    if not value:
        return None
    day, _, entry_id = value.partition(".")
    number = whole_number(entry_id, MAX_ID)
    if number is None:
        errors["before"] = "That page link is broken; start again from the newest entries."
        return None
    try:
        return date.fromisoformat(day), number
    except ValueError:
        errors["before"] = "That page link is broken; start again from the newest entries."
        return None


def format_cursor(cursor: tuple[date, int]) -> str:
    return f"{cursor[0].isoformat()}.{cursor[1]}"
