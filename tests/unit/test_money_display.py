"""Amounts on pages: the quick layouts write exactly what Babel writes, in every locale and currency."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ledger.web.formatting import Layout, _writer, babel_money

LOCALES = ("en", "en_GB", "en_IN", "de", "de_CH", "fr", "nl", "sv", "es", "pl", "pt_BR", "ja", "hi", "ar", "fa",
           "he")
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "JPY", "INR", "BHD", "SEK")


@given(st.sampled_from(LOCALES), st.sampled_from(CURRENCIES), st.integers(min_value=-10**17, max_value=10**17))
def test_every_amount_reads_as_babel_writes_it(locale, currency, cents):
    assert _writer(currency, locale)(cents) == babel_money(cents, currency, locale)


def test_the_usual_pairs_take_the_quick_layout():
    assert isinstance(_writer("EUR", "en"), Layout)
    assert _writer("EUR", "en")(-123456789) == "-€1,234,567.89"
    assert _writer("INR", "en_IN")(1234567890) == "₹1,23,45,678.90"  # lakhs: groups of two after the first three
    assert _writer("JPY", "ja")(-1234567) == "-￥1,234,567"  # no minor unit
    assert _writer("BHD", "en")(1234567) == "BHD1,234.567"  # three minor digits


def test_a_pattern_the_layout_cannot_follow_is_left_to_babel():
    """Babel writes Swiss German amounts ungrouped, with the minus after the symbol: no layout says that."""
    writer = _writer("CHF", "de_CH")
    assert not isinstance(writer, Layout)
    assert writer(-123456) == babel_money(-123456, "CHF", "de_CH")
