"""Showing money and dates the way people read them; template filters.

Formatting lives at the edge: the domain keeps integer minor units, and
only here are they turned into "€1,243.57" (Babel, in the configured locale).
"""

from __future__ import annotations

from datetime import date, datetime

from babel.numbers import format_currency
from flask import Flask, current_app

from ledger.domain.money import Money, to_decimal_string


def money(cents: int | None, currency: str, *, signed: bool = False) -> str:
    if cents is None:
        return ""
    text = format_currency(Money(cents, currency).decimal, currency,
                           locale=current_app.config.get("LOCALE", "en"))
    if signed and cents > 0:
        text = "+" + text
    return text


def amount_input(cents: int, currency: str) -> str:
    """The plain form an amount is typed back in (1234.56)."""
    return to_decimal_string(cents, currency)


def day(value: date | datetime | str | None) -> str:
    """A day, or an instant to the minute in UTC; ISO text (a frozen snapshot's ``taken_at``) reads the same."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def init_app(app: Flask) -> None:
    app.add_template_filter(day, "day")
    app.add_template_global(money, "money")
    app.add_template_global(amount_input, "amount_input")
