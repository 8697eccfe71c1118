"""Plain-text and date fields: trimmed, length-limited, inside the alliance's term."""

from __future__ import annotations

import re
from datetime import date

from ledger.domain.errors import InvalidInput

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def unreadable(text: str, label: str) -> str | None:
    """Why ``text`` cannot be stored as text, or None.

    A lone surrogate ("\\ud800", valid in JSON) has no UTF-8 form: the database driver raised on it, a 500.
    U+FFFD is what a browser sends for one, and what decoding leaves where bytes were not UTF-8: text that
    could not be read, which the books should not keep either.
    """
    if "\ufffd" in text:
        return f"The {label} contains \ufffd, the mark left where text could not be read; type it again."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"The {label} contains a character that is not text (a lone surrogate such as \\ud800); send UTF-8."
    return None


def clean_text(value: object, field: str, *, max_len: int, required: bool = True,
               label: str | None = None) -> str:
    """Trimmed text; refuses missing required text, over-long text and control characters."""
    label = label or field.replace("_", " ")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput.at(field, f"The {label} must be text.")
    # Browsers send textarea line breaks as CRLF; without this every multi-line note would be "control characters".
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not text:
        raise InvalidInput.at(field, f"Enter the {label}.")
    problem = unreadable(text, label)
    if problem:
        raise InvalidInput.at(field, problem)
    if len(text) > max_len:
        raise InvalidInput.at(field, f"The {label} can be at most {max_len} characters (it has {len(text)}).")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text) or "\x00" in text:
        raise InvalidInput.at(field, f"The {label} contains control characters.")
    return text


def whole_number(value: object, largest: int, smallest: int = 1) -> int | None:
    """A count, id or position typed as text: ASCII digits from ``smallest`` to ``largest``, else None.

    The one place text becomes a whole number. ``str.isdigit()`` alone also passes "\u00b2" and "\u2460", on
    which ``int()`` raises (a 500), and 5,000-digit strings, on which it is slow; the length is bounded first.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(largest))):
        return None
    number = int(text)
    return number if smallest <= number <= largest else None


def parse_whole_number(value: object, field: str, largest: int, message: str, smallest: int = 1) -> int:
    """:func:`whole_number`, or ``message`` at ``field``."""
    number = whole_number(value, largest, smallest)
    if number is None:
        raise InvalidInput.at(field, message)
    return number


def parse_date(value: object, field: str = "date") -> date:
    """An ISO date (YYYY-MM-DD), the form HTML date inputs and the API send."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput.at(field, "Enter a date (YYYY-MM-DD).")
    not_a_date = InvalidInput.at(field, f"\u201c{value.strip()[:20]}\u201d is not a date; use YYYY-MM-DD.")
    # Python also reads 20200501 and ISO week dates (2020-W01-1 is 2019-12-30): only the documented form is a date.
    if not _ISO_DATE.fullmatch(value.strip()):
        raise not_a_date
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise not_a_date from None


def check_in_term(day: date, start: date, end: date, field: str = "date") -> date:
    if not start <= day <= end:
        raise InvalidInput.at(
            field, f"The date must be within the alliance's term, {start.isoformat()} to {end.isoformat()}."
        )
    return day
