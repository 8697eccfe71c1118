"""Bounds on what an uploaded file may make the server do, checked before the file is parsed (import bombs).

A 1.7 KB workbook can claim the sheet ``A1:XFD1048576``: openpyxl's ``iter_rows`` then yields every one of
its rows and columns; a shared-strings part is held in memory whole; a zip part can inflate a thousandfold.
So before openpyxl opens a workbook, the archive's directory is checked for sizes and inflation, and the
shared strings and each sheet's cells and other elements are counted over the raw XML, streamed (never
held). Reading the rows (``ledger.imports.reading``), the place of each value, not the dimension the sheet
claims, decides how far is read (:func:`check_cell`). Each bound is generous for a partner's real ledger of
MAX_ROWS entries, and each refusal says which bound and what to do.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from lxml import etree


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message says why and what to do."""


#: Rows are checked in memory against tables loaded once per import and written with a few bulk inserts
#: (``ledger.imports.checks``, ``ledger.services.imports``): 100,000 rows are previewed and imported in well
#: under a minute on both engines (``benchmarks/import_rows.py``). A longer history is imported as several
#: files (each one all or nothing).
MAX_ROWS = 100_000
#: Columns beyond this are refused (a sheet that wide is not an entry list).
MAX_COLUMNS = 100
#: The whole upload, either kind (the web form's limit is the same).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: No value may sit below this row: MAX_ROWS entries, a header and room for blank or title rows.
MAX_SHEET_ROW = MAX_ROWS + 1_000
#: Cells a sheet's XML may hold, with or without a value (100,000 rows of 25 columns) ...
MAX_CELLS = 2_500_000
#: ... of which without a value (formatted but empty: a 15 MB sheet of them kept a worker busy for minutes).
MAX_EMPTY_CELLS = 1_000_000
#: One row's XML (openpyxl holds a row whole; a row of 100 long texts is well under 1 MB).
MAX_ROW_BYTES = 4 * 1024 * 1024
#: XML elements of a sheet that are not rows or cells (column widths, links, formatting rules ...).
MAX_OTHER_ELEMENTS = 100_000
#: A CSV record wider than this is refused at once, before its cells are looked at.
MAX_RAW_COLUMNS = 1_000
#: Parts (files) in a workbook's zip archive.
MAX_PARTS = 1_000
#: Uncompressed size of the worksheet's XML (a 100,000-row, 18-column sheet is about 90 MB).
MAX_SHEET_XML_BYTES = 256 * 1024 * 1024
#: Uncompressed size of the shared-strings part, which openpyxl holds in memory whole.
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024
#: Distinct texts in the shared-strings part (each holds memory whatever its length).
MAX_SHARED_STRINGS = 1_000_000
#: Uncompressed size of any other part (workbook, styles, theme ...).
MAX_PART_BYTES = 16 * 1024 * 1024
#: Uncompressed size of all parts together.
MAX_UNCOMPRESSED_BYTES = 320 * 1024 * 1024
#: A part over 1 MB may inflate at most this many times (spreadsheet XML deflates 5 to 20 times).
MAX_RATIO = 100


_CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_MB = 1024 * 1024
# Elements are counted with bytes.count over the raw XML, a megabyte at a time: a regular expression or a
# parse element by element in Python costs as much as openpyxl reading the sheet. A tag spelt unusually
# (<c\tr="A1">) still counts among all start tags, so it only brings a refusal nearer.
_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*:)?(?:worksheet|sst)[\s>]")
_CELL_PARTS = (b"v", b"f", b"is", b"t")


def past_last_row() -> str:
    return (f"The sheet has values below row {MAX_SHEET_ROW:,}; at most {MAX_ROWS:,} entries can be imported "
            f"from one file. Delete what is below your entries, or split the file, and upload again.")


def _refuse_size(what: str, size: int, limit: int) -> ImportFileError:
    return ImportFileError(f"The workbook's {what} unpacks to {size / _MB:,.0f} MB, over the {limit // _MB} MB "
                           f"an import reads. Save the sheet as CSV (or in smaller files) and upload that.")


def _parser_options() -> dict:
    """Never fetch or expand what a document declares: an .xlsx part has no business declaring entities."""
    return {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


def check_archive(archive: zipfile.ZipFile) -> set[str]:
    """Sizes and inflation from the zip's directory, then the shared strings and sheets counted (openpyxl,
    opening a workbook, reads each sheet through in search of its dimension: so all of this comes first).

    Python's zipfile stops every part at the size the directory gives it, so the directory bounds what
    reading a part can produce.
    """
    members = archive.infolist()
    if len(members) > MAX_PARTS:
        raise ImportFileError(f"The workbook has {len(members):,} parts inside; a spreadsheet has a few dozen. "
                              f"Save it again as .xlsx (or as CSV) and upload that.")
    kinds = _part_kinds(archive)
    total = 0
    for info in members:
        kind = kinds.get(info.filename, "sheet" if info.filename.startswith("xl/worksheets/") else "part")
        kinds[info.filename] = kind
        limit = {"sheet": MAX_SHEET_XML_BYTES, "strings": MAX_SHARED_STRINGS_BYTES}.get(kind, MAX_PART_BYTES)
        what = {"sheet": "sheet", "strings": "shared-strings part"}.get(kind, f"part {info.filename[:60]}")
        if info.file_size > limit:
            raise _refuse_size(what, info.file_size, limit)
        if info.file_size > _MB and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ImportFileError(
                f"The workbook's {what} inflates {info.file_size // max(info.compress_size, 1):,} times when "
                f"unpacked (a spreadsheet: 5 to 20 times, at most {MAX_RATIO}). It is not a spreadsheet saved "
                f"by Excel or LibreOffice; save it again as .xlsx or CSV and upload that.")
        total += info.file_size
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _refuse_size("content", total, MAX_UNCOMPRESSED_BYTES)
    merged = set()
    for info in members:
        if kinds[info.filename] == "strings":
            _count_shared_strings(archive, info)
        elif kinds[info.filename] == "sheet":
            with archive.open(info) as stream:
                if scan_sheet(stream):
                    merged.add(info.filename)
    return merged


def _part_kinds(archive: zipfile.ZipFile) -> dict[str, str]:
    """Member name -> "sheet" or "strings", as ``[Content_Types].xml`` declares them (as openpyxl finds them)."""
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return {}  # openpyxl refuses such a file itself
    if info.file_size > MAX_PART_BYTES:
        raise _refuse_size("list of parts", info.file_size, MAX_PART_BYTES)
    root = etree.fromstring(archive.read(info), etree.XMLParser(**_parser_options()))
    kinds = {}
    for override in root.iter(f"{_CONTENT_TYPES}Override"):
        kind = {_SHEET_TYPE: "sheet", _STRINGS_TYPE: "strings"}.get(override.get("ContentType", ""))
        if kind:
            kinds[override.get("PartName", "").lstrip("/")] = kind
    return kinds


def _count_shared_strings(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """openpyxl holds every shared string in memory, each an object however short its text."""
    texts = elements = 0
    with archive.open(info) as stream:
        for data, prefix in _blocks(stream):
            texts += _tags(data, prefix, b"si")
            elements += _starts(data)
            if texts > MAX_SHARED_STRINGS or elements > 3 * MAX_SHARED_STRINGS:
                raise ImportFileError(
                    f"The workbook holds more than {MAX_SHARED_STRINGS:,} different texts (or texts in more "
                    f"than {3 * MAX_SHARED_STRINGS:,} pieces); at most {MAX_SHARED_STRINGS:,} can be imported. Save "
                    f"the sheet as CSV (or in smaller files) and upload that.")


def _blocks(stream: IO[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """The XML a megabyte at a time, never splitting a tag, with the namespace prefix its root element uses."""
    rest, prefix = b"", None
    while block := stream.read(_MB):
        data = rest + block
        cut = data.rfind(b"<")
        data, rest = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
        if prefix is None:
            found = _PREFIX.search(data)
            prefix = (found[1] or b"") if found else b""
        yield data, prefix
    yield rest, prefix or b""


def _tags(data: bytes, prefix: bytes, name: bytes) -> int:
    """Start tags of ``name``: with attributes, without, and closing themselves."""
    tag = b"<" + prefix + name
    return data.count(tag + b" ") + data.count(tag + b">") + data.count(tag + b"/>")


def _starts(data: bytes) -> int:
    """Every start tag: each "<" that does not close an element or begin a declaration or comment."""
    return data.count(b"<") - data.count(b"</") - data.count(b"<?") - data.count(b"<!")


@dataclass
class _Tally:
    """What a sheet's XML held so far."""

    cells: int = 0
    empty: int = 0
    others: int = 0
    row_bytes: int = 0


def scan_sheet(stream: IO[bytes]) -> bool:
    """Stream a sheet's XML once, counting cells (in all and without a value) and other elements.

    openpyxl parses a whole row at once and every element outside the rows into objects (and, opening a
    workbook, reads each sheet through in search of its dimension), so these counts bound its time and memory
    before it starts. True if the sheet has merged cells (refused if it is the sheet read).
    """
    tally, merged = _Tally(), False
    for data, prefix in _blocks(stream):
        merged = merged or b"<" + prefix + b"mergeCell" in data
        _count(data, prefix, tally)
    return merged


def _count(data: bytes, prefix: bytes, tally: _Tally) -> None:
    cells = _tags(data, prefix, b"c")
    tally.cells += cells
    tally.empty += max(0, cells - data.count(b"</" + prefix + b"c>"))
    rows = _check_row_bytes(data, b"<" + prefix + b"row", tally)
    tally.others += _starts(data) - cells - rows - sum(_tags(data, prefix, part) for part in _CELL_PARTS)
    if tally.cells > MAX_CELLS or tally.empty > MAX_EMPTY_CELLS:
        raise ImportFileError(
            f"A sheet of the workbook has more than {MAX_EMPTY_CELLS if tally.cells <= MAX_CELLS else MAX_CELLS:,} "
            f"cells{' without a value' if tally.cells <= MAX_CELLS else ''}; at most {MAX_CELLS:,} cells (of which "
            f"{MAX_EMPTY_CELLS:,} formatted but empty) are read from one file. Delete or clear what is not "
            f"entries (or save the sheet as CSV), and upload again.")
    if tally.others > MAX_OTHER_ELEMENTS:
        raise ImportFileError(f"A sheet of the workbook holds more than {MAX_OTHER_ELEMENTS:,} pieces of "
                              f"formatting besides its cells; it is not an entry list. Save it as CSV and upload "
                              f"that.")


def _check_row_bytes(data: bytes, tag: bytes, tally: _Tally) -> int:
    """openpyxl builds a whole row in memory before it yields it: no row may be larger than MAX_ROW_BYTES.

    Returns how many rows start in ``data``.
    """
    rows = mark = search = 0
    while (start := data.find(tag, search)) >= 0:
        search = start + 1
        if data[start + len(tag):start + len(tag) + 1] not in (b" ", b">", b"/"):
            continue  # <rowBreaks> and the like: not a row
        tally.row_bytes += start - mark
        _check_row_size(tally)
        rows, tally.row_bytes, mark = rows + 1, 0, start
    tally.row_bytes += len(data) - mark
    _check_row_size(tally)
    return rows


def _check_row_size(tally: _Tally) -> None:
    if tally.row_bytes > MAX_ROW_BYTES:
        raise ImportFileError(f"A row of a sheet of the workbook takes more than {MAX_ROW_BYTES // _MB} MB; no "
                              f"entry is that long. Save the sheet again as .xlsx (or as CSV) and upload that.")


def check_cell(row: int, column: int, name: str) -> None:
    """A value's place: no further down or right than an import reads."""
    if row > MAX_SHEET_ROW:
        raise ImportFileError(past_last_row())
    if column > MAX_COLUMNS:
        raise ImportFileError(f"The sheet \u201c{name}\u201d has a value in cell {column_letter(column - 1)}{row}, "
                              f"beyond column {column_letter(MAX_COLUMNS - 1)}; at most {MAX_COLUMNS} columns can "
                              f"be imported.")


def column_letter(index: int) -> str:
    """0 -> A, 26 -> AA: how people name spreadsheet columns."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
