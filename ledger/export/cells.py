"""Cell values that stay what they are: text never becomes a formula, in XLSX or CSV.

A description such as ``=HYPERLINK(...)`` or ``+1-2`` typed by a partner
must reach the accountant's spreadsheet as the literal text, never as
something the spreadsheet evaluates (CSV/formula injection, OWASP).

Every short sheet the product writes goes through :class:`SafeSheet`, the one
way a row reaches a workbook: it writes every ``str`` as text unless it is a
:class:`Formula`, which only the product's own code makes. So a name, a
description or a column header cannot turn into a formula, whatever path it
took, and the long streamed sheets (``ledger.export.streamed``) write text
only. A formula cell that did not come from a :class:`Formula` is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

#: A text cell starting with one of these may be taken for a formula by a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BOLD = Font(bold=True)


class Formula(str):
    """A formula the product wrote itself: the only kind of ``str`` a :class:`SafeSheet` writes as a formula.

    Never build one from text a user typed; build it from cell references, numbers and the product's own
    literals (``"OK"``, ``"costs"``).
    """

    __slots__ = ()

    def __new__(cls, text: str) -> Formula:
        if not text.startswith("="):
            raise ValueError(f"a formula starts with '=': {text[:40]!r}")
        return super().__new__(cls, text)


def risky(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def csv_text(value: object) -> object:
    """A CSV field: risky text gets the single-quote prefix OWASP recommends; other values pass."""
    if isinstance(value, str) and risky(value):
        return "'" + value
    return value


def _as_text(cell: Any) -> Any:
    """Force a cell holding a ``str`` to be text: openpyxl takes any string starting with ``=`` for a formula.

    ``quotePrefix`` tells Excel and LibreOffice to keep treating it as text when the cell is edited.
    """
    cell.data_type = "s"
    if risky(cell.value):
        cell.quotePrefix = True
    return cell


def xlsx_text(sheet: WriteOnlyWorksheet, value: str) -> str | WriteOnlyCell:
    """A text value for the workbook that keeps its exact value.

    Only risky strings pay for a cell object; plain ones stay plain strings (fast).
    """
    if not risky(value):
        return value
    return _as_text(WriteOnlyCell(sheet, value))


class SafeSheet:
    """A write-only sheet whose rows can hold a formula only where the product put a :class:`Formula`.

    It also counts the rows it has written, so a formula that names its own row (a control check's
    verdict) is built from the row it is written to, never from a counted offset.
    """

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self.sheet = sheet
        self.rows = 0
        #: Formula cells made by :meth:`cell`, kept (alive, so their ids stay theirs) until appended.
        self._made: dict[int, Any] = {}

    @property
    def next_row(self) -> int:
        """The number of the row the next :meth:`append` writes."""
        return self.rows + 1

    def cell(self, value: object, number_format: str | None = None, bold: bool = False) -> Any:
        """A styled cell; a ``str`` in it is text unless it is a :class:`Formula`."""
        cell = WriteOnlyCell(self.sheet, value)
        if isinstance(value, str) and not isinstance(value, Formula):
            _as_text(cell)
        elif cell.data_type == "f":
            self._made[id(cell)] = cell
        if number_format:
            cell.number_format = number_format
        if bold:
            cell.font = BOLD
        return cell

    def header(self, names: Iterable[str]) -> int:
        return self.append([self.cell(name, bold=True) for name in names])

    def append(self, values: Iterable[object]) -> int:
        """Write one row; returns its number."""
        self.sheet.append([self._checked(v) for v in values])
        self.rows += 1
        return self.rows

    def _checked(self, value: object) -> object:
        if isinstance(value, Formula):
            return value
        if isinstance(value, str):
            return xlsx_text(self.sheet, value)
        if getattr(value, "data_type", None) == "f" and self._made.pop(id(value), None) is not value:
            raise ValueError(f"a formula cell not made by this sheet: {str(value.value)[:40]!r}")
        return value
