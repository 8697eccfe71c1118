"""Which days an export covers: the whole term, a month, a quarter, or any date range.

The browser form and the command line send ``period`` (term, month,
quarter, range) with ``month`` (YYYY-MM), ``quarter`` (YYYY-Qn) or
``from``/``to``; the API sends only ``from``/``to``. A bad value is an
``InvalidInput`` at the field that holds it.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime

from ledger.domain.errors import FieldErrors, InvalidInput
from ledger.domain.text import parse_date
from ledger.models import Alliance

CHOICES = ("term", "month", "quarter", "range")
FORMATS = ("xlsx", "csv")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")


@dataclass(frozen=True)
class ExportPeriod:
    start: date
    end: date

    def label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def parse_month(value: object, field: str = "month") -> ExportPeriod:
    match = _MONTH.match(value.strip()) if isinstance(value, str) else None
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        raise InvalidInput.at(field, "Choose a month as YYYY-MM, e.g. 2020-05.")
    year, month = int(match[1]), int(match[2])
    return ExportPeriod(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def parse_quarter(value: object, field: str = "quarter") -> ExportPeriod:
    match = _QUARTER.match(value.strip()) if isinstance(value, str) else None
    if not match or int(match[1]) < 1:
        raise InvalidInput.at(field, "Choose a quarter as YYYY-Qn, e.g. 2020-Q2.")
    year, quarter = int(match[1]), int(match[2])
    last_month = quarter * 3
    return ExportPeriod(date(year, last_month - 2, 1),
                        date(year, last_month, calendar.monthrange(year, last_month)[1]))


def date_range(alliance: Alliance, raw_from: object, raw_to: object) -> ExportPeriod:
    """``from``/``to``, each defaulting to the term's end, in order."""
    errors = FieldErrors()
    start = errors.check("from", parse_date, raw_from, "from") if _given(raw_from) else alliance.start_date
    end = errors.check("to", parse_date, raw_to, "to") if _given(raw_to) else alliance.term_end
    if start and end and end < start:
        errors.add("to", "The end of the period is before its start.")
    errors.raise_if_any()
    return ExportPeriod(start, end)


#: The fields each kind of period is given by (the whole term needs none).
FIELDS = {"term": (), "month": ("month",), "quarter": ("quarter",), "range": ("from", "to")}
LABELS = {"term": "the whole term", "month": "a month", "quarter": "a quarter", "range": "a date range"}


def parse_period(alliance: Alliance, raw: dict) -> ExportPeriod:
    """The period ``raw['period']`` names, from its own fields only.

    A field of another kind of period that is filled in is an error at that field, never ignored: a
    quarter typed while "the whole term" is chosen would otherwise download the whole term without a word.
    """
    choice = (raw.get("period") or "range").strip() if isinstance(raw.get("period") or "", str) else None
    if choice not in CHOICES:
        raise InvalidInput.at("period", "Choose the whole term, a month, a quarter or a date range.")
    errors = FieldErrors()
    for other, fields in FIELDS.items():
        for field in fields:
            if other != choice and _given(raw.get(field)):
                errors.add(field, f"This is for {LABELS[other]}, but {LABELS[choice]} is chosen: choose "
                                  f"{LABELS[other]} as the period, or clear this field.")
    errors.raise_if_any()
    if choice == "term":
        return ExportPeriod(alliance.start_date, alliance.term_end)
    if choice == "month":
        return parse_month(raw.get("month"))
    if choice == "quarter":
        return parse_quarter(raw.get("quarter"))
    return date_range(alliance, raw.get("from"), raw.get("to"))


def parse_format(value: object, field: str = "format") -> str:
    text = (value or "xlsx").strip().lower() if isinstance(value or "", str) else None
    if text not in FORMATS:
        raise InvalidInput.at(field, "Choose xlsx or csv.")
    return text


def _given(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def file_name(alliance: Alliance, period: ExportPeriod, exported_at: datetime, fmt: str,
              chain_head: str | None = None) -> str:
    """``alliance-12-ppe-masks-2020_2020-04-01_2020-06-30_exported-20201001T101500Z.xlsx``: says what and when.

    With ``chain_head`` the name ends ``..._chain-42-3fa9c1d2e4b5a6f7.xlsx``, so even a CSV (which has no room for
    it inside) carries the fingerprint of the alliance's hash chain at export time.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", alliance.name.lower()).strip("-")[:40] or "alliance"
    stamp = exported_at.strftime("%Y%m%dT%H%M%SZ")
    chain = f"_chain-{chain_head}" if chain_head else ""
    return (f"alliance-{alliance.id}-{slug}_{period.start.isoformat()}_{period.end.isoformat()}_exported-{stamp}"
            f"{chain}.{fmt}")
