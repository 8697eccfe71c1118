"""Cell values that stay what they are: text never becomes a formula, in XLSX or CSV.

A description such as ``=HYPERLINK(...)`` or ``+1-2`` typed by a partner
must reach the accountant's spreadsheet as the literal text, never as
something the spreadsheet evaluates (CSV/formula injection, OWASP).
"""

from __future__ import annotations

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

#: A text cell starting with one of these may be taken for a formula by a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def risky(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def csv_text(value: object) -> object:
    """A CSV field: risky text gets the single-quote prefix OWASP recommends; other values pass."""
    if isinstance(value, str) and risky(value):
        return "'" + value
    return value


def xlsx_text(sheet: WriteOnlyWorksheet, value: str) -> str | WriteOnlyCell:
    """A text cell for the workbook that keeps its exact value.

    openpyxl turns any string starting with ``=`` into a formula; forcing the
    data type back to string stores it as text, and ``quotePrefix`` tells
    Excel and LibreOffice to keep treating it as text when the cell is edited.
    Only risky strings pay for a cell object; plain ones stay plain strings (fast).
    """
    if not risky(value):
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell
