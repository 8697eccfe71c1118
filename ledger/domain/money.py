"""Money as integer minor units plus an ISO 4217 currency.

Amounts arrive as text typed by people from several countries ("1234.56",
"1,234.56", "1.234,56"). They are parsed with ``decimal`` and turned into an
exact integer count of minor units; a float never touches them. Input whose
meaning depends on the reader's locale ("1.234" is 1234 in Italy and 1.234
elsewhere) is refused rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision, list_currencies

from ledger.domain.errors import InvalidInput

#: The largest single amount the ledger accepts, in major units.
MAX_AMOUNT = Decimal("1000000000.00")

_SPACES = re.compile(r"[\s\u00a0\u202f']")
_DIGITS = re.compile(r"^\d+$")


def is_currency(code: str) -> bool:
    return isinstance(code, str) and len(code) == 3 and code in _known_currencies()


def _known_currencies() -> frozenset[str]:
    global _CURRENCIES
    if _CURRENCIES is None:
        _CURRENCIES = frozenset(list_currencies())
    return _CURRENCIES


_CURRENCIES: frozenset[str] | None = None


def parse_currency(text: object) -> str:
    code = text.strip().upper() if isinstance(text, str) else ""  # a JSON number or list is no code either
    if not code:
        raise InvalidInput.at("currency", "Enter a currency code such as EUR.")
    if not is_currency(code):
        raise InvalidInput.at("currency", f"{code[:10]} is not an ISO 4217 currency code.")
    return code


def minor_digits(currency: str) -> int:
    """How many decimals the currency has (EUR 2, JPY 0, BHD 3)."""
    return int(get_currency_precision(currency))


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: ``cents`` minor units of ``currency``."""

    cents: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.cents, int) or isinstance(self.cents, bool):
            raise TypeError("Money.cents must be an int")

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.cents).scaleb(-minor_digits(self.currency))

    def __str__(self) -> str:
        """Plain decimal string, the form the API uses ("1234.56")."""
        return to_decimal_string(self.cents, self.currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents - other.cents, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")


def to_decimal_string(cents: int, currency: str) -> str:
    digits = minor_digits(currency)
    return f"{Decimal(cents).scaleb(-digits):.{digits}f}"


def to_display_string(cents: int, currency: str) -> str:
    """Code, grouped digits and the currency's decimals ("EUR 1,243.57"): for plain-text summaries."""
    digits = minor_digits(currency)
    return f"{currency} {Decimal(cents).scaleb(-digits):,.{digits}f}"


def parse_amount(text: object, currency: str, *, field: str = "amount",
                 allow_zero: bool = False, allow_negative: bool = False) -> int:
    """Parse typed text into minor units of ``currency``.

    Accepts a plain decimal point, a decimal comma, and thousands groups in
    either style when the reading is unambiguous. Refuses more decimals than
    the currency has, amounts over :data:`MAX_AMOUNT`, and zero or negative
    amounts unless the caller allows them.
    """
    if isinstance(text, bool) or text is None:
        raise InvalidInput.at(field, "Enter an amount.")
    if isinstance(text, int):
        if abs(text) > MAX_AMOUNT:  # before str(): an int of over 4,300 digits raises ValueError there (a 500)
            raise InvalidInput.at(field, "The amount cannot be over 1,000,000,000.00.")
        text = str(text)
    if isinstance(text, float):
        raise InvalidInput.at(field, "Send the amount as a decimal string such as \"1234.56\".")
    if not isinstance(text, str):
        raise InvalidInput.at(field, "Enter an amount such as 1234.56.")
    raw = _SPACES.sub("", text)
    if not raw:
        raise InvalidInput.at(field, "Enter an amount.")
    if len(raw) > 40:
        raise InvalidInput.at(field, "That amount is too long.")
    negative = raw.startswith("-")
    if raw[0] in "+-":
        raw = raw[1:]
    if not raw:
        raise InvalidInput.at(field, "Enter an amount.")
    value = _normalise(raw, field, minor_digits(currency))
    if negative:
        value = -value
    digits = minor_digits(currency)
    # The limit goes first: quantize() of a huge value overflows the decimal context (a 500, not a message).
    if abs(value) > MAX_AMOUNT:
        raise InvalidInput.at(field, "The amount cannot be over 1,000,000,000.00.")
    if value.as_tuple().exponent < -digits and value != value.quantize(Decimal(1).scaleb(-digits)):
        raise InvalidInput.at(field, f"Use at most {digits} decimals for {currency}.")
    cents = int(value.scaleb(digits).to_integral_value())
    if cents == 0 and not allow_zero:
        raise InvalidInput.at(field, "The amount cannot be zero.")
    if cents < 0 and not allow_negative:
        raise InvalidInput.at(field, "The amount must be positive; record a reversal to correct an entry.")
    return cents


def _normalise(raw: str, field: str, digits: int) -> Decimal:
    """Turn "1.234,56" / "1,234.56" / "1234,5" into a Decimal, refusing guesses."""
    not_a_number = InvalidInput.at(field, f"\u201c{raw[:20]}\u201d is not an amount; write it like 1234.56.")
    if not re.fullmatch(r"[\d.,]+", raw) or not any(ch.isdigit() for ch in raw):
        raise not_a_number
    dots, commas = raw.count("."), raw.count(",")
    if dots and commas:
        decimal_sep = "." if raw.rfind(".") > raw.rfind(",") else ","
        group_sep = "," if decimal_sep == "." else "."
        if raw.count(decimal_sep) > 1:
            raise not_a_number
        whole, frac = raw.split(decimal_sep)
        return _join(_ungroup(whole, group_sep, not_a_number), frac, not_a_number)
    sep = "." if dots else "," if commas else None
    if sep is None:
        return Decimal(raw)
    count = dots or commas
    if count > 1:
        return Decimal(_ungroup(raw, sep, not_a_number))
    whole, frac = raw.split(sep)
    if len(frac) == 3 and whole and whole != "0" and digits != 3:
        decimals = f", or {whole}.{frac[:digits]} with {digits} decimals" if digits else ""
        raise InvalidInput.at(
            field, f"\u201c{raw}\u201d is ambiguous: write {whole}{frac} without a separator{decimals}.")
    return _join(whole or "0", frac, not_a_number)


def _ungroup(whole: str, sep: str, error: InvalidInput) -> str:
    groups = whole.split(sep)
    if not groups[0] or len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:]):
        raise error
    joined = "".join(groups)
    if not _DIGITS.match(joined):
        raise error
    return joined


def _join(whole: str, frac: str, error: InvalidInput) -> Decimal:
    if not _DIGITS.match(whole) or (frac and not _DIGITS.match(frac)):
        raise error
    try:
        return Decimal(f"{whole}.{frac}" if frac else whole)
    except InvalidOperation:
        raise error from None
