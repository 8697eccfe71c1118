"""Spreadsheet files for the import tests, made the way partners' tools make them."""

from __future__ import annotations

import base64
import csv
import io
import os
import zipfile

from openpyxl import Workbook

HEADER = ["Date", "Partner", "Kind", "Category", "Amount", "Description"]


def csv_bytes(rows: list[list[object]], header: list[str] | None = HEADER, encoding: str = "utf-8",
              delimiter: str = ",") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], header: list[str] | None = HEADER, sheet=None) -> bytes:
    """``sheet`` may adjust the worksheet (merge cells, add formulas) before saving."""
    book = Workbook()
    ws = book.active
    ws.title = "Entries"
    if header is not None:
        ws.append(header)
    for row in rows:
        ws.append(row)
    if sheet is not None:
        sheet(ws)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- Import bombs: small on disk, huge for a reader that believes them -------------------------------------

SHEET = "xl/worksheets/sheet1.xml"
_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def rewrite_xlsx(data: bytes, parts: dict[str, bytes]) -> bytes:
    """The workbook with ``parts`` replaced or added (deflated at the highest level, as a bomb would be)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for name in source.namelist():
            if name not in parts:
                target.writestr(name, source.read(name))
        for name, content in parts.items():
            target.writestr(name, content)
    return out.getvalue()


def sheet_with(rows_xml: bytes, dimension: bytes = b"A1:F2") -> bytes:
    """A valid workbook (the usual header and one entry) whose sheet also holds ``rows_xml`` after its rows."""
    data = xlsx_bytes([["2020-05-04", "Alpha", "cost", "production", "10", "Blades"]])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read(SHEET)
    sheet = sheet.replace(b'<dimension ref="A1:F2"/>', b'<dimension ref="' + dimension + b'"/>')
    sheet = sheet.replace(b"</sheetData>", rows_xml + b"</sheetData>")
    return rewrite_xlsx(data, {SHEET: sheet})


def claimed_dimension_bomb(last_cell: bytes) -> bytes:
    """1.7 KB claiming A1:XFD1048576, with ``last_cell`` (a <c> element) in row 1,048,576."""
    return sheet_with(b'<row r="1048576">' + last_cell + b"</row>", b"A1:XFD1048576")


def empty_cells_bomb(cells: int) -> bytes:
    """Rows of formatted cells without a value, 16 a row, after the entry."""
    columns = [bytes([letter]) for letter in b"ABCDEFGHIJKLMNOP"]
    rows = b"".join(b'<row r="%d">' % row + b"".join(b'<c r="%s%d" s="0"/>' % (column, row) for column in columns)
                    + b"</row>" for row in range(3, 3 + cells // 16))
    return sheet_with(rows)


def shared_strings_bomb(texts: int, noise: int = 0) -> bytes:
    """A shared-strings part of ``texts`` empty texts (and ``noise`` random bytes, so it deflates less)."""
    data = xlsx_bytes([["2020-05-04", "Alpha", "cost", "production", "10", "Blades"]])
    archive = zipfile.ZipFile(io.BytesIO(data))
    types = archive.read("[Content_Types].xml").replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="' + _STRINGS_TYPE.encode()
        + b'"/></Types>')
    comment = b"<!-- " + base64.b64encode(os.urandom(noise)) + b" -->" if noise else b""
    strings = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + comment
               + b"<si/>" * texts + b"</sst>")
    return rewrite_xlsx(data, {"[Content_Types].xml": types, "xl/sharedStrings.xml": strings})
