"""Text and date fields: trimmed, length-limited, inside the alliance's term, refused with a message."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain.errors import FieldErrors, InvalidInput
from ledger.domain.permissions import can_manage, can_record, can_record_for
from ledger.domain.text import check_in_term, clean_text, parse_date, parse_whole_number, whole_number
from ledger.domain.vocabulary import MemberRole


class TestCleanText:
    def test_trims(self):
        assert clean_text("  Fabric rolls  ", "description", max_len=10_000) == "Fabric rolls"

    def test_optional_and_required(self):
        assert clean_text(None, "reference", max_len=10, required=False) == ""
        assert clean_text("   ", "reference", max_len=10, required=False) == ""
        with pytest.raises(InvalidInput) as exc:
            clean_text("  ", "description", max_len=10)
        assert exc.value.errors == {"description": "Enter the description."}

    def test_length_limit_counts_characters_after_trimming(self):
        assert clean_text(" " + "\u00e8" * 5 + " ", "name", max_len=5) == "\u00e8" * 5
        with pytest.raises(InvalidInput) as exc:
            clean_text("x" * 6, "name", max_len=5)
        assert "at most 5 characters" in exc.value.errors["name"]

    def test_line_breaks_from_a_textarea_are_kept_as_newlines(self):
        """Browsers send CRLF from a textarea: that is a line break, not a control character."""
        assert clean_text("first line\r\nsecond\rthird", "note", max_len=100) == "first line\nsecond\nthird"

    @pytest.mark.parametrize("value", ["bell\x07", "nul\x00byte", "esc\x1b[31m"])
    def test_control_characters(self, value):
        with pytest.raises(InvalidInput, match="control characters"):
            clean_text(value, "description", max_len=100)

    @pytest.mark.parametrize("value", [12, 1.5, ["a"], {"a": 1}, True])
    def test_non_text(self, value):
        with pytest.raises(InvalidInput) as exc:
            clean_text(value, "description", max_len=100)
        assert "must be text" in exc.value.errors["description"]

    def test_label(self):
        with pytest.raises(InvalidInput) as exc:
            clean_text("", "pools-0-name", max_len=10, label="pool name")
        assert exc.value.errors == {"pools-0-name": "Enter the pool name."}


class TestDates:
    @pytest.mark.parametrize("value", ["2020-05-01", " 2020-05-01 ", date(2020, 5, 1)])
    def test_iso_dates(self, value):
        assert parse_date(value) == date(2020, 5, 1)

    @pytest.mark.parametrize(("value", "words"), [
        ("", "Enter a date"), (None, "Enter a date"), (20200501, "Enter a date"),
        ("01/05/2020", "not a date"), ("2020-02-30", "not a date"), ("yesterday", "not a date"),
        # Python's fromisoformat reads these too (the week date as 2019-12-30); the documented form is YYYY-MM-DD.
        ("20200501", "not a date"), ("2020-W01-1", "not a date"), ("2020W011", "not a date"),
    ])
    def test_refusals(self, value, words):
        with pytest.raises(InvalidInput) as exc:
            parse_date(value, "entry_date")
        assert words in exc.value.errors["entry_date"]

    def test_term(self):
        start, end = date(2020, 4, 1), date(2022, 3, 31)
        assert check_in_term(start, start, end) == start
        assert check_in_term(end, start, end) == end
        for day in (date(2020, 3, 31), date(2022, 4, 1)):
            with pytest.raises(InvalidInput) as exc:
                check_in_term(day, start, end)
            assert "2020-04-01 to 2022-03-31" in exc.value.errors["date"]


class TestFieldErrors:
    def test_collects_every_field_and_keeps_the_first_message(self):
        errors = FieldErrors()
        assert errors.check("a", clean_text, "", "a", max_len=5) is None
        assert errors.check("b", clean_text, "ok", "b", max_len=5) == "ok"
        errors.add("a", "second message")
        with pytest.raises(InvalidInput) as exc:
            errors.raise_if_any()
        assert exc.value.errors == {"a": "Enter the a."}

    def test_no_errors_raises_nothing(self):
        FieldErrors().raise_if_any()


class TestPermissions:
    def test_roles(self):
        assert can_manage(MemberRole.COORDINATOR)
        assert not any(can_manage(r) for r in MemberRole if r is not MemberRole.COORDINATOR)
        assert can_record(MemberRole.PARTNER_MEMBER)
        assert can_record(MemberRole.COORDINATOR)
        assert not can_record(MemberRole.ACCOUNTANT)
        assert not can_record(MemberRole.STEERING_MEMBER)

    def test_record_for(self):
        assert can_record_for(MemberRole.COORDINATOR, None, 7)
        assert can_record_for(MemberRole.PARTNER_MEMBER, 7, 7)
        assert not can_record_for(MemberRole.PARTNER_MEMBER, 7, 8)
        assert not can_record_for(MemberRole.ACCOUNTANT, None, 7)
        assert not can_record_for(MemberRole.STEERING_MEMBER, 7, 7)


class TestWholeNumber:
    @pytest.mark.parametrize("value", ["\u00b2", "\u2460", "\u0663", "1\u00b2", "12a", "", " ", "-1", "+1", "1.0",
                                       "9" * 5000, None, 12])
    def test_anything_but_ascii_digits_is_none(self, value):
        assert whole_number(value, 10**9) is None

    def test_bounds(self):
        assert whole_number(" 42 ", 100) == 42
        assert whole_number("0", 100) is None
        assert whole_number("0", 100, smallest=0) == 0
        assert whole_number("101", 100) is None
        assert whole_number("0100", 100) is None  # longer than the largest: refused without int()

    def test_parse_whole_number_names_the_field(self):
        with pytest.raises(InvalidInput) as exc:
            parse_whole_number("\u2460", "limit", 500, "The limit is a whole number.")
        assert exc.value.errors == {"limit": "The limit is a whole number."}
