"""Spreadsheet files for the import tests, made the way partners' tools make them."""

from __future__ import annotations

import csv
import io

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
