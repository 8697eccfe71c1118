"""One spreadsheet row -> the raw dict ``record_entry`` validates (or a reversal of an earlier row).

Only what is specific to spreadsheets lives here: names instead of ids,
"kind or sign", Excel number and date cells. Every business rule (dates in the
term and in an open period, positive amounts, settlement counterparties, who
may record for whom) is ``record_entry``'s, which :mod:`ledger.imports.checks`
applies to the raw dict exactly as the entry form's request would meet it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from ledger.db import MAX_ID
from ledger.domain.errors import InvalidInput
from ledger.domain.money import minor_digits, parse_amount, to_decimal_string
from ledger.domain.text import whole_number
from ledger.domain.vocabulary import EntryKind
from ledger.imports.reading import Cell

_REVERSAL = re.compile(r"^\s*Reversal of #([0-9]{1,12})(?::\s*(.*))?$", re.DOTALL)
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")


@dataclass
class ParsedRow:
    """A row ready for the services; ``errors`` are what is wrong before they even see it."""

    number: int
    raw: dict[str, object]
    errors: dict[str, str] = field(default_factory=dict)
    source_id: int | None = None
    reverses: int | None = None
    reason: str = ""
    cents: int | None = None
    partner_name: str = ""
    category_name: str = ""
    kind: EntryKind | None = None


def text_of(value: Cell) -> str:
    """A cell as people read it: 12345.0 -> "12345", a date -> 2020-05-01."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def date_cell(value: Cell) -> object:
    """Excel date cells are real dates; text goes to the domain's date parser unchanged (bar a 00:00 time)."""
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise InvalidInput.at("date", f"{value.isoformat(sep=' ')} has a time of day; use a plain date.")
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise InvalidInput.at("date", f"{text_of(value)} is a number, not a date: format the column as dates "
                                      f"or write YYYY-MM-DD.")
    text = text_of(value)
    match = _MIDNIGHT.match(text)
    return match.group(1) if match else text


def amount_cents(value: Cell, currency: str) -> int:
    """Signed minor units. A number cell is converted exactly; more decimals than the currency has is refused."""
    if isinstance(value, bool | date):
        raise InvalidInput.at("amount", f"{text_of(value)} is not an amount.")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput.at("amount", "The cell does not hold a number.")
        exact = Decimal(repr(value))  # the shortest text that round-trips: what the spreadsheet shows
        digits = minor_digits(currency)
        step = Decimal(1).scaleb(-digits)
        if abs(exact) > Decimal("1e12"):
            raise InvalidInput.at("amount", "The amount cannot be over 1,000,000,000.00.")
        if exact != exact.quantize(step):
            raise InvalidInput.at("amount", f"The cell holds {exact}: more than {digits} decimals for {currency}. "
                                            f"Round it in the sheet.")
        value = format(exact.quantize(step), "f")
    if isinstance(value, int):
        value = str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput.at("amount", "Enter an amount.")
    return parse_amount(value, currency, allow_negative=True)


def _kind(value: Cell) -> EntryKind | str:
    text = re.sub(r"[\s\-]+", "_", text_of(value).casefold())
    try:
        return EntryKind(text)
    except ValueError:
        return text_of(value)


def _entry_number(row: ParsedRow, key: str, value: Cell) -> int | None:
    """An entry number in a cell (``12``, ``12.0``); anything else ("\u00b2", "\u2460", "12a") is an error there."""
    if value is None:
        return None
    number = whole_number(text_of(value), MAX_ID)
    if number is None:
        row.errors.setdefault(key, f"\u201c{text_of(value)[:20]}\u201d is not an entry number.")
    return number


def parse_row(number: int, cells: list[Cell], columns: dict[str, int], currency: str,
              partners: dict[str, tuple[int, str]], categories: dict[str, tuple[int, str]]) -> ParsedRow:
    """Turn the mapped cells into ``record_entry``'s raw dict, collecting the spreadsheet-only errors."""
    def cell(key: str) -> Cell:
        return cells[columns[key]] if key in columns else None

    row = ParsedRow(number, {})
    raw = row.raw
    try:
        raw["date"] = date_cell(cell("date"))
    except InvalidInput as exc:
        row.errors.update(exc.errors)
        raw["date"] = None
    row.partner_name = text_of(cell("partner"))
    raw["partner_id"] = _lookup(row, "partner_id", row.partner_name, partners, "partner")
    row.category_name = text_of(cell("category"))
    raw["category_id"] = _lookup(row, "category_id", row.category_name, categories, "category")
    counterparty = text_of(cell("counterparty"))
    raw["counterparty_id"] = _lookup(row, "counterparty_id", counterparty, partners, "partner")
    raw["description"] = text_of(cell("description"))
    raw["reference"] = text_of(cell("reference"))
    row.source_id = _entry_number(row, "entry_id", cell("entry_id"))
    try:
        row.cents = amount_cents(cell("amount"), currency)
    except InvalidInput as exc:
        row.errors.update(exc.errors)
    if "kind" in columns:
        kind = _kind(cell("kind"))
        raw["kind"] = kind.value if isinstance(kind, EntryKind) else kind
        row.kind = kind if isinstance(kind, EntryKind) else None
        if row.cents is not None and row.cents < 0:
            _as_reversal(row, "entry_id" in columns, _entry_number(row, "reverses", cell("reverses")))
    elif row.cents is not None:
        row.kind = EntryKind.REVENUE if row.cents > 0 else EntryKind.COST
        raw["kind"] = row.kind.value
    raw["amount"] = to_decimal_string(abs(row.cents), currency) if row.cents is not None else None
    return row


def _as_reversal(row: ParsedRow, has_ids: bool, reverses: int | None) -> None:
    """A negative amount with a kind is a correction: allowed only as the reversal of another row of the file.

    The row names its original by the "Reverses entry" column or by a description
    "Reversal of #N[: reason]" (how the app writes reversals), N being that row's entry id.
    """
    match = _REVERSAL.match(str(row.raw.get("description") or ""))
    if reverses is None and match:
        reverses = whole_number(match.group(1), MAX_ID)
    if has_ids and reverses is not None:
        row.reverses = reverses
        row.reason = (match.group(2) or "").strip() if match else str(row.raw.get("description") or "")
        return
    row.errors.setdefault(
        "amount", "A negative amount with a kind is a correction. Only a reversal can be imported as one: "
                  "its description must read \u201cReversal of #N\u201d, N being the entry id of an earlier row "
                  "(map the entry id column). Otherwise enter a positive amount or leave the kind unmapped so "
                  "the sign decides (negative = cost, positive = revenue).")


def _lookup(row: ParsedRow, key: str, name: str, table: dict[str, tuple[int, str]], label: str) -> int | None:
    if not name:
        return None
    found = table.get(name.casefold())
    if found is None:
        known = ", ".join(sorted(n for _, n in table.values()))[:200]
        row.errors.setdefault(key, f"No {label} named \u201c{name[:60]}\u201d in this alliance (known: {known}).")
        return None
    return found[0]
