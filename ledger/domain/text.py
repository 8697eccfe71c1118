"""Plain-text and date fields: trimmed, length-limited, inside the alliance's term."""

from __future__ import annotations

import re
from datetime import date

from ledger.domain.errors import InvalidInput

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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
    if len(text) > max_len:
        raise InvalidInput.at(field, f"The {label} can be at most {max_len} characters (it has {len(text)}).")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text) or "\x00" in text:
        raise InvalidInput.at(field, f"The {label} contains control characters.")
    return text


def parse_whole_number(value: str, field: str, largest: int, message: str) -> int:
    """A count or position typed as text: ASCII digits, from 1 to ``largest``; else ``message`` at ``field``.

    ``str.isdigit()`` alone also passes "²" and 5,000-digit strings, on which ``int()`` raises (a 500).
    """
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(largest))) or not 1 <= int(text) <= largest:
        raise InvalidInput.at(field, message)
    return int(text)


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
