"""Targets of value creation: periods, typed quantities, and whether a period met its target.

A target is measured over calendar periods (a month, a quarter, a year) or
over the whole term. A measurement is filed under the first day of its
period, so "any day in June" and "2020-06" land on the same row. Quantities
are exact ``Decimal`` values with at most four decimals (masks, euros per
mask), parsed from what people type ("2,000,000") and never from floats'
binary guesses.

Everything here is plain Python so the pages, the API, the checkpoint
snapshot and the property tests share one set of rules.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from ledger.domain.errors import InvalidInput
from ledger.domain.vocabulary import TargetCombine, TargetDirection, TargetPeriod

QUANTITY_DECIMALS = 4
#: Values must stay below this in size: the column keeps ten-thousandths in a 64-bit integer.
MAX_QUANTITY = Decimal(10) ** 14

_PLAIN = re.compile(r"^\d+(\.\d+)?$")
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


# ---- periods ----------------------------------------------------------------------------------------------

def _quarter_first_month(month: int) -> int:
    return 3 * ((month - 1) // 3) + 1


def period_start(day: date, period: TargetPeriod, term_start: date) -> date:
    """The first day of the period that contains ``day`` (the term's start for a whole-term target)."""
    if period is TargetPeriod.MONTH:
        return day.replace(day=1)
    if period is TargetPeriod.QUARTER:
        return date(day.year, _quarter_first_month(day.month), 1)
    if period is TargetPeriod.YEAR:
        return date(day.year, 1, 1)
    return term_start


def period_end(start: date, period: TargetPeriod, term_end: date) -> date:
    """The last day of the period beginning on ``start`` (the term's end for a whole-term target)."""
    if period is TargetPeriod.MONTH:
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    if period is TargetPeriod.QUARTER:
        last_month = _quarter_first_month(start.month) + 2
        return date(start.year, last_month, calendar.monthrange(start.year, last_month)[1])
    if period is TargetPeriod.YEAR:
        return date(start.year, 12, 31)
    return term_end


def next_period_start(start: date, period: TargetPeriod) -> date | None:
    """The first day of the following period; None for a whole-term target (there is only one)."""
    if period is TargetPeriod.TERM:
        return None
    months = {TargetPeriod.MONTH: 1, TargetPeriod.QUARTER: 3, TargetPeriod.YEAR: 12}[period]
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_starts(period: TargetPeriod, term_start: date, upto: date) -> list[date]:
    """Every period's first day from the one holding the term's start up to the one holding ``upto``."""
    if upto < term_start:
        return []
    starts = []
    current: date | None = period_start(term_start, period, term_start)
    while current is not None and current <= upto:
        starts.append(current)
        current = next_period_start(current, period)
    return starts


def period_label(start: date, period: TargetPeriod) -> str:
    """How people name a period: "May 2020", "Q2 2020", "2020", "Whole term"."""
    if period is TargetPeriod.MONTH:
        return f"{calendar.month_name[start.month]} {start.year}"
    if period is TargetPeriod.QUARTER:
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if period is TargetPeriod.YEAR:
        return str(start.year)
    return "Whole term"


def parse_period_day(value: object, field: str = "period") -> date:
    """A day in the period: an ISO date, or a month as "2020-05" (its first day)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput.at(field, "Enter the period: a month (YYYY-MM) or any day in it (YYYY-MM-DD).")
    text = value.strip()
    month = _MONTH.match(text)
    try:
        if month:
            return date(int(month.group(1)), int(month.group(2)), 1)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput.at(field, f"\u201c{text[:20]}\u201d is not a period; use YYYY-MM or YYYY-MM-DD.") from None


# ---- quantities -------------------------------------------------------------------------------------------

def _bounded(value: Decimal, field: str, label: str, allow_negative: bool) -> Decimal:
    if not value.is_finite():
        raise InvalidInput.at(field, f"The {label} must be a number.")
    if value < 0 and not allow_negative:
        raise InvalidInput.at(field, f"The {label} cannot be negative.")
    if abs(value) >= MAX_QUANTITY:
        raise InvalidInput.at(field, f"The {label} must be under {MAX_QUANTITY:,f}.")
    if value != round(value, QUANTITY_DECIMALS):
        raise InvalidInput.at(field, f"Use at most {QUANTITY_DECIMALS} decimals in the {label}.")
    return normalised(value)


def parse_quantity(value: object, field: str = "value", *, label: str = "value",
                   allow_negative: bool = False) -> Decimal:
    """Text or a JSON number into an exact Decimal (at most 4 decimals, under 10**14 in size).

    Accepts "2000000", "2,000,000" (commas only between groups of three),
    "2000000.5" and JSON numbers. Refuses NaN, infinities, exponents
    ("1e6"), decimal commas ("1,5" reads differently across Europe) and
    anything else that is not plainly a number.
    """
    if isinstance(value, bool) or value is None:
        raise InvalidInput.at(field, f"Enter the {label}.")
    if isinstance(value, int):
        return _bounded(Decimal(value), field, label, allow_negative)
    if isinstance(value, float):
        # A JSON number arrives as a float; its shortest repr is the text the client sent.
        text = repr(value)
        if not re.fullmatch(r"-?\d+(\.\d+)?", text):
            raise InvalidInput.at(field, f"The {label} must be a plain number such as 2000000.5.")
        return _bounded(Decimal(text), field, label, allow_negative)
    if isinstance(value, Decimal):
        return _bounded(value, field, label, allow_negative)
    if not isinstance(value, str):
        raise InvalidInput.at(field, f"The {label} must be a number such as 2000000 or 2,000,000.")
    text = _SPACES.sub("", value)
    if not text:
        raise InvalidInput.at(field, f"Enter the {label}.")
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if _GROUPED.match(digits):
        digits = digits.replace(",", "")
    elif "," in digits:
        raise InvalidInput.at(field, f"Use a point for decimals and commas only between thousands "
                                     f"(2,000,000.5) in the {label}.")
    if not _PLAIN.match(digits):
        raise InvalidInput.at(field, f"The {label} must be a number such as 2000000 or 2,000,000.")
    try:
        number = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise InvalidInput.at(field, f"The {label} must be a number.") from None
    return _bounded(-number if negative else number, field, label, allow_negative)


def normalised(value: Decimal) -> Decimal:
    """Trailing zeros dropped, whole numbers without exponent (Decimal("2E+6") would print as such)."""
    if value == 0:
        return Decimal(0)
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def plain(value: Decimal | None) -> str | None:
    """A Decimal as a plain string without exponent or trailing zeros ("2000000", "0.25"); None stays None."""
    if value is None:
        return None
    return format(normalised(value), "f")


def grouped(value: Decimal | str | None) -> str:
    """For people: "2,000,000", "0.25", "1,234.5"; empty for None."""
    if value is None:
        return ""
    return format(normalised(Decimal(value)), ",f")


# ---- actuals against targets ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Figure:
    """One measurement as the arithmetic sees it: whose, how much, and its place in recording order."""

    partner: Hashable
    value: Decimal
    #: Larger is newer (the measurement's id): the newest figure of a partner supersedes its earlier ones.
    order: int


def current_figures(figures: Iterable[Figure]) -> list[Figure]:
    """Each partner's newest figure for a period (the ones that count), in partner order of first figure."""
    newest: dict[Hashable, Figure] = {}
    for figure in figures:
        held = newest.get(figure.partner)
        if held is None or figure.order > held.order:
            newest[figure.partner] = figure
    return list(newest.values())


def combine(figures: Iterable[Figure], how: TargetCombine) -> Decimal | None:
    """A period's actual: the sum of each partner's newest figure, or the newest figure of all; None if none."""
    current = current_figures(figures)
    if not current:
        return None
    if how is TargetCombine.SUM:
        return normalised(sum((f.value for f in current), Decimal(0)))
    return normalised(max(current, key=lambda f: f.order).value)


def met(actual: Decimal | None, target: Decimal | None, direction: TargetDirection) -> bool | None:
    """Whether a period reached its target; None when either figure is missing (nothing to judge)."""
    if actual is None or target is None:
        return None
    return actual >= target if direction is TargetDirection.AT_LEAST else actual <= target
