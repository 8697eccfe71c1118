"""The ``<id:...>`` URL converter every route uses for database ids.

A plain ``<int:...>`` accepts any number of digits; SQLite raises
OverflowError past 64 bits and PostgreSQL "integer out of range" past 2**31,
both a 500. Bounding ids in the URL turns such a request into an ordinary 404.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from ledger.db import MAX_ID


def up_to(limit: int) -> str:
    """A regex for the decimal numbers 1 to ``limit`` (leading zeros allowed), and for nothing else.

    Werkzeug picks a rule by its regex and method first and checks a converter's min/max only after:
    a POST to ``/alliances/0/members`` failed that check and was answered 405 "method not allowed",
    because the GET rule of the same path had matched the regex. A regex that admits only ids in
    range makes such a URL match no rule at all: 404 for every method, as for any unknown URL.
    """
    digits = str(limit)
    shorter = [rf"[1-9]\d{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = []
    for index, digit in enumerate(digits):
        low = 1 if index == 0 else 0
        if int(digit) > low:
            rest = len(digits) - index - 1
            same_length.append(f"{digits[:index]}[{low}-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    return "0*(?:" + "|".join([*shorter, *same_length, digits]) + ")"


class IdConverter(IntegerConverter):
    """A positive id that fits the database's integer columns."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)
        self.regex = up_to(MAX_ID)
