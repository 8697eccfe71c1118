"""parse_amount: every spelling people type is either read exactly or refused with a message, never guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.errors import InvalidInput
from ledger.domain.money import (
    MAX_AMOUNT,
    Money,
    minor_digits,
    parse_amount,
    parse_currency,
    to_decimal_string,
)


@pytest.mark.parametrize(("text", "cents"), [
    ("1234.56", 123456),
    ("1,234.56", 123456),
    ("1.234,56", 123456),
    ("1234,56", 123456),
    ("1 234,56", 123456),
    ("1\u00a0234,56", 123456),  # no-break space, as a phone keyboard or a copied figure gives it
    ("1'234.56", 123456),  # Swiss grouping
    ("1,234,567.89", 123456789),
    ("1.234.567,89", 123456789),
    ("1.234.567", 123456700),  # two groups: only grouping reads this way
    ("0.5", 50),
    (".5", 50),
    ("0,5", 50),
    ("12", 1200),
    ("+12", 1200),
    ("  42.10 ", 4210),
    ("1000000000.00", 100_000_000_000),
    ("0.01", 1),
])
def test_accepted_spellings(text, cents):
    result = parse_amount(text, "EUR")
    assert result == cents
    assert type(result) is int


def test_integers_are_accepted_as_whole_units():
    assert parse_amount(12, "EUR") == 1200
    assert parse_amount(12, "JPY") == 12


@pytest.mark.parametrize(("text", "words"), [
    ("abc", "not an amount"),
    ("", "Enter an amount"),
    ("   ", "Enter an amount"),
    ("-", "Enter an amount"),
    ("+", "Enter an amount"),
    ("12.345", "ambiguous"),
    ("1,234", "ambiguous"),
    ("1.2.3", "not an amount"),
    ("12,34.56", "not an amount"),
    ("1,2345.00", "not an amount"),
    ("1e5", "not an amount"),
    ("12.3456", "at most 2 decimals"),
    ("0.125", "at most 2 decimals"),  # a leading zero is never a thousands group, so not ambiguous
    ("1.234,567", "at most 2 decimals"),
    ("0", "cannot be zero"),
    ("0.00", "cannot be zero"),
    ("-0", "cannot be zero"),
    ("-5", "must be positive"),
    ("1000000000.01", "cannot be over 1,000,000,000.00"),
    ("1000000001", "cannot be over"),
    # 28+ significant digits used to overflow the decimal context in quantize(): a 500, not a message.
    ("1234567890123456789012345678.1234", "cannot be over"),
    ("9" * 41, "too long"),
])
def test_refusals_name_the_problem(text, words):
    with pytest.raises(InvalidInput) as exc:
        parse_amount(text, "EUR")
    assert list(exc.value.errors) == ["amount"]
    assert words in exc.value.errors["amount"]


def test_ambiguous_message_offers_both_readings():
    with pytest.raises(InvalidInput) as exc:
        parse_amount("12.345", "EUR")
    message = exc.value.errors["amount"]
    assert "12345" in message
    assert "12.34" in message


@pytest.mark.parametrize("value", [1.5, 0.1, float("nan"), None, True, False, [], {}, Decimal("1.5")])
def test_non_text_values_are_refused(value):
    with pytest.raises(InvalidInput) as exc:
        parse_amount(value, "EUR")
    assert "amount" in exc.value.errors


def test_floats_get_a_hint_to_send_a_string():
    with pytest.raises(InvalidInput) as exc:
        parse_amount(1234.56, "EUR")
    assert "decimal string" in exc.value.errors["amount"]


def test_field_name_is_the_callers():
    with pytest.raises(InvalidInput) as exc:
        parse_amount("x", "EUR", field="pools-0-amount")
    assert list(exc.value.errors) == ["pools-0-amount"]


def test_negative_and_zero_when_allowed():
    assert parse_amount("-5", "EUR", allow_negative=True) == -500
    assert parse_amount("-1.234,50", "EUR", allow_negative=True) == -123450
    assert parse_amount("0", "EUR", allow_zero=True) == 0
    with pytest.raises(InvalidInput, match="over"):
        parse_amount("-1000000000.01", "EUR", allow_negative=True)


class TestCurrencyPrecision:
    def test_jpy_has_no_decimals(self):
        assert minor_digits("JPY") == 0
        assert parse_amount("1234", "JPY") == 1234
        assert parse_amount("1.234.567", "JPY") == 1234567
        assert parse_amount("1,234,567", "JPY") == 1234567
        assert parse_amount("5.", "JPY") == 5
        with pytest.raises(InvalidInput, match="at most 0 decimals"):
            parse_amount("12.5", "JPY")

    def test_jpy_ambiguous_message_does_not_suggest_decimals(self):
        with pytest.raises(InvalidInput) as exc:
            parse_amount("1,234", "JPY")
        message = exc.value.errors["amount"]
        assert "1234" in message
        assert "decimals" not in message

    @pytest.mark.parametrize("currency", ["BHD", "KWD"])
    def test_three_decimal_currencies(self, currency):
        assert minor_digits(currency) == 3
        # With three minor digits a three-digit fraction is the ordinary way to write fils.
        assert parse_amount("12.345", currency) == 12345
        assert parse_amount("1.234,567", currency) == 1234567
        assert parse_amount("1,234.5", currency) == 1234500
        assert parse_amount("0.001", currency) == 1
        with pytest.raises(InvalidInput, match="at most 3 decimals"):
            parse_amount("1.2345", currency)
        with pytest.raises(InvalidInput, match="over"):
            parse_amount("1000000000.001", currency)


@given(st.integers(min_value=1, max_value=100_000_000_000))
def test_every_cent_amount_round_trips_through_its_decimal_string(cents):
    text = to_decimal_string(cents, "EUR")
    assert parse_amount(text, "EUR") == cents


@given(st.integers(min_value=1, max_value=100_000_000_000), st.booleans())
def test_grouped_spellings_round_trip(cents, continental):
    whole, frac = divmod(cents, 100)
    grouped = f"{whole:,}"
    text = f"{grouped.replace(',', '.')},{frac:02d}" if continental else f"{grouped}.{frac:02d}"
    assert parse_amount(text, "EUR") == cents


@given(st.text(max_size=30))
def test_any_text_is_read_or_refused_never_crashes(text):
    try:
        result = parse_amount(text, "EUR")
    except InvalidInput as exc:
        errors = exc.errors
    else:
        errors = {"amount": None}
        assert type(result) is int
        assert 0 < result <= MAX_AMOUNT * 100
    assert set(errors) == {"amount"}


class TestMoney:
    def test_decimal_string_and_arithmetic(self):
        assert str(Money(123456, "EUR")) == "1234.56"
        assert str(Money(-5, "EUR")) == "-0.05"
        assert str(Money(1234, "JPY")) == "1234"
        assert str(Money(1234567, "BHD")) == "1234.567"
        assert (Money(150, "EUR") + Money(1, "EUR")).cents == 151
        assert (Money(150, "EUR") - Money(151, "EUR")).cents == -1
        assert (-Money(1, "EUR")).cents == -1
        assert Money(123456, "EUR").decimal == Decimal("1234.56")

    def test_refuses_floats_and_mixed_currencies(self):
        with pytest.raises(TypeError):
            Money(1.5, "EUR")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            Money(True, "EUR")
        with pytest.raises(ValueError, match="mix"):
            Money(1, "EUR") + Money(1, "USD")


@pytest.mark.parametrize(("text", "code"), [("EUR", "EUR"), (" eur ", "EUR"), ("jpy", "JPY")])
def test_parse_currency(text, code):
    assert parse_currency(text) == code


@pytest.mark.parametrize("text", ["", None, "EURO", "XYZ", "€", 978, ["EUR"]])
def test_parse_currency_refusals(text):
    with pytest.raises(InvalidInput) as exc:
        parse_currency(text)
    assert list(exc.value.errors) == ["currency"]
