"""Reading an uploaded .xlsx or .csv into a header row and data rows, or refusing it in plain words.

Everything a spreadsheet can throw at us (not a spreadsheet, empty, huge,
formulas, merged cells, odd encodings, duplicate headers) becomes an
:class:`ImportFileError` with a message for the person who uploaded it, never
an exception page. Cells keep their spreadsheet types (dates stay dates,
numbers stay numbers) so the row parser can convert them exactly.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from ledger.imports import bounds
from ledger.imports.bounds import (  # the limits and the error, where the other modules have always found them
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_RAW_COLUMNS,
    MAX_ROWS,
    MAX_SHEET_ROW,
    ImportFileError,
    column_letter,
)

#: The sheet taken from a workbook with several: the app's own export names it so.
PREFERRED_SHEET = "Ledger"

Cell = str | int | float | date | datetime | None


@dataclass
class Sheet:
    """The header names and the non-empty data rows (with their spreadsheet row numbers)."""

    header: list[str]
    rows: list[tuple[int, list[Cell]]]
    notes: list[str] = field(default_factory=list)
    sheet_name: str = ""
    #: How many data rows the file has, when ``rows`` holds only its first few (see :func:`dump_sheet`).
    total_rows: int | None = None

    @property
    def row_count(self) -> int:
        return len(self.rows) if self.total_rows is None else self.total_rows


def file_kind(filename: str) -> str:
    """"xlsx" or "csv", from the file name's extension; anything else is refused with a message."""
    name = (filename or "").lower()
    if name.endswith(".xlsx") or name.endswith(".xlsm"):
        return "xlsx"
    if name.endswith(".csv") or name.endswith(".txt"):
        return "csv"
    if name.endswith(".xls") or name.endswith(".ods") or name.endswith(".numbers"):
        raise ImportFileError("This spreadsheet format cannot be read: save it as Excel workbook (.xlsx) or "
                              "CSV and upload that.")
    raise ImportFileError("Upload an Excel workbook (.xlsx) or a CSV file (.csv).")


def read_upload(filename: str, data: bytes) -> Sheet:
    """Dispatch on the file name's extension; refuse anything that is not .xlsx or .csv."""
    if not data:
        raise ImportFileError("The file is empty.")
    kind = file_kind(filename)
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it into "
                              f"smaller files.")
    return _read_xlsx(data) if kind == "xlsx" else _read_csv(data)


# --- The parsed sheet, kept beside the staged upload ------------------------------------------------------
# openpyxl needs about 65 us a row (6.5 s for 100,000 rows); the mapping page, the preview and the import
# each need the sheet again, so the upload stores what it read and the later steps load that (~0.3 s).

_SHEET_FORMAT = 1


_LOADERS = {"t": datetime.fromisoformat, "d": date.fromisoformat, "h": time.fromisoformat}


def _dump_cell(value: Cell) -> object:
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, time):  # a cell formatted as a time of day
        return ["h", value.isoformat()]
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} cell")  # the caller reads the upload again instead


def _load_cell(value: object) -> Cell:
    if isinstance(value, list):
        tag, text = value
        return _LOADERS[tag](text)
    return value  # type: ignore[return-value]


def dump_sheet(sheet: Sheet, head: int | None = None) -> bytes:
    """The sheet as JSON (dates tagged), exactly as :func:`load_sheet` gives it back: same types, same values.

    ``head``: only the first rows (and the count of all), for a page that shows a sample. TypeError for a
    cell JSON cannot hold faithfully (the caller then keeps no copy).
    """
    rows = sheet.rows if head is None else sheet.rows[:head]
    return json.dumps({
        "format": _SHEET_FORMAT, "header": sheet.header, "notes": sheet.notes, "sheet_name": sheet.sheet_name,
        "total_rows": None if head is None else sheet.row_count,
        "rows": [[number, [_dump_cell(c) for c in cells]] for number, cells in rows],
    }, ensure_ascii=False, separators=(",", ":")).encode()


def load_sheet(data: bytes) -> Sheet | None:
    """A sheet stored by :func:`dump_sheet`, or None if it is not one (then read the upload again)."""
    try:
        stored = json.loads(data)
        if stored.get("format") != _SHEET_FORMAT:
            return None
        rows = [(number, [_load_cell(c) for c in cells]) for number, cells in stored["rows"]]
        return Sheet(stored["header"], rows, stored["notes"], stored["sheet_name"], stored.get("total_rows"))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


# --- CSV -------------------------------------------------------------------------------------------------

def decode_text(data: bytes) -> tuple[str, list[str]]:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 / Latin-1 with a note to check accents."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            raise ImportFileError("The file says it is UTF-16 text but is not; save it as CSV UTF-8.") from None
    if b"\x00" in data:
        raise ImportFileError("This is not a CSV text file (it contains binary data). Upload a .csv or .xlsx.")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    for encoding, label in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, [f"The file is not UTF-8; it was read as {label}. Check that accented letters look right "
                      f"below (or save it as \"CSV UTF-8\" and upload again)."]
    raise ImportFileError("The file's text encoding could not be read; save it as \"CSV UTF-8\".")  # pragma: no cover


def _read_csv(data: bytes) -> Sheet:
    text, notes = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(_sample(text), delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    header: list[str] | None = None
    rows: list[tuple[int, list[Cell]]] = []
    try:
        for number, record in enumerate(reader, start=1):
            _check_row_number(number)
            if len(record) > MAX_RAW_COLUMNS:
                raise ImportFileError(f"Row {number} has {len(record):,} columns; at most {MAX_COLUMNS} can be "
                                      f"imported.")
            cells: list[Cell] = [_unescape(c) for c in record]
            if header is None:
                if all(not str(c).strip() for c in cells):
                    continue
                header = _header(cells, number)
                continue
            if all(c is None or not str(c).strip() for c in cells):
                continue
            _check_row_count(len(rows))
            rows.append((number, _fit(header, number, [c if c != "" else None for c in cells])))
    except csv.Error as exc:
        raise ImportFileError(f"The CSV file could not be read ({exc}); save it again as CSV.") from None
    return _finish(header, rows, notes, "")


def _sample(text: str) -> str:
    """The first 20 lines with something on them, at most 4,000 characters, for the dialect sniffer.

    Its regular expressions take time quadratic in what they are given: 20,000 characters of blank lines or
    of commas kept a request busy for many seconds. A header and a few rows tell the delimiter as well.
    """
    lines = (line for line in text[:100_000].splitlines() if line.strip())
    return "\n".join(itertools.islice(lines, 20))[:4_000]


def _unescape(text: str) -> str:
    """Drop the apostrophe exports put before text starting with = + - @ (formula-injection guard)."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


# --- XLSX ------------------------------------------------------------------------------------------------

def _read_xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportFileError("This is not an Excel workbook (.xlsx); it may be an old .xls or another file "
                              "renamed. Save it as .xlsx or CSV and upload again.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            merged = bounds.check_archive(archive)
    except ImportFileError:
        raise
    except Exception as exc:  # a broken archive or XML part: the same "cannot read" as openpyxl's
        raise ImportFileError(f"This Excel file could not be opened ({type(exc).__name__}); save it again as "
                              f".xlsx and upload that.") from None
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for broken archives: all mean "cannot read"
        raise ImportFileError(f"This Excel file could not be opened ({type(exc).__name__}); save it again as "
                              f".xlsx and upload that.") from None
    try:
        names = book.sheetnames
        if not names:
            raise ImportFileError("The workbook has no sheets.")
        name = PREFERRED_SHEET if PREFERRED_SHEET in names else names[0]
        sheet = book[name]
        notes = []
        if len(names) > 1:
            notes.append(f"The workbook has {len(names)} sheets; the sheet \u201c{name}\u201d was read.")
        if getattr(sheet, "_worksheet_path", None) in merged:
            raise ImportFileError(f"The sheet \u201c{name}\u201d has merged cells. Unmerge them (every row "
                                  f"needs its own date, partner, amount ...) and upload again.")
        return _sheet_rows(book, sheet, name, notes)
    except ImportFileError:
        raise
    except Exception as exc:  # a corrupt sheet part surfaces while streaming rows
        raise ImportFileError(f"This Excel file could not be read ({type(exc).__name__}); save it again as "
                              f".xlsx and upload that.") from None
    finally:
        book.close()


def _sheet_rows(book, sheet, name: str, notes: list[str]) -> Sheet:
    header: list[str] | None = None
    rows: list[tuple[int, list[Cell]]] = []
    for number, cells in _records(book, sheet, name):
        if all(c is None for c in cells):
            continue
        if header is None:
            header = _header(cells, number)
            continue
        _check_row_count(len(rows))
        rows.append((number, _fit(header, number, cells)))
    return _finish(header, rows, notes, name)


def _records(book, sheet, name: str) -> Iterator[tuple[int, list[Cell]]]:
    """Each row of the sheet as it is in the file: its number and its cells up to its last value.

    openpyxl's own row parser, without ``iter_rows``: that pads every row to the dimension the sheet claims
    and yields a row for every number a sheet skips, so ``A1:XFD1048576`` with one cell in the last row meant
    a billion empty cells. Here a value's place is checked the moment it is read.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    with sheet._get_source() as source:
        parser = WorkSheetParser(source, sheet._shared_strings, data_only=False, epoch=book.epoch,
                                 date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
        for number, found in parser.parse():
            values: dict[int, Cell] = {}
            for cell in found:
                value = _value(cell, number, name)
                if value is not None:
                    bounds.check_cell(number, cell["column"], name)
                    values[cell["column"]] = value
            yield number, [values.get(column) for column in range(1, max(values, default=0) + 1)]


def _value(cell: dict, number: int, name: str) -> Cell:
    value, kind = cell.get("value"), cell.get("data_type")
    if kind == "f" or (isinstance(value, str) and value.startswith("=") and kind != "s"):
        raise ImportFileError(
            f"Cell {column_letter(cell['column'] - 1)}{number} of sheet \u201c{name}\u201d holds a formula "
            f"({str(value)[:40]}). Imports take values only, because a formula's stored result may be "
            f"stale: copy the sheet and use Paste special \u2192 Values only, then upload again.")
    if isinstance(value, str):
        value = _unescape(value)
        if not value.strip():
            return None
    return value


# --- shared ----------------------------------------------------------------------------------------------

def _check_row_count(count: int) -> None:
    if count >= MAX_ROWS:
        raise ImportFileError(f"The sheet has more than {MAX_ROWS:,} rows; split it into smaller files.")


def _check_row_number(number: int) -> None:
    if number > MAX_SHEET_ROW:
        raise ImportFileError(bounds.past_last_row())


def _fit(header: list[str], number: int, cells: list[Cell]) -> list[Cell]:
    """The row cut or padded to the header's width, as it is read (so memory is rows x header columns)."""
    width = len(header)
    if any(c not in (None, "") for c in cells[width:]):
        raise ImportFileError(f"Row {number} has values beyond the last named column "
                              f"({column_letter(width - 1)}); give that column a header.")
    del cells[width:]
    cells.extend([None] * (width - len(cells)))
    return cells


def _header(cells: list[Cell], number: int) -> list[str]:
    names = [("" if c is None else str(c)).strip() for c in cells]
    while names and not names[-1]:
        names.pop()
    if len(names) > MAX_COLUMNS:
        raise ImportFileError(f"The header row (row {number}) has {len(names)} columns; at most {MAX_COLUMNS} "
                              f"can be imported.")
    seen: dict[str, int] = {}
    for index, label in enumerate(names):
        if not label:
            names[index] = f"Column {column_letter(index)}"
            continue
        key = label.casefold()
        if key in seen:
            raise ImportFileError(
                f"The header row names \u201c{label}\u201d twice (columns {column_letter(seen[key])} and "
                f"{column_letter(index)}); give every column its own name and upload again.")
        seen[key] = index
    return names


def _finish(header: list[str] | None, rows: list[tuple[int, list[Cell]]], notes: list[str], name: str) -> Sheet:
    if header is None:
        raise ImportFileError("The sheet is empty: it has no header row and no entries.")
    if not rows:
        raise ImportFileError("The sheet has a header row but no entries below it.")
    return Sheet(header, rows, notes, name)
