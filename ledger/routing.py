"""The ``<id:...>`` URL converter every route uses for database ids.

A plain ``<int:...>`` accepts any number of digits; SQLite raises
OverflowError past 64 bits and PostgreSQL "integer out of range" past 2**31,
both a 500. Bounding ids in the URL turns such a request into an ordinary 404.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from ledger.db import MAX_ID


class IdConverter(IntegerConverter):
    """A positive id that fits the database's integer columns."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)
