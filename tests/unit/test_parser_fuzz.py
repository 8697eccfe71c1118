"""Hostile input to the parsers every edge shares: amounts, dates and uploaded spreadsheets.

Whatever arrives (any text, any JSON value, any bytes named .csv or .xlsx),
the parser either returns a value of the promised type or refuses with the
domain's own error and a message for a person: ``InvalidInput`` at the field
for amounts and dates, ``ImportFileError`` for a file. Any other exception
would be a 500 on the page or the API, so it fails these properties.

Money is also held to exactness: a formatted amount reads back to the same
minor units in every ISO 4217 currency's precision, and no float is ever
created while an amount is parsed (checked by tracing the parser's frames).

Spreadsheets are spreadsheet-made or hostile: cells of every type written by
openpyxl, CSV text in the encodings and delimiters partners use, random bytes,
and a real workbook with bytes flipped, cut off or its sheet XML replaced.
Everything runs in memory, without a database.

Spreadsheet cells hold naive datetimes (no time zones), so strategies make naive ones on purpose.
"""

# ruff: noqa: DTZ001

from __future__ import annotations

import csv
import io
import sys
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from babel.numbers import list_currencies
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError

import ledger.domain.money
from ledger.domain.errors import InvalidInput
from ledger.domain.money import MAX_AMOUNT, minor_digits, parse_amount, to_decimal_string
from ledger.domain.text import parse_date
from ledger.imports import mapping
from ledger.imports.reading import MAX_COLUMNS, ImportFileError, Sheet, read_upload
from ledger.imports.rows import ParsedRow, parse_row
from tests.import_files import HEADER, xlsx_bytes

CURRENCIES = sorted(list_currencies())
#: Characters people type in amounts, so that generated text is often nearly an amount, not only noise.
AMOUNT_CHARS = "0123456789.,-+ '\u00a0\u202f"
amount_like = st.text(alphabet=AMOUNT_CHARS, max_size=25)
any_text = st.one_of(amount_like, st.text(max_size=60))
#: Every kind of value a JSON body or a form can carry where an amount or a date is expected.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def outcome(parse, *args, **kwargs) -> tuple[object, InvalidInput | None]:
    """``(value, None)`` or ``(None, the refusal)``; any other exception propagates and fails the property."""
    try:
        return parse(*args, **kwargs), None
    except InvalidInput as exc:
        return None, exc


def refusal_message(exc: InvalidInput, field: str) -> str:
    """A refusal names exactly the field it was given, with words a person can act on."""
    assert list(exc.errors) == [field]
    message = exc.errors[field]
    assert isinstance(message, str)
    assert message.strip()
    return message


# --- amounts -----------------------------------------------------------------------------------------------

class FloatSpy:
    """Traces parse_amount's frames (and its helpers' in money.py) and records every float a local holds."""

    def __init__(self) -> None:
        self.floats: list[tuple[str, str, float]] = []

    def __enter__(self) -> FloatSpy:
        self.previous = sys.gettrace()
        sys.settrace(self._call)
        return self

    def __exit__(self, *exc_info) -> None:
        sys.settrace(self.previous)

    def _call(self, frame, event, arg):
        if frame.f_code.co_filename != ledger.domain.money.__file__:
            return None  # babel, decimal ...: only our own arithmetic is held to "no float"
        return self._line

    def _line(self, frame, event, arg):
        found = list(frame.f_locals.items()) + ([("<return>", arg)] if event == "return" else [])
        self.floats += [(frame.f_code.co_name, name, value) for name, value in found if isinstance(value, float)]
        return self._line


@given(text=any_text, currency=st.sampled_from(CURRENCIES), allow_zero=st.booleans(), allow_negative=st.booleans())
@example(text="0.29", currency="EUR", allow_zero=False, allow_negative=False)  # 0.29 * 100 is 28.999... as a float
@example(text="1" * 40, currency="EUR", allow_zero=False, allow_negative=False)
@example(text="9" * 30 + ".5", currency="EUR", allow_zero=False, allow_negative=False)  # overflowed quantize()
def test_any_text_is_an_exact_amount_or_a_refusal_at_the_field(text, currency, allow_zero, allow_negative):
    with FloatSpy() as spy:
        cents, refused = outcome(parse_amount, text, currency, field="pools-0-amount", allow_zero=allow_zero,
                                 allow_negative=allow_negative)
    if refused:
        refusal_message(refused, "pools-0-amount")
    else:
        assert type(cents) is int
        assert abs(cents) <= MAX_AMOUNT.scaleb(minor_digits(currency))
        assert cents != 0 or allow_zero
        assert cents >= 0 or allow_negative
    assert spy.floats == [], f"floats while parsing {text!r}: {spy.floats}"


@given(value=json_values, currency=st.sampled_from(["EUR", "JPY", "BHD"]))
@example(value=10**5000, currency="EUR")  # str() of an int this long raises ValueError, not a refusal
@example(value=-(10**5000), currency="EUR")
@example(value=float("inf"), currency="EUR")
@example(value=Decimal("1.5"), currency="EUR")
def test_any_json_value_is_an_amount_or_a_refusal(value, currency):
    """Whole JSON integers are whole units; floats, lists, objects, null and booleans are refused in words."""
    cents, refused = outcome(parse_amount, value, currency)
    if refused:
        refusal_message(refused, "amount")
    else:
        assert type(cents) is int
        assert isinstance(value, str | int)
        assert not isinstance(value, bool)
        if isinstance(value, int):
            assert cents == value * 10 ** minor_digits(currency)


@st.composite
def currency_and_cents(draw, *, signed: bool = False) -> tuple[str, int]:
    currency = draw(st.sampled_from(CURRENCIES))
    limit = int(MAX_AMOUNT.scaleb(minor_digits(currency)))
    cents = draw(st.integers(min_value=1, max_value=limit) | st.sampled_from([1, limit, 10**minor_digits(currency)]))
    return currency, -cents if signed and draw(st.booleans()) else cents


@given(currency_and_cents(signed=True))
def test_formatted_minor_units_read_back_the_same_in_every_currency(pair):
    currency, cents = pair
    text = to_decimal_string(cents, currency)
    assert parse_amount(text, currency, allow_negative=True) == cents


@given(currency_and_cents(), st.sampled_from([(",", "."), (".", ","), ("\u00a0", ","), ("'", ".")]))
def test_grouped_amounts_read_back_the_same_or_are_refused_as_ambiguous(pair, separators):
    """Thousands groups in the four styles partners use; only a lone group with no decimals is a guess."""
    currency, cents = pair
    group, point = separators
    digits = minor_digits(currency)
    whole, fraction = divmod(cents, 10**digits)
    grouped = f"{whole:,}".replace(",", group)
    text = f"{grouped}{point}{fraction:0{digits}d}" if digits else grouped
    read, refused = outcome(parse_amount, text, currency)
    if refused:
        # "1,234" in JPY: one separator and three digits after it reads as 1.234 in half the world.
        assert "ambiguous" in refusal_message(refused, "amount")
        assert digits == 0
        assert group in ",."
        assert text.count(group) == 1
    else:
        assert read == cents


# --- dates -------------------------------------------------------------------------------------------------

date_like = st.text(alphabet="0123456789-W:T +", max_size=14)


@given(st.one_of(date_like, st.text(max_size=30), st.dates().map(date.isoformat)))
@example("20200501")  # ISO basic format: Python accepts it, the documented form is YYYY-MM-DD
@example("2020-W01-1")  # an ISO week date: Python reads it as 2019-12-30
@example("0000-01-01")
@example("9999-12-31")
def test_any_text_is_a_yyyy_mm_dd_date_or_a_refusal_at_the_field(text):
    day, refused = outcome(parse_date, text, "effective_from")
    if refused:
        refusal_message(refused, "effective_from")
    else:
        assert type(day) is date
        # The one documented spelling, so the API's "format: date" and the pages mean the same dates.
        assert day.isoformat() == text.strip()


@given(json_values)
def test_any_json_value_is_a_date_or_a_refusal(value):
    day, refused = outcome(parse_date, value)
    if refused:
        refusal_message(refused, "date")
    else:
        assert type(day) is date
        assert isinstance(value, str)


# --- spreadsheet uploads -----------------------------------------------------------------------------------

def read_or_refusal(name: str, data: bytes) -> Sheet | None:
    """The sheet, checked for the shape the import pages rely on; None for a refusal in words."""
    try:
        sheet = read_upload(name, data)
    except ImportFileError as exc:
        refusal = str(exc)
    else:
        refusal = None
    if refusal is not None:
        assert refusal.strip()
        return None
    assert isinstance(sheet, Sheet)
    assert 0 < len(sheet.header) <= MAX_COLUMNS
    assert all(isinstance(h, str) and h == h.strip() and h for h in sheet.header)
    assert len({h.casefold() for h in sheet.header}) == len(sheet.header), "duplicate headers got through"
    assert sheet.rows, "a sheet with no entries is a refusal"
    numbers = [number for number, _ in sheet.rows]
    assert numbers == sorted(set(numbers))
    for _, cells in sheet.rows:
        assert len(cells) == len(sheet.header)
        assert any(c is not None and str(c).strip() for c in cells)
        assert all(c is None or isinstance(c, str | int | float | date) for c in cells)
    return sheet


@given(st.binary(max_size=3000), st.sampled_from(["a.csv", "a.txt", "A.CSV", "a.xlsx", "a.xlsm", "a.ods", "a"]))
@example(b"\xff\xfe\x00\xd8", "a.csv")  # a UTF-16 byte-order mark and half a surrogate pair
@example(b"\xef\xbb\xbf", "a.csv")
@example(b'"unclosed,quote\n1,2', "a.csv")
@example(b"PK\x05\x06" + b"\x00" * 18, "a.xlsx")  # an empty zip archive
def test_any_bytes_are_rows_or_a_refusal(data, name):
    read_or_refusal(name, data)


cell_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@given(
    rows=st.lists(st.lists(st.one_of(cell_text, st.sampled_from(["", " ", '"', "'=1", "1.234,56", "2020-05-04"])),
                           max_size=8), max_size=8),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]),
    line_end=st.sampled_from(["\r\n", "\n", "\r"]),
)
def test_csv_text_in_any_encoding_and_delimiter_is_rows_or_a_refusal(rows, delimiter, encoding, line_end):
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator=line_end).writerows(rows)
    read_or_refusal("a.csv", out.getvalue().encode(encoding, errors="replace"))


xlsx_cells = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False), st.dates(min_value=date(1900, 3, 1)),
    st.datetimes(min_value=datetime(1900, 3, 1)),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=15),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(xlsx_cells, max_size=8), max_size=6),
       st.one_of(st.none(), st.lists(st.one_of(st.none(), st.text(max_size=8)), max_size=8)))
def test_workbooks_with_any_cells_are_rows_or_a_refusal(rows, header):
    """Formulas (text starting with =), duplicate headers, stray values: each refused; everything else read."""
    try:
        data = xlsx_bytes(rows, header=header)
    except IllegalCharacterError:  # openpyxl itself will not write control characters: no such file exists
        return
    read_or_refusal("a.xlsx", data)


WORKBOOK = xlsx_bytes([["2020-05-04", "Alpha", "cost", "production", 1234.56, "Blades"],
                       [date(2020, 5, 5), "Beta", "revenue", "production", "12,50", "Masks"]])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=len(WORKBOOK) - 1), st.integers(0, 255)),
                min_size=1, max_size=8),
       st.integers(min_value=0, max_value=len(WORKBOOK)))
def test_a_damaged_workbook_is_rows_or_a_refusal(flips, keep):
    """A real workbook with bytes overwritten and its end cut off, as a broken download or a disk error leaves it."""
    data = bytearray(WORKBOOK)
    for position, value in flips:
        data[position] = value
    read_or_refusal("a.xlsx", bytes(data[:keep] if keep > 30 else data))


def with_part(part: str, content: bytes) -> bytes:
    """The workbook with one of its XML parts replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(WORKBOOK)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item.filename, content if item.filename == part else source.read(item.filename))
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
SHEET_XML = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             b'<row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c></row>%s</sheetData></worksheet>')
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')


@pytest.mark.filterwarnings("ignore::UserWarning")  # openpyxl warns of the broken parts it then refuses
@settings(max_examples=60, deadline=None)
@given(part=st.sampled_from([SHEET, "xl/workbook.xml", "xl/sharedStrings.xml",
                             "[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"]),
       content=st.one_of(
           st.binary(max_size=200),
           st.text(max_size=200).map(str.encode),
           st.lists(st.tuples(st.integers(1, 2**31), st.sampled_from(["n", "s", "b", "e", "str", "d", "x"]),
                              st.text(alphabet="0123456789.-E+eTZ:abc<&", max_size=12)), max_size=4).map(
               lambda cells: SHEET_XML % b"".join(
                   b'<row r="%d"><c r="B%d" t="%s"><v>%s</v></c></row>'
                   % (r, r, t.encode(), v.replace("&", "&amp;").replace("<", "&lt;").encode())
                   for r, t, v in cells)),
       ))
@example(part=SHEET, content=BILLION_LAUGHS)
@example(part=SHEET, content=SHEET_XML % b'<row r="2"><c r="B2" t="n"><v>1e999</v></c></row>')  # infinity
@example(part=SHEET, content=SHEET_XML % b'<row r="2"><c r="B2"><v>%s</v></c></row>' % (b"9" * 5000))  # int() limit
@example(part=SHEET, content=SHEET_XML % b'<row r="2"><c r="XFD2" t="n"><v>1</v></c></row>')  # 16,384 columns
@example(part=SHEET, content=SHEET_XML % b'<row r="2147483647"><c r="A2147483647"><v>1</v></c></row>')  # ~20 min
def test_a_workbook_with_a_hostile_part_is_rows_or_a_refusal(part, content):
    """Broken or malicious XML inside a well-formed archive: openpyxl's many exception types all become a refusal."""
    sheet = read_or_refusal("a.xlsx", with_part(part, content))
    if sheet is not None and content is BILLION_LAUGHS:
        assert all(len(str(c)) < 10_000 for _, cells in sheet.rows for c in cells), "entities were expanded"


# --- rows and mappings -------------------------------------------------------------------------------------

PARTNERS = {"alpha": (1, "Alpha"), "beta": (2, "Beta")}
CATEGORIES = {"production": (1, "production")}
any_cell = st.one_of(xlsx_cells, st.floats(), any_text, st.sampled_from(["Reversal of #1: typo", "Alpha", "-5"]))


@given(cells=st.lists(any_cell, min_size=len(mapping.FIELD_KEYS), max_size=len(mapping.FIELD_KEYS)),
       mapped=st.sets(st.sampled_from(mapping.FIELD_KEYS)), currency=st.sampled_from(["EUR", "JPY", "BHD"]))
def test_any_row_is_parsed_or_its_errors_are_named_never_raised(cells, mapped, currency):
    columns = {key: index for index, key in enumerate(sorted(mapped))}  # as resolve() maps a sheet's columns
    row = parse_row(7, cells, columns, currency, PARTNERS, CATEGORIES)
    assert isinstance(row, ParsedRow)
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in row.errors.items())
    assert row.cents is None or type(row.cents) is int
    if row.cents is not None and not row.errors:
        assert row.raw["amount"] == to_decimal_string(abs(row.cents), currency)


@given(st.one_of(st.none(), st.text(max_size=80), json_values.map(repr)))
def test_a_stored_mapping_of_any_text_loads_to_known_fields(text):
    loaded = mapping.loads(text)
    assert set(loaded) <= set(mapping.FIELD_KEYS)
    assert all(isinstance(v, str) for v in loaded.values())


@given(raw=st.dictionaries(st.sampled_from(mapping.FIELD_KEYS), json_values | st.sampled_from(HEADER)),
       header=st.lists(st.sampled_from(HEADER) | st.text(max_size=6), max_size=6, unique=True))
def test_a_submitted_mapping_resolves_or_names_its_fields(raw, header):
    resolved, refused = outcome(mapping.resolve, raw, header)
    if refused:
        assert set(refused.errors) <= set(mapping.FIELD_KEYS)
    else:
        names, columns = resolved
        assert all(header[index] == names[key] for key, index in columns.items())
        assert len(set(columns.values())) == len(columns)


@pytest.mark.parametrize("name", ["a.csv", "a.xlsx"])
def test_the_fuzzed_readers_do_read_a_good_file(name):
    """The properties above accept a refusal: make sure the readers are not simply refusing everything."""
    data = WORKBOOK if name.endswith(".xlsx") else b"Date,Amount\n2020-05-04,12.50\n"
    sheet = read_or_refusal(name, data)
    assert sheet is not None
    assert len(sheet.rows) == (2 if name.endswith(".xlsx") else 1)


@settings(max_examples=300)
@given(st.one_of(st.text(), st.text(alphabet="0123456789²³¹٣߃ ", min_size=1, max_size=6),
                 st.just("9" * 5000), st.integers(), st.none(), st.booleans()))
@example("²")
@example("9" * 5000)
def test_a_score_is_one_to_five_or_refused_at_its_field(value):
    """``str.isdigit()`` passes "²" and 5,000-digit strings, on which ``int()`` raises: a 500 before."""
    from ledger.services.checkpoints import parse_score

    score, refused = outcome(parse_score, value, "trust")
    if refused is not None:
        refusal_message(refused, "trust")
    else:
        assert score in range(1, 6)


@settings(max_examples=300)
@given(st.one_of(st.text(), st.text(alphabet="0123456789²٣ ", min_size=1, max_size=8), st.just("9" * 5000)))
@example("9" * 5000)
def test_a_page_limit_is_in_range_or_refused_at_its_field(value):
    from ledger.api.inputs import MAX_LIMIT, parse_limit

    limit, refused = outcome(parse_limit, value)
    if refused is not None:
        refusal_message(refused, "limit")
    else:
        assert 1 <= limit <= MAX_LIMIT
