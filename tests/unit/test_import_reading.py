"""Reading uploads and parsing rows: every kind of garbage gets a plain message, and numbers stay exact.

Spreadsheet cells hold naive datetimes (no time zones), so these tests build naive ones on purpose.
"""

# ruff: noqa: DTZ001

from __future__ import annotations

import io
import time
import zipfile
from datetime import date, datetime

import pytest

from ledger.domain.errors import InvalidInput
from ledger.imports import mapping
from ledger.imports.bounds import (
    MAX_COLUMNS,
    MAX_EMPTY_CELLS,
    MAX_FILE_BYTES,
    MAX_PART_BYTES,
    MAX_RATIO,
    MAX_ROWS,
    MAX_SHARED_STRINGS,
    MAX_SHARED_STRINGS_BYTES,
    MAX_SHEET_ROW,
)
from ledger.imports.reading import ImportFileError, read_upload
from ledger.imports.rows import amount_cents, date_cell, parse_row
from tests.import_files import (
    HEADER,
    SHEET,
    claimed_dimension_bomb,
    csv_bytes,
    empty_cells_bomb,
    rewrite_xlsx,
    shared_strings_bomb,
    sheet_with,
    xlsx_bytes,
)

ROW = ["2020-05-04", "Alpha", "cost", "production", "1234.56", "Blades"]


def refused(name: str, data: bytes) -> str:
    with pytest.raises(ImportFileError) as info:
        read_upload(name, data)
    return str(info.value)


def test_csv_and_xlsx_read_to_the_same_rows():
    from_csv = read_upload("a.csv", csv_bytes([ROW]))
    from_xlsx = read_upload("a.xlsx", xlsx_bytes([[date(2020, 5, 4), "Alpha", "cost", "production", 1234.56,
                                                  "Blades"]]))
    assert from_csv.header == from_xlsx.header == HEADER
    assert from_csv.rows == [(2, ROW)]
    assert from_xlsx.rows[0][1][0] == datetime(2020, 5, 4)  # a real date cell, not text


def test_semicolon_csv_and_encodings():
    sheet = read_upload("a.csv", csv_bytes([["2020-05-04", "Alpha", "cost", "production", "1.234,56", "Caffè"]],
                                           delimiter=";", encoding="cp1252"))
    assert sheet.rows[0][1][4] == "1.234,56"
    assert sheet.rows[0][1][5] == "Caffè"
    assert "Windows-1252" in sheet.notes[0]
    bom = read_upload("a.csv", b"\xef\xbb\xbf" + csv_bytes([ROW]))
    assert bom.header[0] == "Date"
    assert not bom.notes
    utf16 = read_upload("a.csv", csv_bytes([ROW], encoding="utf-16"))
    assert utf16.rows[0][1] == ROW


def test_empty_rows_are_skipped_and_row_numbers_kept():
    sheet = read_upload("a.csv", csv_bytes([ROW, ["", "", "", "", "", ""], ROW]))
    assert [n for n, _ in sheet.rows] == [2, 4]
    xl = read_upload("a.xlsx", xlsx_bytes([ROW, [None] * 6, ROW]))
    assert [n for n, _ in xl.rows] == [2, 4]


@pytest.mark.parametrize(("name", "data", "words"), [
    ("a.csv", b"", "empty"),
    ("a.xlsx", b"", "empty"),
    ("a.pdf", b"%PDF-1.4", ".xlsx"),
    ("a.xls", b"\xd0\xcf\x11\xe0", "save it as"),
    ("a.xlsx", b"just text, not a zip", "not an Excel workbook"),
    ("a.xlsx", b"PK\x03\x04garbage" + b"\x00" * 100, "not an Excel workbook"),
    ("a.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
    ("a.csv", b"\n\n,,,\n", "empty"),
    ("a.csv", csv_bytes([]), "header row but no entries"),
    ("a.csv", csv_bytes([ROW], header=["Date", "Amount", "amount"]), "names \u201camount\u201d twice"),
])
def test_garbage_files_are_refused_in_plain_words(name, data, words):
    assert words in refused(name, data)


def test_xlsx_header_only_duplicate_headers_and_empty_sheet():
    assert "no entries" in refused("a.xlsx", xlsx_bytes([]))
    assert "empty" in refused("a.xlsx", xlsx_bytes([], header=None))
    assert "twice" in refused("a.xlsx", xlsx_bytes([ROW], header=["Date", "Date"]))


def test_a_zip_that_is_not_a_workbook():
    import io
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "hi")
    assert "could not be opened" in refused("a.xlsx", out.getvalue())


def test_formulas_are_refused_with_the_cell_named():
    def formula(ws):
        ws["E2"] = "=1000+234.56"
    message = refused("a.xlsx", xlsx_bytes([ROW], sheet=formula))
    assert "E2" in message
    assert "formula" in message
    assert "Values only" in message


def test_merged_cells_are_refused():
    def merge(ws):
        ws.merge_cells("B2:B3")
    assert "merged cells" in refused("a.xlsx", xlsx_bytes([ROW, ROW], sheet=merge))


def test_a_huge_sheet_is_refused():
    data = csv_bytes([ROW] * (MAX_ROWS + 1))
    assert f"more than {MAX_ROWS:,} rows" in refused("a.csv", data)
    assert len(read_upload("a.csv", csv_bytes([ROW] * MAX_ROWS)).rows) == MAX_ROWS


def test_a_sheet_past_excel_last_row_is_refused_at_once():
    """Found by fuzzing: openpyxl yields every row a sheet skips, so naming row 2,000,000,000 took ~20 minutes."""
    import io
    import time
    import zipfile

    def last_row(ws):
        ws.cell(row=1_048_576, column=1, value="2020-05-04")  # openpyxl writes no further: edit the XML below

    source, out = zipfile.ZipFile(io.BytesIO(xlsx_bytes([ROW], sheet=last_row))), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"1048576", b"2000000000")
            target.writestr(item.filename, content)
    started = time.perf_counter()
    assert f"values below row {MAX_SHEET_ROW:,}" in refused("a.xlsx", out.getvalue())
    assert time.perf_counter() - started < 2


def test_values_beyond_the_header_are_refused():
    assert "beyond the last named column" in refused("a.csv", csv_bytes([[*ROW, "stray"]]))


def test_formula_escaped_text_from_an_export_is_unescaped():
    sheet = read_upload("a.csv", csv_bytes([["2020-05-04", "Alpha", "cost", "production", "'-12.50", "'=SUM(A1)"]]))
    assert sheet.rows[0][1][4:] == ["-12.50", "=SUM(A1)"]


def test_excel_numbers_convert_exactly():
    assert amount_cents(1234.56, "EUR") == 123456
    with pytest.raises(InvalidInput, match="more than 2 decimals"):
        amount_cents(0.1 + 0.2, "EUR")
    with pytest.raises(InvalidInput, match="more than 2 decimals"):
        amount_cents(12.345, "EUR")
    assert amount_cents(1e-2, "EUR") == 1
    assert amount_cents(-5.5, "EUR") == -550
    assert amount_cents(7, "JPY") == 7
    assert amount_cents("1.234,56", "EUR") == 123456
    with pytest.raises(InvalidInput):
        amount_cents(float("nan"), "EUR")
    with pytest.raises(InvalidInput):
        amount_cents(1e300, "EUR")
    with pytest.raises(InvalidInput):
        amount_cents(datetime(2020, 1, 1), "EUR")


def test_date_cells():
    assert date_cell(datetime(2020, 5, 4)) == date(2020, 5, 4)
    assert date_cell("2020-05-04 00:00:00") == "2020-05-04"
    with pytest.raises(InvalidInput, match="time of day"):
        date_cell(datetime(2020, 5, 4, 13, 30))
    with pytest.raises(InvalidInput, match="not a date"):
        date_cell(43950.0)


def test_mapping_is_guessed_and_remembered_by_name():
    header = ["Data", "Socio", "Tipo", "Categoria", "Importo", "Descrizione", "Note"]
    guessed = mapping.guess(header)
    assert guessed == {"date": "Data", "partner": "Socio", "kind": "Tipo", "category": "Categoria",
                       "amount": "Importo", "description": "Descrizione"}
    remembered = {**guessed, "description": "Note", "kind": ""}
    again = mapping.guess(header, remembered)
    assert again["description"] == "Note"
    assert "kind" not in again
    _names, columns = mapping.resolve({**guessed, "kind": ""}, header)
    assert columns == {"date": 0, "partner": 1, "category": 3, "amount": 4, "description": 5}
    with pytest.raises(InvalidInput) as info:
        mapping.resolve({"date": "Data", "amount": "Data", "partner": "Nope"}, header)
    assert set(info.value.errors) >= {"amount", "partner", "description"}


def test_sign_mode_and_reversal_rows():
    partners = {"alpha": (1, "Alpha")}
    categories = {"production": (5, "production")}
    columns = {"date": 0, "partner": 1, "category": 2, "amount": 3, "description": 4}
    cost = parse_row(2, ["2020-05-04", "alpha", "Production", "-10", "x"], columns, "EUR", partners, categories)
    assert cost.raw["kind"] == "cost"
    assert cost.raw["amount"] == "10.00"
    assert cost.raw["partner_id"] == 1
    revenue = parse_row(3, ["2020-05-04", "Alpha", "production", "10", "x"], columns, "EUR", partners, categories)
    assert revenue.raw["kind"] == "revenue"
    with_kind = {**columns, "kind": 5, "entry_id": 6}
    reversal = parse_row(4, ["2020-05-04", "Alpha", "production", "-10", "Reversal of #7: typo", "cost", "8"],
                         with_kind, "EUR", partners, categories)
    assert reversal.reverses == 7
    assert reversal.reason == "typo"
    assert not reversal.errors
    bare = parse_row(5, ["2020-05-04", "Gamma", "production", "-10", "x", "cost", "9"], with_kind, "EUR",
                     partners, categories)
    assert "correction" in bare.errors["amount"]
    assert "No partner named" in bare.errors["partner_id"]


# --- Import bombs: refused within a couple of seconds, before the file is parsed ----------------------------

def refused_quickly(name: str, data: bytes, seconds: float = 2.0) -> str:
    started = time.perf_counter()
    message = refused(name, data)
    assert time.perf_counter() - started < seconds, message
    return message


def test_a_claimed_dimension_does_not_decide_what_is_read():
    """1.7 KB claiming A1:XFD1048576: openpyxl padded every row to 16,384 cells, 2.3 ms an empty row."""
    value = claimed_dimension_bomb(b'<c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>')
    assert len(value) < 8_000
    assert f"values below row {MAX_SHEET_ROW:,}" in refused_quickly("a.xlsx", value)
    started = time.perf_counter()
    sheet = read_upload("a.xlsx", claimed_dimension_bomb(b'<c r="XFD1048576" s="0"/>'))  # formatted, empty
    assert time.perf_counter() - started < 2
    assert (sheet.header, [n for n, _ in sheet.rows]) == (HEADER, [2])


def test_a_value_beyond_the_last_column_read_is_refused_at_once():
    data = sheet_with(b'<row r="3"><c r="CW3" t="inlineStr"><is><t>x</t></is></c></row>', b"A1:XFD3")
    assert f"cell CW3, beyond column CV; at most {MAX_COLUMNS} columns" in refused_quickly("a.xlsx", data)


def test_a_huge_shared_strings_part_is_refused_from_the_zip_directory():
    """498 KB with a huge shared-strings part took 1.2 GB and 151 s."""
    data = shared_strings_bomb(8_000_000)  # 40 MB of texts in 60 KB
    assert len(data) < 100_000
    message = refused_quickly("a.xlsx", data)
    assert f"shared-strings part unpacks to 38 MB, over the {MAX_SHARED_STRINGS_BYTES // 2**20} MB" in message


def test_too_many_shared_strings_are_refused_before_openpyxl_holds_them():
    data = shared_strings_bomb(MAX_SHARED_STRINGS + 1, noise=60_000)  # deflates less than MAX_RATIO times
    assert len(data) < 200_000
    assert f"more than {MAX_SHARED_STRINGS:,} different texts" in refused_quickly("a.xlsx", data)


def test_a_sheet_of_empty_cells_is_refused():
    """15 MB of formatted empty cells took 137 s."""
    assert f"more than {MAX_EMPTY_CELLS:,} cells without a value" in refused_quickly(
        "a.xlsx", empty_cells_bomb(MAX_EMPTY_CELLS + 16), seconds=3)


def test_a_part_that_inflates_too_far_or_too_big_is_refused_from_the_zip_directory():
    padded = xlsx_bytes([ROW])
    sheet = zipfile.ZipFile(io.BytesIO(padded)).read(SHEET)
    spaces = sheet.replace(b"</sheetData>", b"</sheetData>" + b" " * 20_000_000)
    message = refused_quickly("a.xlsx", rewrite_xlsx(padded, {SHEET: spaces}))
    assert "sheet inflates" in message
    assert f"at most {MAX_RATIO})" in message
    big = rewrite_xlsx(padded, {"xl/media/image1.png": b"\0" * (MAX_PART_BYTES + 1)})
    assert "part xl/media/image1.png unpacks to 16 MB, over the 16 MB" in refused_quickly("a.xlsx", big)


def test_csv_bounds_rows_columns_and_bytes():
    wide = csv_bytes([ROW]) + b"," * 2_000_000 + b"\n"
    assert "Row 3 has 2,000,001 columns; at most 100" in refused_quickly("a.csv", wide)
    long = csv_bytes([ROW]) + b"\n" * MAX_SHEET_ROW
    assert f"values below row {MAX_SHEET_ROW:,}" in refused_quickly("a.csv", long)
    assert "larger than 64 MB" in refused_quickly("a.csv", b"a" * (MAX_FILE_BYTES + 1))
    beyond = csv_bytes([ROW, [*ROW, "stray"]])
    assert "Row 3 has values beyond the last named column (F)" in refused("a.csv", beyond)


def test_merged_cells_on_a_sheet_not_read_do_not_matter():
    from openpyxl import Workbook

    book = Workbook()
    notes = book.active
    notes.title = "Notes"
    notes["A1"] = "Title"
    notes.merge_cells("A1:D1")
    ledger = book.create_sheet("Ledger")
    ledger.append(HEADER)
    ledger.append(ROW)
    out = io.BytesIO()
    book.save(out)
    assert read_upload("a.xlsx", out.getvalue()).rows == [(2, ROW)]
