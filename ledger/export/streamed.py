"""Long sheets written as XML text straight into the .xlsx, at about ten times openpyxl's per-cell speed.

openpyxl builds, checks and serialises an object per cell (~10 us each even
in write-only mode with lxml): 100,000 entries of 18 columns took ~18 s.
So openpyxl writes the workbook with each long sheet holding its header and
one *sample* row whose cells carry the right styles (date, currency,
quote-prefixed text); then the package is copied to the target, and each
long sheet's sample row is replaced by the real rows, formatted here as the
same XML openpyxl would write (inline strings, numbers, date serials),
with the sample's style ids. The table's range is written last, once the
number of rows is known. Nothing is held in memory beyond one row.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

from ledger.export.cells import risky

EPOCH = date(1899, 12, 30)  # Excel's day 0 in the 1900 date system (skipping the 1900 leap-year bug)
_SAMPLE_CELL = re.compile(r'<c r="([A-Z]+)2"(?: s="(\d+)")?')
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CR = {"\r": "&#13;"}
_TABLE_REF = re.compile(r'(<table [^>]*?\bref=")[A-Z]+\d+:[A-Z]+\d+(")')
_AUTOFILTER_REF = re.compile(r'(<autoFilter [^>]*?\bref=")[A-Z]+\d+:[A-Z]+\d+(")')

#: The kinds of column a streamed sheet has.
INT, DATE, DATETIME, AMOUNT, TEXT = "int", "date", "datetime", "amount", "text"


@dataclass
class StreamedSheet:
    """A sheet whose rows are written here; ``rows`` is called only when the package is assembled."""

    title: str
    kinds: tuple[str, ...]
    rows: Callable[[], Iterable[tuple]]
    table: str | None = None
    count: int = 0


def _serial(value: date | datetime) -> str:
    if isinstance(value, datetime):
        delta = value - datetime(1899, 12, 30, tzinfo=value.tzinfo)
        return repr(delta.days + delta.seconds / 86400)
    return str((value - EPOCH).days)


def _text(ref: str, value: str, quote_style: str) -> str:
    style = f' s="{quote_style}"' if risky(value) and quote_style else ""
    space = ' xml:space="preserve"' if value != value.strip() else ""
    # Characters XML 1.0 cannot carry are dropped (openpyxl refuses them); a CR is kept as a reference.
    value = _ILLEGAL_XML.sub("", value)
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{escape(value, _CR)}</t></is></c>'


def _row_xml(index: int, letters: list[str], kinds: tuple[str, ...], styles: list[str], quote_style: str,
             values: tuple) -> str:
    cells = []
    for letter, kind, style, value in zip(letters, kinds, styles, values, strict=True):
        if value is None:
            continue
        ref = f"{letter}{index}"
        if kind == TEXT:
            cells.append(_text(ref, str(value), quote_style))
            continue
        number = _serial(value) if kind in (DATE, DATETIME) else repr(value)
        s = f' s="{style}"' if style else ""
        cells.append(f'<c r="{ref}"{s} t="n"><v>{number}</v></c>')
    return f'<row r="{index}">{"".join(cells)}</row>'


def _styles(sample_xml: str, width: int) -> list[str]:
    found = {m[1]: m[2] or "" for m in _SAMPLE_CELL.finditer(sample_xml)}
    return [found.get(get_column_letter(i), "") for i in range(1, width + 1)]


_FORMULA_CELL = re.compile(r'<c r="([A-Z]+\d+)"([^>]*)><f>(.*?)</f><v\s*/?>(?:</v>)?</c>', re.DOTALL)


def with_results(xml: str, results: dict[str, int | float]) -> str:
    """Store the result of each formula cell named in ``results`` (openpyxl cannot), for viewers that do not
    calculate; Excel and LibreOffice (as the tests configure it) recalculate on load anyway."""
    def fill(match: re.Match) -> str:
        value = results.get(match[1])
        if value is None:
            return match[0]
        return f'<c r="{match[1]}"{match[2]}><f>{match[3]}</f><v>{value!r}</v></c>'
    return _FORMULA_CELL.sub(fill, xml)


def assemble(source: str, target: str | BinaryIO, sheets: dict[int, StreamedSheet],
             results: dict[int, dict[str, int | float]] | None = None) -> None:
    """Copy the package ``source`` to ``target``, filling each streamed sheet (by 1-based position)
    and storing the known formula ``results`` of short sheets (by position, then cell)."""
    results = results or {}
    tables: dict[str, int] = {}
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        parts = {f"xl/worksheets/sheet{n}.xml": sheet for n, sheet in sheets.items()}
        table_parts = [name for name in zin.namelist() if name.startswith("xl/tables/")]
        cached = {f"xl/worksheets/sheet{n}.xml": values for n, values in results.items()}
        for info in zin.infolist():
            if info.filename in parts or info.filename in table_parts:
                continue
            if info.filename in cached:
                zout.writestr(info.filename, with_results(zin.read(info).decode("utf-8"), cached[info.filename]))
                continue
            with zin.open(info) as part, zout.open(info.filename, "w") as out:
                shutil.copyfileobj(part, out)
        for name, sheet in parts.items():
            xml = zin.read(name).decode("utf-8")
            head, sep, rest = xml.partition('<row r="2"')
            sample, end_sep, tail = rest.partition("</row>")
            if not sep or not end_sep:
                raise ValueError(f"{sheet.title}: no sample row to replace")
            width = len(sheet.kinds)
            styles = _styles(sample, width)
            text_styles = [s for s, kind in zip(styles, sheet.kinds, strict=True) if kind == TEXT and s]
            quote_style = text_styles[0] if text_styles else ""
            letters = [get_column_letter(i) for i in range(1, width + 1)]
            with zout.open(name, "w", force_zip64=True) as out:
                out.write(head.encode("utf-8"))
                buffer: list[str] = []
                count = 0
                for values in sheet.rows():
                    count += 1
                    buffer.append(_row_xml(count + 1, letters, sheet.kinds, styles, quote_style, values))
                    if len(buffer) >= 1000:
                        out.write("".join(buffer).encode("utf-8"))
                        buffer.clear()
                out.write("".join(buffer).encode("utf-8"))
                out.write(tail.encode("utf-8"))
            sheet.count = count
            if sheet.table:
                tables[sheet.table] = count
        for name in table_parts:
            xml = zin.read(name).decode("utf-8")
            for table, count in tables.items():
                if f'displayName="{table}"' in xml:
                    last = f"{get_column_letter(len(next(s for s in sheets.values() if s.table == table).kinds))}"
                    ref = f"A1:{last}{max(count, 1) + 1}"
                    xml = _TABLE_REF.sub(rf"\g<1>{ref}\g<2>", xml, count=1)
                    xml = _AUTOFILTER_REF.sub(rf"\g<1>{ref}\g<2>", xml, count=1)
            zout.writestr(name, xml)
